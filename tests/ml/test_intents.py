"""Intent detection on the way students actually write to the tutor (real MiniLM embeddings)."""

import pytest

from tutor.ml.intents import ANSWER_REQUEST, MATERIAL, NEXT_STEP, SITE_HELP, SMALL_TALK, IntentClassifier
from tutor.ml.retrieval.embedder import get_embedder

PHRASINGS = {
    MATERIAL: [
        "What does REPL stand for?",
        "whats the difference between = and ==",
        "how do i make a list",
        "why is my while loop infinite",
        "is python case sensitive",
    ],
    ANSWER_REQUEST: [
        "whats the answer to question 4",
        "can u just tell me the answer to the REPL one",
        "do my homework pls",
        "what should I write for the question about variables",
    ],
    NEXT_STEP: [
        "what should i do next?",
        "what now",
        "I finished chapter 2, what should I work on",
        "where should I start",
    ],
    SITE_HELP: [
        "how do i submit my answer",
        "where can i see my grades",
        "how does this site work",
    ],
    SMALL_TALK: ["hi!", "thanks", "thank you so much!!", "good morning tutor", "bye"],
}


@pytest.fixture(scope="module")
def classifier():
    return IntentClassifier(get_embedder())


@pytest.mark.parametrize(
    "intent, text", [(intent, text) for intent, texts in PHRASINGS.items() for text in texts]
)
def test_intent_of_real_phrasings(classifier, intent, text):
    assert classifier.classify(text).name == intent


def test_questions_about_the_material_are_never_mistaken_for_something_else(classifier):
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "qa" / "intro-python.jsonl"
    questions = [json.loads(line)["q"] for line in path.read_text().splitlines() if line.strip()]
    assert len(questions) > 50
    wrong = [q for q in questions if classifier.classify(q).name != MATERIAL]
    assert wrong == []

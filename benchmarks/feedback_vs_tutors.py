"""Does the written feedback point at what SAF's human tutors pointed at?

    .venv/bin/python benchmarks/feedback_vs_tutors.py [--split train|unseen_answers] [--language en|de]
        [--verdicts tutors|served] [--reuse] [--n 400] [--seed 3]

SAF's answers (its English course, or its German one with ``--language de``) carry their tutor's written
feedback. For an answer that lost points, the words of that feedback which come from the reference answer,
and which the student's answer, the question and general use of the language (``feedback.GENERIC_ZIPF``)
do not already use, are the ideas the tutor said were
missing or wrong ("flagged words"; "ss_thresh" in "the slow start phase's description is missing how
ss_thresh changes when a packet is lost"). Per answer, with the teacher's verdict, it compares the words
of the reference that Tutor's feedback names (``feedback.align`` + ``compose``) with them:

- ``recall``: share of the flagged words the feedback names; ``precision``: share of the named words
  that were flagged; means over the answers that have flagged words.
- ``baseline_rarest``: the same number of words, the rarest reference words the answer lacks (what a
  keyword diff would say); ``ceiling_all``: every reference word the answer lacks (recall's upper bound
  for any feedback made of reference words, with its precision).
- ``--verdicts served``: the verdicts and points come from the served grader (the newest version under
  ``TUTOR_MODEL_DIR``, ONNX Runtime int8, as the product grades) instead of the tutors, so the feedback
  is measured as students get it. It adds ``full_marks_told_missing``, the share of the answers with
  full marks whose feedback still asks for more ("you could also mention"; with the tutors' points none
  is, by ``feedback.FULL_MARKS``), and ``called_correct_lost_points_hinted``, the share of the answers it
  calls correct that lost points with their tutor and are still told what to add.
- ``tutors_reuse`` (``--reuse``, on all SAF English training answers): how often the tutors gave the
  same feedback to two answers of one question that the MiniLM embedder finds near-identical, per
  cosine threshold: the share of answers with such a neighbour, and among them the share with the
  neighbour's verdict and with its exact feedback text. What a teacher's note on one answer could do
  for the next one like it.
- ``teacher_notes``: the product's note reuse (``memory.reusable_note``) with SAF's English training
  answers as the memory and their tutors' feedback as the notes: the share of the answers under test
  that get a note (a training answer of the same question at cosine >= ``MemoryConfig.note_similarity``
  with the same verdict), how often that note is the very text their own tutor wrote, and, where the
  answer lost points, the flagged words it names against those ``compose`` names for the same answers.

The feedback is tuned on SemEval (never on SAF); ``--split train`` is for development, the
unseen-answers split for the record. Prints one JSON object.
"""

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: E402

from _grading_data import load_split  # noqa: E402
from tutor.ml import feedback  # noqa: E402
from tutor.ml.grading.memory import AnswerMemory, GradedExample, reusable_note  # noqa: E402
from tutor.ml.grading.sources import load_training_items  # noqa: E402
from tutor.ml.retrieval.embedder import get_embedder  # noqa: E402


# Words of a grading rubric rather than of the subject ("the response is correct", "one of the following
# is considered fully correct"): never counted as an idea, whatever the feedback under test does with them.
RUBRIC = {
    "en": frozenset("""correct correctly incorrect considered following possible example examples answer
        answers response responses mention mentioned fully partially alternatively alternative stated states
        state explanation explains explained missing""".split()),
    "de": frozenset("""richtig korrekt falsch antwort antworten beispiel beispielsweise folgende folgenden
        punkte punkt genannt nennen erwähnt erwähnen vollständig teilweise fehlt fehlen""".split()),
}
SUBSETS = {"en": "english", "de": "german"}


class Measure:
    """The measure's own word definition in one language, fixed whatever feedback.py's stop words become:
    scikit-learn's English stop words, ``stop-words``' German ones, and wordfreq's frequencies of the language."""

    def __init__(self, language: str):
        from stop_words import get_stop_words

        self.language = language
        stop = ENGLISH_STOP_WORDS if language == "en" else frozenset(get_stop_words(language))
        self.stop = frozenset(stop) | RUBRIC[language]

    def words(self, text: str) -> set[str]:
        return {w for w in feedback._WORD.findall(text.lower()) if len(w) > 2 and w not in self.stop}

    def specific(self, text: str) -> set[str]:
        return {w for w in self.words(text) if self.zipf(w) < feedback.GENERIC_ZIPF}

    def zipf(self, word: str) -> float:
        return feedback._zipf(word, self.language)

    def new_reference_words(self, row, text: str) -> set[str]:
        """The specific words of the row's references that ``text`` uses and the answer and question don't."""
        reference = set().union(*(self.specific(r) for r in row.reference_answers))
        return (self.words(text) & reference) - self.words(row.answer) - self.words(row.question)

    def lacking(self, row) -> list[str]:
        """Reference words the answer and the question lack, rarest first."""
        reference = set().union(*(self.specific(r) for r in row.reference_answers))
        return sorted(reference - self.words(row.answer) - self.words(row.question), key=lambda w: (self.zipf(w), w))


def saf_training(language: str) -> list:
    return [r for r in load_training_items(["saf"], ROOT / "data" / "asag") if r.subset == SUBSETS[language]]


def precision_recall(named: set[str], flagged: set[str]) -> tuple[float, float]:
    hits = len(named & flagged)
    return (hits / len(named) if named else 0.0), hits / len(flagged)


def tutors_reuse(encoder, language: str, thresholds=(0.85, 0.9, 0.95)) -> dict:
    from collections import defaultdict

    rows = [r for r in saf_training(language) if r.feedback]
    vectors = np.asarray(encoder.encode([r.answer for r in rows]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    by_question = defaultdict(list)
    for i, row in enumerate(rows):
        by_question[row.question].append(i)
    nearest, same_verdict, same_feedback = [], [], []
    for ids in by_question.values():
        similarity = vectors[ids] @ vectors[ids].T
        np.fill_diagonal(similarity, -1.0)
        for a, i in enumerate(ids):
            j = ids[int(similarity[a].argmax())]
            nearest.append(similarity[a].max())
            same_verdict.append(rows[i].label == rows[j].label)
            same_feedback.append(rows[i].feedback.strip() == rows[j].feedback.strip())
    nearest, same_verdict, same_feedback = map(np.array, (nearest, same_verdict, same_feedback))
    result = {"answers": len(rows)}
    for t in thresholds:
        near = nearest >= t
        result[f"cosine_{t}"] = {"with_neighbour": round(float(near.mean()), 3),
                                 "same_verdict": round(float(same_verdict[near].mean()), 3),
                                 "same_feedback": round(float(same_feedback[near].mean()), 3)}
    return result


def notes_memory(encoder, language: str) -> AnswerMemory:
    """SAF training answers in ``language``, their tutors' feedback as teachers' notes."""
    from collections import defaultdict

    grouped = defaultdict(list)
    for row in saf_training(language):
        grouped[row.question].append(GradedExample(
            answer=row.answer, label=row.label or "", score=row.score / row.max_score if row.max_score else None,
            answer_id=row.answer_id, note=row.feedback.strip(),
        ))
    memory = AnswerMemory(encoder=encoder)
    for question, examples in grouped.items():
        memory.add(question=question, examples=examples)
    return memory


def teacher_notes(rows, encoder, composed: dict[str, str], measure: Measure) -> dict:
    """How the notes of near-identical training answers fare as feedback for ``rows`` (those with feedback and
    points, as ``main`` keeps them; see the docstring)."""
    memory = notes_memory(encoder, measure.language)
    notes = [reusable_note(r.label or "", vote, config=memory.config) for r, vote in zip(rows, memory.votes(rows))]
    noted = [(r, n) for r, n in zip(rows, notes) if n]
    lost_points = [(r, n) for r, n in noted if r.score < r.max_score and measure.new_reference_words(r, r.feedback)]
    result = {
        "min_similarity": memory.config.note_similarity,
        "answers": len(rows),
        "with_note": round(len(noted) / len(rows), 3),
        "note_is_their_tutors_text": round(float(np.mean([r.feedback.strip() == n for r, n in noted])), 3)
        if noted else None,
        "lost_points_with_flagged_words": len(lost_points),
    }
    # SAF holds many blank answers ("-"), whose note is "The response is empty": the rest, apart.
    worded = [(r, n) for r, n in noted if len(feedback._WORD.findall(r.answer)) >= 3]
    result["answers_of_3_words_or_more"] = {
        "with_note": round(len(worded) / len(rows), 3),
        "note_is_their_tutors_text": round(float(np.mean([r.feedback.strip() == n for r, n in worded])), 3)
        if worded else None,
    }
    for name, texts in (("note", [n for _, n in lost_points]), ("ours", [composed[r.answer_id] for r, _ in lost_points])):
        if lost_points:
            p, r = np.array([precision_recall(measure.new_reference_words(row, text),
                                              measure.new_reference_words(row, row.feedback))
                             for (row, _), text in zip(lost_points, texts)]).T
            result[name] = {"precision": round(float(p.mean()), 3), "recall": round(float(r.mean()), 3)}
    return result


def served_grades(rows) -> list[tuple[str, float]]:
    """(verdict, share of the points) for each row from the served grader, all four verdicts allowed."""
    from tutor.ml import registry
    from tutor.ml.grading.config import LABELS
    from tutor.ml.grading.predictor import get_predictor

    root = os.environ.get("TUTOR_MODEL_DIR", str(ROOT / "var" / "models"))
    predictor = get_predictor(registry.latest_version(root, "grader").path, int8=True, backend="onnx")
    return [(p.verdict, p.points(1.0)) for p in predictor.predict(rows, allowed_labels=LABELS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("train", "unseen_answers"), default="unseen_answers")
    parser.add_argument("--language", choices=tuple(SUBSETS), default="en", help="SAF's English or German course")
    parser.add_argument("--n", type=int, default=400, help="answers sampled from the train split")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="also measure how often the tutors reused feedback")
    parser.add_argument("--verdicts", choices=("tutors", "served"), default="tutors",
                        help="whose verdicts and points the feedback is written for")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    measure = Measure(args.language)
    split = f"saf_{SUBSETS[args.language]}_{args.split}"
    if args.split == "train":
        rows = sorted(saf_training(args.language), key=lambda r: r.answer_id)
        rows = random.Random(args.seed).sample(rows, min(args.n, len(rows)))
    else:
        rows = load_split(split)
    asks_for_more = feedback.PHRASINGS[args.language].for_full_marks.split("{}")[0]
    encoder = get_embedder()
    table = {"ours": [], "baseline_rarest": [], "ceiling_all": []}
    named_counts, full_marks_told = [], []
    composed: dict[str, str] = {}
    rows = [r for r in rows if r.feedback and r.score is not None and r.max_score]
    graded = served_grades(rows) if args.verdicts == "served" else [
        (row.label or "incorrect", row.score / row.max_score) for row in rows]
    called_correct_hinted = []
    for row, (verdict, score) in zip(rows, graded):
        alignment = feedback.align(reference_answers=list(row.reference_answers), answer=row.answer,
                                   encoder=encoder, question=row.question)
        text = feedback.compose(verdict=verdict, alignment=alignment, answer=row.answer, question=row.question,
                                score=score, language=feedback.language_of(row.question, row.reference_answers))
        composed[row.answer_id] = text
        if row.score >= row.max_score:
            full_marks_told.append(asks_for_more in text)
            continue
        if verdict == "correct":
            called_correct_hinted.append(asks_for_more in text)
        # The tutor's "flagged words", and the words Tutor's feedback names, by one definition.
        flagged = measure.new_reference_words(row, row.feedback)
        named = measure.new_reference_words(row, text)
        if not flagged:
            continue
        gaps = measure.lacking(row)
        named_counts.append(len(named))
        table["ours"].append(precision_recall(named, flagged))
        table["baseline_rarest"].append(precision_recall(set(gaps[: len(named)]), flagged))
        table["ceiling_all"].append(precision_recall(set(gaps), flagged))
    result = {
        "split": split,
        "answers": len(rows),
        "answers_with_flagged_words": len(named_counts),
        "mean_words_named": round(float(np.mean(named_counts)), 2),
        "verdicts": args.verdicts,
    }
    if args.verdicts == "served":
        result["full_marks_answers"] = len(full_marks_told)
        result["full_marks_told_missing"] = round(float(np.mean(full_marks_told)), 3)
        result["called_correct_lost_points"] = len(called_correct_hinted)
        result["called_correct_lost_points_hinted"] = round(float(np.mean(called_correct_hinted)), 3)
    for name, pairs in table.items():
        p, r = np.array(pairs).T
        result[name] = {"precision": round(float(p.mean()), 3), "recall": round(float(r.mean()), 3)}
    if args.reuse:
        result["tutors_reuse"] = tutors_reuse(encoder, args.language)
        result["teacher_notes"] = teacher_notes(rows, encoder, composed, measure)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Feedback from aligning reference-answer ideas with the answer, on the real MiniLM embedder."""

import pytest

from tests.ml.saf_texts import SAF_DE_QUESTION, SAF_DE_REFERENCE
from tutor.ml import feedback
from tutor.ml.retrieval.embedder import get_embedder

# A real SemEval-2013 SciEntsBank question (EM_45b) and its reference answer.
REFERENCE = "The water was evaporated, leaving the salt."


@pytest.fixture(scope="module")
def encoder():
    return get_embedder()


def test_ideas_split_long_references_at_clause_joints():
    ideas = feedback.ideas_of(
        "Slow start doubles the congestion window every round trip until it reaches the threshold; "
        "congestion avoidance then grows it by one segment per round trip. After a loss the threshold is halved."
    )
    assert len(ideas) == 3
    assert ideas[0].startswith("Slow start doubles")


def test_an_answer_saying_the_same_covers_the_idea(encoder):
    alignment = feedback.align(
        reference_answers=[REFERENCE], answer="Let the water evaporate and the salt is left behind.", encoder=encoder
    )
    assert alignment.coverage == 1.0


def test_an_unrelated_answer_misses_it_and_gets_hints_not_the_reference(encoder):
    answer = "I saw a pinkish grayish color that was blocking the water."
    alignment = feedback.align(reference_answers=[REFERENCE], answer=answer, encoder=encoder)
    assert alignment.coverage == 0.0
    text = feedback.compose(verdict="incorrect", alignment=alignment, answer=answer)
    # Never every specific word the answer lacks (evaporated, salt): a hint, not the answer.
    assert "evaporated" in text and "salt" not in text
    assert REFERENCE not in text and "leaving the salt" not in text


def test_a_one_word_reference_is_never_named_by_the_feedback(encoder):
    # Exploratory QA: "Not correct yet. The expected answer is about: oxygen." to a reference "Oxygen.".
    question, answer = "What gas do plants release during photosynthesis?", "Nitrogen"
    alignment = feedback.align(reference_answers=["Oxygen."], answer=answer, encoder=encoder, question=question)
    for verdict in ("incorrect", "contradictory", "partially_correct"):
        text = feedback.compose(verdict=verdict, alignment=alignment, answer=answer, question=question)
        assert "oxygen" not in text.lower(), (verdict, text)
    assert feedback.hint_words(["Oxygen."], answer, question) == []
    readable = feedback.in_a_script_the_grader_reads
    assert readable("Δv = a·t, so π r²") and not readable("酸素です")
    assert feedback.hint_words(["Oxygen and glucose."], answer, question) == [["oxygen"]]
    # Past the ideas named, words stay for the student to find anyway: the named ones are all kept.
    four = ["Osmosis.", "Diffusion.", "Respiration.", "Transpiration."]
    assert feedback.hint_words(four, answer, question) == [["osmosis"], ["diffusion"], ["respiration"]]


def test_best_of_several_references_is_used(encoder):
    alignment = feedback.align(
        reference_answers=["Magnets attract iron.", REFERENCE],
        answer="The water evaporated so there was only salt left.",
        encoder=encoder,
    )
    assert alignment.coverage == 1.0


def test_feedback_is_phrased_per_verdict(encoder):
    answer = "The water evaporated and left salt crystals."
    alignment = feedback.align(reference_answers=[REFERENCE], answer=answer, encoder=encoder)
    assert feedback.compose(verdict="correct", alignment=alignment, answer=answer).startswith("Correct.")
    assert "contradicts" in feedback.compose(verdict="contradictory", alignment=alignment, answer=answer)
    partial = feedback.compose(verdict="partially_correct", alignment=alignment, answer=answer)
    assert partial.startswith("Partly correct.") and "salt crystals" in partial


def test_hints_leave_out_words_the_question_already_gives():
    question = "What does REPL stand for, and what does it describe?"
    answer = "It is a kind of loop like a for loop that repeats a list."
    alignment = feedback.Alignment(missing=[feedback.Idea(
        text='REPL stands for "read-eval-print loop," which describes the repetitive nature of a shell',
        similarity=0.2, evidence=answer)])
    text = feedback.compose(verdict="incorrect", alignment=alignment, answer=answer, question=question)
    assert "read-eval-print" in text
    assert "repl" not in text.lower() and "stands" not in text and "describes" not in text


def test_quotes_do_not_double_the_punctuation(encoder):
    answer = "The water evaporated and left salt crystals."
    alignment = feedback.align(reference_answers=[REFERENCE], answer=answer, encoder=encoder)
    assert "crystals”." in feedback.compose(verdict="correct", alignment=alignment, answer=answer)


def test_hints_name_an_ideas_specific_words_never_generic_ones_nor_the_same_word_twice():
    # A real SAF reference answer (the M/M/1/10 queue question), with an empty answer: every idea is missing.
    ideas = [
        "Since we have a buffer size of 10, we will always have less than 10 packets waiting in the queue unless "
        "there are exactly 10 packets in the queue",
        "Therefore, we first calculate the probability of the system being full",
        "the blocking probability P_B is obtained by summing the state probabilities",
    ]
    alignment = feedback.Alignment(missing=[feedback.Idea(text=i, similarity=0.1, evidence="") for i in ideas])
    text = feedback.compose(verdict="incorrect", alignment=alignment, answer="No response.")
    for generic in ("since", "always", "unless", "therefore", "first", "exactly"):
        assert f" {generic}" not in text.lower()
    assert "buffer" in text and "probability" in text and "blocking" in text
    assert text.count("probability") == 1


def test_repeating_the_question_does_not_cover_an_idea(encoder):
    question = "How did you separate the salt from the water?"  # SciEntsBank EM_45b
    answer = "I separated the salt from the water."
    alignment = feedback.align(reference_answers=[REFERENCE], answer=answer, encoder=encoder, question=question)
    assert alignment.coverage == 0.0
    # With the question's words ("salt", "water") given, "evaporated" is all the idea says: it is not named.
    text = feedback.compose(verdict="incorrect", alignment=alignment, answer=answer, question=question)
    assert text == "Not correct yet. Reread the question and the related reading."
    # Without the question, the words it gives ("salt", "water") look like the idea itself.
    assert feedback.align(reference_answers=[REFERENCE], answer=answer, encoder=encoder).coverage == 1.0


def test_hints_name_whole_words_of_any_script():
    # A German reference idea: "Größe" is named whole, never cut to "gr".
    text = feedback.compose(verdict="incorrect", answer="Keine Ahnung.", alignment=feedback.Alignment(missing=[
        feedback.Idea(text="Die Größe des Puffers bestimmt die Überlaufwahrscheinlichkeit", similarity=0.1,
                      evidence="")]))
    assert "größe" in text.lower() and "überlaufwahrscheinlichkeit" in text.lower()
    assert " gr," not in text.lower() and " gr " not in text.lower()


# A real SAF question (6.2_IPP), its reference answer and a full-marks answer (IPP_6.2.1): the reference's
# "One of the following advantages are considered fully correct" is rubric, not an idea.
IPP_QUESTION = ("What are extension headers in IPv6 and where are they located in a packet? "
                "What is the main advantage of extension headers compared to IPv4?")
IPP_REFERENCE = (
    "Extension headers are used to extend the fixed IPv6 header with additional, optional network layer "
    "information. If present, they are located between the fixed header/main header and payload/upper-layer "
    "header/ transport-layer header.\nMain advantage: One of the following advantages are considered fully "
    "correct:\n1. It allows the appending of new options without changing the header.\n2. IPv6 packets with "
    "optional headers are typically processed faster/simpler by intermediate devices as most of the options "
    "are ignored (except “Hop-by-Hop Extension”) while they are processed by all routers in IPv4 unless "
    "ordered otherwise."
)
IPP_ANSWER = ("The extension headers in IPv6 are additional data contains in an IPv6 packet, located between the "
              "fixed header and the payload.\nThe main advantage compared to IPv4 is that it allows to add new "
              "options without changing the fixed header.")


def test_hints_never_name_the_rubrics_own_words(encoder):
    alignment = feedback.align(reference_answers=[IPP_REFERENCE], answer=IPP_ANSWER, encoder=encoder,
                               question=IPP_QUESTION)
    named = set()
    for idea in alignment.missing:
        named.update(feedback.missing_keywords(idea.text, IPP_ANSWER, IPP_QUESTION))
    assert named  # the ideas the answer leaves out still get hints...
    assert not named & {"correct", "considered", "following", "fully", "possible", "example"}  # ...of substance


def test_a_correct_answer_is_asked_for_more_only_below_full_marks(encoder):
    # The answer covers one of the reference's alternatives, which leaves the other one "missing".
    alignment = feedback.align(reference_answers=[IPP_REFERENCE], answer=IPP_ANSWER, encoder=encoder,
                               question=IPP_QUESTION)
    full = feedback.compose(verdict="correct", alignment=alignment, answer=IPP_ANSWER, question=IPP_QUESTION,
                            score=1.0)
    short = feedback.compose(verdict="correct", alignment=alignment, answer=IPP_ANSWER, question=IPP_QUESTION,
                             score=0.8)
    assert full.startswith("Correct.") and "mention" not in full
    assert short.startswith(full) and "To earn full marks, you could also mention:" in short



def test_feedback_on_a_german_question_is_german_and_names_no_generic_german_words(encoder):
    answer = "Arbeitskleidung, Kundensprache"  # SAF German answer 3.3, graded incorrect by its tutor
    language = feedback.language_of(SAF_DE_QUESTION, [SAF_DE_REFERENCE])
    assert language == "de" and feedback.language_of(IPP_QUESTION, [IPP_REFERENCE]) == "en"
    alignment = feedback.align(reference_answers=[SAF_DE_REFERENCE], answer=answer, encoder=encoder,
                               question=SAF_DE_QUESTION)
    text = feedback.compose(verdict="incorrect", alignment=alignment, answer=answer, question=SAF_DE_QUESTION,
                            language=language)
    assert text.startswith("Noch nicht richtig. In der erwarteten Antwort geht es um:")
    assert "begrüßung" in text and "verabschiedung" in text
    # Common German words, rare in English: English word frequencies took them for specific ones.
    for generic in ("sowohl", "werden"):
        assert generic not in text.lower()


def test_a_teachers_note_is_passed_on_in_the_questions_language_and_attributed_once():
    note = "Achte auf Begrüßung und Verabschiedung."
    german = feedback.from_teacher_note(note, "de")
    assert german == f"Notiz deiner Lehrkraft zu einer fast gleichen Antwort: {note}"
    assert feedback.from_teacher_note(german, "de") == german
    assert feedback.from_teacher_note("Say  what\nevaporates.") == (
        "Your teacher's note on an answer almost identical to yours: Say what evaporates.")


def test_an_abbreviation_does_not_end_an_idea():
    ideas = feedback.ideas_of(SAF_DE_REFERENCE)
    assert "Menschliche Komponenten beinhalten z.B. die Begrüßung (0.25 P), Verabschiedung (0.25 P), Höflichkeit " \
           "oder Fokus auf den Kunden" in ideas
    assert not any(idea.startswith("die Begrüßung") for idea in ideas)

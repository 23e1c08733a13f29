"""Written feedback a student can act on.

The reference answers are split into ideas (sentences, and long sentences at ``;`` and
clause joints). An idea is covered when the answer expresses enough of its words: each specific
word of the idea is matched with the answer's most similar word (MiniLM's contextual word vectors;
words the question already gives are left out; ``tutor/ml/grading/alignment.py``). Covered ideas
are acknowledged by quoting the student's sentence closest to them; missing ideas are named
by their key words, never by quoting the reference answer, so the feedback guides without
handing over the answer. Key words are an idea's most specific words: rare in general English
(wordfreq), not already in the answer or the question, nor words of a grading rubric ("one of the
following is considered fully correct"). Feedback is written in the question's language (``PHRASINGS``:
English, German), whose own word frequencies and stop words decide which words are specific.

Measured against SAF's human tutors (``benchmarks/feedback_vs_tutors.py``, English unseen answers): of the
reference words a tutor's feedback names for an answer that lost points, Tutor's feedback names 43.5 %
(precision 13 %, 6.5 words named); the same number of the rarest reference words the answer lacks names
34.8 %. German unseen answers: 46.5 % (precision 6 %, 9.3 words), the rarest words 44.2 %.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

# Share of an idea's specific words the answer expresses (question-demoted word recall). On 500 SemEval
# train answers, the mean over a reference's ideas separates correct from other answers with AUC 0.75
# (the sentence cosine of each idea with the closest student sentence, used before: 0.71); at 0.46,
# precision and recall of "correct" are both 0.67 (0.63 for the cosine at its own break-even, 0.55).
COVERED_SIMILARITY = 0.46
# Words at least this common in general English (wordfreq's Zipf scale; 5 is once per 100,000 words) name
# no idea of their own: "since", "therefore", "always", "first", "position". Rarer ones carry the idea:
# "duplex" 3.1, "evaporated" 3.0, "probability" 4.0, "communication" 4.7.
GENERIC_ZIPF = 4.8
# A correct answer given at least this share of the points is not asked for more. SAF's tutors never ask a
# full-marks answer for more, yet their references often list alternatives ("one of the following"), of which a
# correct answer covers one. On SAF English unseen answers, with the served grader's verdicts and points, the
# rule asks 22 % of the full-marks answers for more (49 % when every correct answer was) and still hints on 18
# of the 22 answers called correct that lost points (19 before; ``benchmarks/feedback_vs_tutors.py --verdicts
# served``). On SAF German, whose new-question points come from the German points line, 54 % of the full-marks
# answers are asked for more (81 % before that line) and 24 of the 27 called correct that lost points.
FULL_MARKS = 0.95
# A sentence ends at . ! or ?, but not in a German abbreviation ("z.B.", "d.h."): SAF's German references use
# "z.B." often, and cutting there made "die Begrüßung (0.25 P), Verabschiedung …" an idea of its own (German
# train sample: recall of the tutors' flagged words 0.461 -> 0.521). English "e.g." still ends one: SAF's English
# references list examples that way, and keeping them whole, tried too, moved the English train sample little
# (0.357 -> 0.362) but cut recall on the English unseen answers from 0.435 to 0.340.
_SENTENCE = re.compile(r"(?<!\b(?:z\.B|d\.h|u\.a|z\.T|u\.U|v\.a|o\.ä)\.)(?<=[.!?])\s+")
_CLAUSE = re.compile(r";\s+|,\s+(?:and|but|so|because|which)\s+|\s+because\s+")
_WORD = re.compile(r"[^\W\d_][\w'-]+")  # a letter of any script first: "größe", not "gr"
_STOPWORDS = frozenset(
    """a about above after again against all also an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just like made make makes more
    most must my no nor not now of off on once only or other our out over own same she should so some
    such than that the their them then there these they this those through to too under until up use
    used uses using very was we were what when where which while who whom why will with would you your
    it's one two get gets thing things way ways stand stands describe describes described call called
    known mean means meant refer refers referred
    correct correctly incorrect considered following possible example examples answer answers response
    mention mentioned fully partially alternatively alternative see""".split()  # the rubric's own words
)


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class Idea:
    text: str
    similarity: float  # share of the idea's specific words the answer expresses (0..1)
    evidence: str  # the student's sentence closest to the idea


@dataclass
class Alignment:
    covered: list[Idea] = field(default_factory=list)
    missing: list[Idea] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        total = len(self.covered) + len(self.missing)
        return len(self.covered) / total if total else 0.0


def ideas_of(reference: str) -> list[str]:
    """Split a reference answer into short idea units."""
    ideas: list[str] = []
    for sentence in _SENTENCE.split(reference.strip()):
        parts = _CLAUSE.split(sentence) if len(sentence) > 90 else [sentence]
        ideas.extend(p.strip(" ,;.") for p in parts if len(_content_words(p)) >= 2)
    return ideas or ([reference.strip()] if reference.strip() else [])


def align(*, reference_answers: list[str], answer: str, encoder: Encoder, question: str = "") -> Alignment:
    """Which ideas of the best-matching reference answer the student's answer covers. ``encoder``: the
    MiniLM ``Embedder`` (its sentence vectors find the evidence, its word vectors measure coverage)."""
    from .grading.alignment import aligner_for, align_words, question_words

    sentences = [s for s in _SENTENCE.split(answer.strip()) if s] or [answer]
    candidates = sentences + ([answer] if len(sentences) > 1 else [])
    best: Alignment | None = None
    answer_vectors = encoder.encode(candidates)
    aligner = aligner_for(encoder)
    answer_words = aligner.words([answer])[0]
    given = question_words(question)
    for reference in reference_answers:
        ideas = ideas_of(reference)
        if not ideas:
            continue
        similarity = encoder.encode(ideas) @ answer_vectors.T  # ideas x candidates: where the evidence is
        result = Alignment()
        for i, (idea, idea_words) in enumerate(zip(ideas, aligner.words(ideas, cache=True))):
            j = int(similarity[i].argmax())
            recall = align_words(answer_words, idea_words, left_out=given)[0]
            item = Idea(text=idea, similarity=recall, evidence=candidates[j])
            (result.covered if item.similarity >= COVERED_SIMILARITY else result.missing).append(item)
        if best is None or result.coverage > best.coverage:
            best = result
    return best or Alignment()


@functools.lru_cache(maxsize=65536)
def _zipf(word: str, language: str = "en") -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, language)


@functools.lru_cache(maxsize=8)
def _stopwords(language: str) -> frozenset[str]:
    """English: the hand-made list above. Other languages: ``stop-words``' list plus their rubric words."""
    if language == "en":
        return _STOPWORDS
    from stop_words import get_stop_words

    return frozenset(get_stop_words(language)) | _RUBRIC.get(language, frozenset())


_RUBRIC = {"de": frozenset("""richtig korrekt falsch antwort antworten beispiel beispielsweise folgende folgenden
    punkte punkt genannt nennen erwähnt erwähnen vollständig teilweise""".split())}


def _content_words(text: str, language: str = "en") -> list[str]:
    stop = _stopwords(language)
    return [w for w in _WORD.findall(text.lower()) if w not in stop and len(w) > 2]


def missing_keywords(
    idea: str, answer: str, question: str = "", limit: int = 4, *, named: frozenset[str] | set[str] = frozenset(),
    language: str = "en",
) -> list[str]:
    """The ``limit`` most specific words of a missing idea that neither the answer nor the question
    already uses (nor ``named``, the words of earlier hints), in the idea's order; generic words
    (``GENERIC_ZIPF`` in the ``language``'s own word frequencies) are never named."""
    used = set(_content_words(answer, language)) | set(_content_words(question, language)) | set(named)
    words = [w for w in dict.fromkeys(_content_words(idea, language))
             if w not in used and _zipf(w, language) < GENERIC_ZIPF]
    keep = set(sorted(words, key=lambda w: _zipf(w, language))[:limit])
    return [w for w in words if w in keep]


def hint_words(
    ideas: list[str], answer: str, question: str = "", *, language: str = "en", ideas_named: int = 3,
    covers_some: bool = False,
) -> list[list[str]]:
    """The words to name for the missing ``ideas`` (``missing_keywords`` of each, no word twice), for at most
    ``ideas_named`` of them. To an answer that has none of the reference (no idea covered: ``covers_some``
    False, and none of the ideas' words), they never name every word it lacks: that would hand out the
    answer, as "The expected answer is about: oxygen." did for the reference "Oxygen.". The last word named
    is then left out. An answer that got part of it right is told all that it misses, as SAF's tutors do."""
    named: set[str] = set()
    hints: list[list[str]] = []
    for idea in ideas:
        words = missing_keywords(idea, answer, question, named=named, language=language)
        named.update(words)
        if words:
            hints.append(words)
    hints = hints[:ideas_named]
    if covers_some or not hints:
        return hints
    everything = set().union(*(missing_keywords(i, "", question, limit=10**6, language=language) for i in ideas))
    lacking = set().union(*(missing_keywords(i, answer, question, limit=10**6, language=language) for i in ideas))
    if lacking == everything and lacking <= {word for hint in hints for word in hint}:
        hints[-1] = hints[-1][:-1]
        hints = [h for h in hints if h]
    return hints


@dataclass(frozen=True)
class Phrasing:
    """The feedback's sentences in one language; ``{}`` takes a quote of the answer or the hint words."""

    open_quote: str
    close_quote: str
    correct: str
    explained_well: str
    for_full_marks: str
    partly: str
    part_right: str
    still_misses: str
    on_track: str
    contradicts: str
    check_again: str
    revisit: str
    not_yet: str
    expected_about: str
    reread: str
    teacher_note: str


PHRASINGS = {
    "en": Phrasing(
        open_quote="“", close_quote="”",
        correct="Correct.",
        explained_well="You explained the key idea well: {}.",
        for_full_marks="To earn full marks, you could also mention: {}.",
        partly="Partly correct.",
        part_right="This part is right: {}.",
        still_misses="Your answer still misses part of the expected answer; think about: {}.",
        on_track="Your answer is on the right track but incomplete; explain it more precisely.",
        contradicts="Your answer contradicts the expected answer.",
        check_again="Check this statement again: {}.",
        revisit="Revisit: {}.",
        not_yet="Not correct yet.",
        expected_about="The expected answer is about: {}.",
        reread="Reread the question and the related reading.",
        teacher_note="Your teacher's note on an answer almost identical to yours: {}",
    ),
    # SAF's German tutors address the student as "du".
    "de": Phrasing(
        open_quote="„", close_quote="“",
        correct="Richtig.",
        explained_well="Den Kerngedanken hast du gut erklärt: {}.",
        for_full_marks="Für die volle Punktzahl könntest du noch erwähnen: {}.",
        partly="Teilweise richtig.",
        part_right="Dieser Teil stimmt: {}.",
        still_misses="Deiner Antwort fehlt noch ein Teil der erwarteten Antwort; denk an: {}.",
        on_track="Deine Antwort geht in die richtige Richtung, ist aber unvollständig; erkläre sie genauer.",
        contradicts="Deine Antwort widerspricht der erwarteten Antwort.",
        check_again="Prüfe diese Aussage noch einmal: {}.",
        revisit="Sieh dir noch einmal an: {}.",
        not_yet="Noch nicht richtig.",
        expected_about="In der erwarteten Antwort geht es um: {}.",
        reread="Lies die Frage und den zugehörigen Lesestoff noch einmal.",
        teacher_note="Notiz deiner Lehrkraft zu einer fast gleichen Antwort: {}",
    ),
}


def language_of(question: str, reference_answers: list[str] | tuple[str, ...]) -> str:
    """The language the feedback on a question is written in: the one of ``PHRASINGS`` whose word
    frequencies know the question's and its references' words best."""
    from .grading.verdict_bands import text_language

    return text_language(" ".join([question, *reference_answers]), tuple(PHRASINGS))


def in_a_script_the_grader_reads(text: str) -> bool:
    """Whether most of the text's letters are Latin ones, the script of the languages the grader was trained
    on (English, German), or Greek ones, which science writes as symbols (π, Δ, Ω); a text without letters
    (numbers, a formula) counts as readable."""
    letters = [c for c in text if c.isalpha()]
    readable = sum(unicodedata.name(c, "").startswith(("LATIN", "GREEK")) for c in letters)
    return not letters or readable >= len(letters) / 2


def _quote(text: str, phrasing: Phrasing, limit: int = 140) -> str:
    text = " ".join(text.split()).rstrip(".!?;:, ")
    text = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return f"{phrasing.open_quote}{text}{phrasing.close_quote}"


def from_teacher_note(note: str, language: str = "en") -> str:
    """Feedback that passes on a teacher's note on an answer almost identical to this one (``memory.reusable_note``),
    saying where it comes from (once, when the note was itself an edited passed-on note)."""
    template = PHRASINGS[language].teacher_note
    prefix = template.removesuffix("{}")
    return template.format(" ".join(note.split()).removeprefix(prefix))


def compose(
    *, verdict: str, alignment: Alignment, answer: str, question: str = "", score: float | None = None,
    language: str = "en",
) -> str:
    """Feedback text for a verdict, grounded in the alignment, in ``language`` (a key of ``PHRASINGS``).
    ``score``: the share of the question's points the grade gives; a correct answer is told what else to
    mention only below ``FULL_MARKS``."""
    say = PHRASINGS[language]
    covered = alignment.covered[:2]
    hints = hint_words([idea.text for idea in alignment.missing], answer, question, language=language,
                       covers_some=bool(alignment.covered))
    hint_text = "; ".join(", ".join(h) for h in hints)
    parts: list[str] = []
    if verdict == "correct":
        parts.append(say.correct)
        if covered:
            parts.append(say.explained_well.format(_quote(covered[0].evidence, say)))
        if hint_text and (score is None or score < FULL_MARKS):
            parts.append(say.for_full_marks.format(hint_text))
    elif verdict == "partially_correct":
        parts.append(say.partly)
        if covered:
            parts.append(say.part_right.format(_quote(covered[0].evidence, say)))
        parts.append(say.still_misses.format(hint_text) if hint_text else say.on_track)
    elif verdict == "contradictory":
        parts.append(say.contradicts)
        if covered:
            parts.append(say.check_again.format(_quote(covered[0].evidence, say)))
        if hint_text:
            parts.append(say.revisit.format(hint_text))
    else:
        parts.append(say.not_yet)
        parts.append(say.expected_about.format(hint_text) if hint_text else say.reread)
    return " ".join(parts)

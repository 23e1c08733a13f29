"""The tutor's reply to one student message (reads only; ``chat_services`` stores it).

- a question about the material: the best sentences of the best passage of the course's readings,
  with citations to the resource sections; below the confidence threshold the tutor says it is
  unsure, offers the closest sections, and the message is flagged for the teacher;
- a request for an assigned question's answer (an explicit request, the question's prompt pasted,
  a question named by its number, or a question about the material whose reply would quote an
  assigned question's reference answer): graded hints, never the reference answer: 1. where to read;
  2. the ideas the last attempt missed (``tutor.ml.feedback``), or its grade's verdict; 3. the key words of
  every idea, repeated after a word that there are no more; written in the question's language (``hint_phrasings``), like the feedback on an answer to it;
- "what should I do next?": ``pedagogy.recommendations``, or the first unanswered question;
- site help and small talk: short canned replies with links.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np
from django.urls import reverse

from domain import selectors as domain_selectors
from domain.models import Course, Question, ReferenceAnswer
from student_model import selectors as student_selectors
from student_model.models import Grade, Submission
from tutor.ml import feedback as ml_feedback
from tutor.ml import intents as ml_intents
from tutor.ml.retrieval.batching import BatchingEncoder
from tutor.ml.retrieval.embedder import get_embedder
from tutor.ml.retrieval.qa import Answer

from . import chat_selectors
from .hint_phrasings import HINT_PHRASINGS, quote
from .models import Conversation
from .recommendations import recommend_next_steps
from .retrieval import course_qa_engine

# MiniLM cosine between a message and a question prompt. An explicit request for an answer
# needs a loose match to know which question; a message that is the prompt pasted (with small
# edits) counts as a request for its answer even without asking for one. A paste must also carry
# (nearly) all of the prompt's words: "What does REPL stand for?" is a question about the reading,
# while the assignment "What does REPL stand for, and what does it describe?" pasted whole asks for
# the homework's answer.
REQUEST_MATCH = 0.45
COPY_MATCH = 0.9
COPY_COVERAGE = 0.8
# A material reply reveals an assigned question's answer when it holds (nearly) all the content words its
# reference answer adds to the prompt. Chosen on the intro-python demo course: of the replies to its 52
# definitions asked in other words ("What is a computer?", "what does tuple mean") and to the 95 student
# questions of data/qa/intro-python.jsonl, every one that quoted a reference held all of those words, while the
# closest one that did not ("A conditional expression is evaluated by first checking the condition…", for "A
# condition is an expression that evaluates to true or false.") held 3 of 4.
REVEAL_COVERAGE = 0.8
# ... and when the message is about that question at all (MiniLM cosine to its prompt): a reference adding only a
# few words is held by many replies on other topics, so it needs a message closer to its question. On the same
# data the revealing replies' messages lay at 0.25 ("what is __init__ for", quoting the "self" answer's 8 words)
# and above, and the one short reference revealed ("f string", 2 words) at 0.50.
REVEAL_MIN_SIMILARITY = 0.2
REVEAL_FEW_WORDS = 3
REVEAL_FEW_WORDS_SIMILARITY = 0.45
LAST_HINT = 3
_WORD = re.compile(r"[a-z0-9]+")
_FUNCTION_WORDS = frozenset(
    "a an and are as at be by can do does for from how in is it its of on or that the this to was what "
    "when where which who why will with you your".split()
)
_QUESTION_NUMBER = re.compile(r"\b(?:question|q|frage|aufgabe)\s*(?:#|no\.?|nr\.?|number|nummer)?\s*(\d{1,4})\b", re.I)
# Where a prompt asking several things splits: "What does PEP stand for, and what does it describe?"
_PROMPT_PARTS = re.compile(
    r"[?;]|,?\s+(?:and|und)\s+(?=(?:what|how|why|which|who|when|where|was|wie|warum|wann|wo|welche)\b)", re.I
)
_CLAUSES = re.compile(r"[,;:.!?]+")
# A message that goes on from the student's previous one: "and what does it describe?", "what about tuples?"
_FOLLOW_UP = re.compile(r"^\s*(?:and|but|also|or|what about|how about|und|aber|und was|was ist mit)\b", re.I)
_ANOTHER_HINT = re.compile(r"\b(another|more|next|one more|further|second|third)\s+hints?\b|\bhint\b"
                           r"|\b(hinweise?|tipps?)\b", re.I)  # German too: a hint follows the question's language


@dataclass
class TutorReply:
    text: str
    intent: str
    citations: list[dict] = field(default_factory=list)
    confidence: float | None = None
    unsure: bool = False  # flag the student's message for the teacher
    question_id: int | None = None
    hint_level: int = 0
    asked: str = ""  # what the readings were searched for, when more than the message (a follow-up)


@dataclass
class _Match:
    question_id: int
    similarity: float
    prompt: str = ""


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _FUNCTION_WORDS}


def _stems(text: str) -> set[str]:
    """Content words with a plural or third-person "s" cut, so "describes" meets "describe"."""
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in _content_words(text)}


def _reveals(reply: str, *, prompt: str, reference: str, similarity: float) -> bool:
    """``reply`` gives ``reference`` away; ``similarity``: the student's message's cosine to ``prompt``."""
    added = _stems(reference) - _stems(prompt)
    floor = REVEAL_FEW_WORDS_SIMILARITY if len(added) <= REVEAL_FEW_WORDS else REVEAL_MIN_SIMILARITY
    return (bool(added) and similarity >= floor
            and len(added & _stems(reply)) / len(added) >= REVEAL_COVERAGE)


def _asks_part_only(text: str, *, prompt: str, reference: str, reply: str) -> bool:
    """The prompt asks several things, the message leaves out one that the reference answers, and the reply
    does not answer that one either: then the message is a question about the reading. "What does REPL stand
    for?" of "What does REPL stand for, and what does it describe?" (answered "REPL stands for "read-eval-print
    loop," which describes the repetitive nature of a shell") is one when the reply only expands the
    abbreviation; a reply that also says what it describes gives the whole answer away. "What does PEP stand
    for?" never is: the reference of "What does PEP stand for, and what does it describe?" answers only that
    part."""
    asked = _stems(text)
    parts = [words for words in map(_stems, _PROMPT_PARTS.split(prompt)) if words]
    left_out = [words for words in parts if not words & asked and words & _stems(reference)]
    if not left_out or not any(words & asked for words in parts):
        return False
    said, prompt_words = _stems(reply), _stems(prompt)
    for words in left_out:
        # What the reference says on the part left out: the words of its clauses naming that part.
        answer = set().union(*(c for c in map(_stems, _CLAUSES.split(reference)) if c & words)) - prompt_words
        if answer and len(answer & said) / len(answer) >= REVEAL_COVERAGE:
            return False
    return True


def _revealed_question_id(*, references: list[tuple[int, str]], prompts: dict[int, str], sims: dict[int, float],
                          text: str, reply: str) -> int | None:
    """The assigned question whose reference answer ``reply`` would give away (the one closest to the message
    when several are), or None. ``references``: (question id, text) of the assigned questions."""
    revealed = {
        question_id
        for question_id, reference in references
        if question_id in prompts
        and _reveals(reply, prompt=prompts[question_id], reference=reference, similarity=sims[question_id])
        and not _asks_part_only(text, prompt=prompts[question_id], reference=reference, reply=reply)
    }
    return max(revealed, key=lambda question_id: sims[question_id]) if revealed else None


def _is_paste(text: str, match: _Match) -> bool:
    prompt_words = _content_words(match.prompt)
    if match.similarity < COPY_MATCH or not prompt_words:
        return False
    return len(prompt_words & _content_words(text)) / len(prompt_words) >= COPY_COVERAGE


class _QuestionVectors:
    """Prompt embeddings of each course's questions, per process, refreshed when the questions change
    (``domain_selectors.question_version``: one small query per use)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_course: dict[int, tuple[tuple, list[tuple[int, str]], np.ndarray]] = {}

    def of_course(self, *, course: Course) -> tuple[list[tuple[int, str]], np.ndarray]:
        version = domain_selectors.question_version(course=course)
        with self._lock:
            cached = self._by_course.get(course.pk)
            if cached is None or cached[0] != version:
                prompts = domain_selectors.question_prompts_for_course(course=course)
                vectors = get_embedder().encode([prompt for _, prompt in prompts])
                cached = self._by_course[course.pk] = (version, prompts, vectors)
        return cached[1], cached[2]

    def similarities(self, *, course: Course, vector: np.ndarray) -> tuple[dict[int, str], dict[int, float]]:
        """Each question's prompt and cosine to ``vector``, by question id."""
        prompts, vectors = self.of_course(course=course)
        sims = vectors @ vector if prompts else []
        return dict(prompts), {question_id: float(sim) for (question_id, _), sim in zip(prompts, sims)}

    def best(self, *, course: Course, vector: np.ndarray) -> _Match | None:
        """The course's question closest to ``vector``."""
        prompts, vectors = self.of_course(course=course)
        if not prompts:
            return None
        sims = vectors @ vector
        i = int(np.argmax(sims))
        return _Match(prompts[i][0], float(sims[i]), prompts[i][1])


_question_vectors = _QuestionVectors()
_classifier_lock = threading.Lock()
_classifier: ml_intents.IntentClassifier | None = None


_query_encoder: BatchingEncoder | None = None


def query_encoder() -> BatchingEncoder:
    """The chat's message embeddings: concurrent students' messages share forward passes."""
    global _query_encoder
    with _classifier_lock:
        if _query_encoder is None:
            _query_encoder = BatchingEncoder(get_embedder())
        return _query_encoder


def intent_classifier() -> ml_intents.IntentClassifier:
    global _classifier
    with _classifier_lock:
        if _classifier is None:
            _classifier = ml_intents.IntentClassifier(get_embedder())
        return _classifier


def citation_dicts(*, course: Course, answer: Answer) -> list[dict]:
    out = []
    for c in answer.citations:
        url = reverse("resource-detail", args=[course.slug, c.resource_id]) if c.resource_id else ""
        out.append(
            {
                "resource_id": c.resource_id,
                "external_id": c.external_id,
                "title": c.title,
                "section": c.section,
                "url": f"{url}#{c.anchor}" if url and c.anchor else url,
            }
        )
    return out


def _course_questions(*, conversation: Conversation):
    """The questions of the course as its student sees them (no reference answers loaded)."""
    return domain_selectors.question_list(user=conversation.student).filter(course=conversation.course).prefetch_related(None)


def _is_answer_request(match: _Match | None, intent: str, text: str) -> bool:
    return match is not None and (
        _is_paste(text, match) or (intent == ml_intents.ANSWER_REQUEST and match.similarity >= REQUEST_MATCH)
    )


def _numbered_question_id(*, conversation: Conversation, number: int) -> int | None:
    """The ``number``-th question (from 1) in the order the course page lists them: unit by unit, then the
    questions outside any unit."""
    rows = _course_questions(conversation=conversation).values_list("pk", "unit_id", "unit__order", "order")
    ordered = sorted(rows, key=lambda r: (r[1] is None, r[2] or 0, r[1] or 0, r[3], r[0]))
    return ordered[number - 1][0] if 1 <= number <= len(ordered) else None


def _assigned_question(*, conversation: Conversation, question_id: int) -> Question | None:
    questions = _course_questions(conversation=conversation).prefetch_related("reference_answers")
    return questions.filter(pk=question_id).first()


def _hinted_question(*, conversation: Conversation, text: str, intent: str, vector: np.ndarray) -> Question | None:
    """The assigned question whose answer the message asks for, if any."""
    match = _question_vectors.best(course=conversation.course, vector=vector)
    numbered = _QUESTION_NUMBER.search(text) if intent == ml_intents.ANSWER_REQUEST else None
    if match is not None and _is_paste(text, match):  # a pasted prompt may itself hold a number ("Frage 6: …")
        question_id = match.question_id
    elif numbered is not None:
        question_id = _numbered_question_id(conversation=conversation, number=int(numbered.group(1)))
    elif _is_answer_request(match, intent, text):
        question_id = match.question_id
    elif intent == ml_intents.ANSWER_REQUEST and _ANOTHER_HINT.search(text):
        question_id = chat_selectors.last_hinted_question_id(conversation=conversation)
    else:
        question_id = None
    if question_id is None:
        return None
    return _assigned_question(conversation=conversation, question_id=question_id)


_NO_MODEL_INTENTS = (ml_intents.NEXT_STEP, ml_intents.SITE_HELP, ml_intents.SMALL_TALK)


def compose_reply(*, conversation: Conversation, text: str, previous: str = "") -> TutorReply:
    """The reply to the student's ``text``; ``previous``: their message before it, which a follow-up ("and
    how is it different from a list?") is read with."""
    ruled = ml_intents.IntentClassifier.by_rule(text)
    if ruled is not None and ruled.name in _NO_MODEL_INTENTS:
        return _canned(conversation=conversation, text=text, intent=ruled.name)
    vector = query_encoder().encode([text])[0]
    intent = ruled.name if ruled is not None else intent_classifier().classify(text, vector=vector).name
    if _ANOTHER_HINT.search(text) and intent == ml_intents.MATERIAL:
        intent = ml_intents.ANSWER_REQUEST
    if intent in (ml_intents.MATERIAL, ml_intents.ANSWER_REQUEST):
        question = _hinted_question(conversation=conversation, text=text, intent=intent, vector=vector)
        if question is not None:
            return _hint(conversation=conversation, question=question)
        if intent == ml_intents.ANSWER_REQUEST:
            return TutorReply(
                "I can't give out answers to your assigned questions, but I can give you hints. "
                "Paste the question you are working on and I'll point you to the right reading.",
                intent,
            )
        answer = course_answer(course=conversation.course, text=text, vector=vector)
        if previous and _FOLLOW_UP.match(text) and answer.unsure:
            # A follow-up with no subject of its own ("and what does it describe?") is read with the message
            # before it; one that names its own ("and what about lists?") was answered above. Hints follow this one.
            text = f"{previous.strip()} {text.strip()}"
            vector = query_encoder().encode([text])[0]
            answer = course_answer(course=conversation.course, text=text, vector=vector)
        return _material(conversation=conversation, text=text, vector=vector, answer=answer)
    return _canned(conversation=conversation, text=text, intent=intent)


def _canned(*, conversation: Conversation, text: str, intent: str) -> TutorReply:
    if intent == ml_intents.NEXT_STEP:
        return _next_step(conversation=conversation)
    if intent == ml_intents.SITE_HELP:
        return _site_help(conversation=conversation)
    return _small_talk(conversation=conversation, text=text)


def course_answer(*, course: Course, text: str, vector: np.ndarray | None = None) -> Answer:
    """The tutor's answer from the readings (what the chat quotes and cites for a material question).
    ``vector``: ``text`` embedded by the pretrained embedder, reused when the course's engine uses it too."""
    engine = course_qa_engine(course=course)
    reusable = vector is not None and engine.index.embedder is get_embedder()
    return engine.answer(text, query_vector=vector if reusable else None)


def _material(*, conversation: Conversation, text: str, vector: np.ndarray, answer: Answer) -> TutorReply:
    course = conversation.course
    citations = citation_dicts(course=course, answer=answer)
    if answer.unsure:
        if citations:
            closest = ", ".join(f"“{c['title']}”" for c in citations)
            found = (f"I'm not sure the course material answers that, so I won't guess. "
                     f"The closest sections I found are: {closest}. ")
        else:
            found = "I found nothing on that in the course material, so I won't guess. "
        return TutorReply(
            found + "I've passed your question to your teacher; their answer will appear here in this chat.",
            ml_intents.MATERIAL,
            citations,
            answer.confidence,
            unsure=True,
            asked=text,
        )
    question = _question_revealed_by(conversation=conversation, text=text, vector=vector, reply=answer.text)
    if question is not None:
        return _hint(conversation=conversation, question=question)
    source = citations[0]
    section = source["section"] if source["section"] != source["title"] else ""  # a teacher's Q&A: one section
    where = f"“{source['title']}”" + (f", section “{section}”" if section else "")
    return TutorReply(f"{answer.text}\n\n(From {where}.)", ml_intents.MATERIAL, citations, answer.confidence)


def _question_revealed_by(*, conversation: Conversation, text: str, vector: np.ndarray, reply: str) -> Question | None:
    """The student's assigned question of the course whose reference answer ``reply`` would give away."""
    references = list(
        ReferenceAnswer.objects.filter(question__in=_course_questions(conversation=conversation).values("pk"))
        .values_list("question_id", "text")
    )
    if not references:
        return None
    prompts, sims = _question_vectors.similarities(course=conversation.course, vector=vector)
    question_id = _revealed_question_id(references=references, prompts=prompts, sims=sims, text=text, reply=reply)
    return None if question_id is None else _assigned_question(conversation=conversation, question_id=question_id)


def _hint(*, conversation: Conversation, question: Question) -> TutorReply:
    """The next hint on ``question``, in the question's language (``hint_phrasings``). Past the last hint,
    the last one again, after a word that there are no more."""
    given = chat_selectors.hints_given(conversation=conversation, question_id=question.pk)
    level = min(given + 1, LAST_HINT)
    references = [r.text for r in question.reference_answers.all()]
    language = ml_feedback.language_of(question.prompt, references)
    say = HINT_PHRASINGS[language]
    course = conversation.course
    prompt = question.prompt if len(question.prompt) <= 160 else question.prompt[:159] + "…"
    intro = say.intro.format(quote(prompt, language))
    citations: list[dict] = []
    if level == 1:
        answer = course_answer(course=course, text=question.prompt)
        citations = citation_dicts(course=course, answer=answer)[:1]
        if citations:
            c = citations[0]
            section = say.read_section.format(quote(c["section"], language)) if c["section"] else ""
            body = say.hint.format(1) + say.read.format(quote(c["title"], language) + section)
        elif question.unit_id and domain_selectors.resource_list(user=conversation.student).filter(
            course=course, unit_id=question.unit_id
        ).exists():
            body = say.hint.format(1) + say.reread_unit
        else:
            body = say.hint.format(1) + say.no_reading
    elif level == 2:
        body = say.hint.format(2) + _missed_ideas(conversation=conversation, question=question, references=references,
                                                  language=language)
    else:
        body = say.hint.format(3) + _idea_cues(question=question, references=references, language=language)
        if given >= LAST_HINT:
            body = f"{say.no_more_hints}\n\n{body}"
    return TutorReply(f"{intro}\n\n{body}", ml_intents.ANSWER_REQUEST, citations, question_id=question.pk, hint_level=level)


def _missed_ideas(*, conversation: Conversation, question: Question, references: list[str], language: str) -> str:
    student = conversation.student
    last = student_selectors.with_current_grade(
        student_selectors.submission_list(user=student).filter(student=student, question_id=question.pk)
    ).order_by("-submitted_at", "-id").first()
    if last is None:
        return _idea_cues(question=question, references=references, language=language, count_only=True)
    say = HINT_PHRASINGS[language]
    # A grade the student was shown (or a teacher's) outranks the tutor's own reading of the answer.
    graded = last.grade_verdict is not None and (
        last.status == Submission.Status.GRADED or last.grade_source == Grade.Source.TEACHER
    )
    not_correct = graded and last.grade_verdict != Grade.Verdict.CORRECT
    alignment = ml_feedback.align(reference_answers=references, answer=last.answer, encoder=get_embedder())
    cues = ml_feedback.hint_words([i.text for i in alignment.missing], last.answer, question.prompt,
                                  language=language, ideas_named=len(alignment.missing),
                                  covers_some=bool(alignment.covered))
    if not alignment.missing:
        return say.attempt_not_correct if not_correct else say.attempt_covers_all
    if not cues:
        return say.attempt_not_correct if not_correct else say.attempt_close
    return say.attempt_misses.format("; ".join(", ".join(c) for c in cues[:3]))


def _idea_cues(*, question: Question, references: list[str], language: str, count_only: bool = False) -> str:
    say = HINT_PHRASINGS[language]
    ideas = ml_feedback.ideas_of(references[0]) if references else []
    if not ideas:
        return say.say_what_it_means
    if count_only:
        n = len(ideas)
        return (say.ideas_to_cover_one if n == 1 else say.ideas_to_cover.format(n)) + say.try_first
    cues = ml_feedback.hint_words(ideas, "", question.prompt, language=language, ideas_named=len(ideas))
    if not cues:
        return say.be_precise
    listed = " ".join(f"({i}) {', '.join(c)}." for i, c in enumerate(cues, 1))
    return say.key_words.format(listed)


def _next_step(*, conversation: Conversation) -> TutorReply:
    steps = recommend_next_steps(student=conversation.student, course=conversation.course)
    citations = [{"title": s.title, "section": "", "url": s.url, "reason": s.reason, "kind": s.kind} for s in steps]
    if steps:
        lines = [f"{i}. {s.title} — {s.reason}" for i, s in enumerate(steps, 1)]
        return TutorReply("Here is what I suggest next:\n" + "\n".join(lines), ml_intents.NEXT_STEP, citations)
    course = conversation.course
    answered = set(
        student_selectors.submission_list(user=conversation.student)
        .filter(student=conversation.student, question__course=course)
        .values_list("question_id", flat=True)
    )
    pending = [q for q in _course_questions(conversation=conversation) if q.pk not in answered]
    if not pending:
        return TutorReply(
            "You have answered every question of this course. Review the feedback on your answers, "
            "and retry the ones that were not fully correct.",
            ml_intents.NEXT_STEP,
            [{"title": course.title, "section": "", "url": reverse("course-detail", args=[course.slug])}],
        )
    question = pending[0]
    links = []
    reading = domain_selectors.resource_list(user=conversation.student).filter(
        course=course, unit_id=question.unit_id
    ).first() if question.unit_id else None
    if reading is not None:
        links.append({"title": reading.title, "section": "", "url": reverse("resource-detail", args=[course.slug, reading.pk])})
    links.append({"title": question.prompt[:120], "section": "", "url": reverse("question-detail", args=[course.slug, question.pk])})
    text = f"Next, answer the first question you haven't tried yet: “{question.prompt[:160]}”."
    if reading is not None:
        text = f"Read “{reading.title}”, then answer the first question you haven't tried yet: “{question.prompt[:160]}”."
    return TutorReply(text, ml_intents.NEXT_STEP, links)


def _site_help(*, conversation: Conversation) -> TutorReply:
    course = conversation.course
    return TutorReply(
        "Here's how the site works: the course page lists the readings and the questions of each unit. "
        "Open a question, write your answer and press “Submit answer”; the grade and feedback appear on "
        "that page when it has been marked. In this chat you can ask me about the material, ask for a "
        "hint on a question, or ask what to do next.",
        ml_intents.SITE_HELP,
        [
            {"title": f"{course.title} — course page", "section": "", "url": reverse("course-detail", args=[course.slug])},
            {"title": "My courses", "section": "", "url": reverse("my-courses")},
        ],
    )


_THANKS = re.compile(r"\b(thanks?|thx|ty|great|awesome|cool|nice)\b", re.I)
_BYE = re.compile(r"\b(bye|goodbye|see you|good night)\b", re.I)


def _small_talk(*, conversation: Conversation, text: str) -> TutorReply:
    if _BYE.search(text):
        reply = "Goodbye — good luck with your studies! This conversation will be here when you come back."
    elif _THANKS.search(text):
        reply = "You're welcome! Ask me anything else about the course."
    else:
        reply = (
            f"Hello! I'm the tutor for {conversation.course.title}. Ask me about the readings, ask for a hint "
            "on one of your questions, or ask what to do next."
        )
    return TutorReply(reply, ml_intents.SMALL_TALK)


class CourseTutor:
    """What the chat would cite for a first message, as a ``QAEngine``-like ``answer(q)`` (for evaluate_qa):
    a pasted assigned question is answered with a hint citing its section, anything else from the readings."""

    def __init__(self, course: Course):
        self.course = course

    def answer(self, text: str) -> Answer:
        vector = get_embedder().encode([text])[0]
        intent = intent_classifier().classify(text, vector=vector).name
        match = _question_vectors.best(course=self.course, vector=vector)
        if _is_answer_request(match, intent, text):
            return self._hint_answer(match.prompt)
        answer = course_answer(course=self.course, text=text, vector=vector)
        if not answer.unsure:
            references = list(
                ReferenceAnswer.objects.filter(question__course=self.course).values_list("question_id", "text")
            )
            prompts, sims = _question_vectors.similarities(course=self.course, vector=vector)
            revealed = _revealed_question_id(references=references, prompts=prompts, sims=sims, text=text,
                                             reply=answer.text)
            if revealed is not None:
                return self._hint_answer(prompts[revealed])
        return answer

    def _hint_answer(self, prompt: str) -> Answer:
        answer = course_answer(course=self.course, text=prompt)
        answer.citations = answer.citations[:1]
        return answer

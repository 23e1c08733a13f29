"""The chat's hint sentences in each language the grader's feedback is written in (``tutor.ml.feedback.PHRASINGS``).

A hint is about one assigned question, so it is written in that question's language
(``feedback.language_of``), like the feedback on an answer to it; the chat's other replies stay in the
site's language. Quotation marks are the feedback's. ``{}`` takes a quote or the hint words; the German
sentences address the student as "du", as SAF's German tutors do.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.ml.feedback import PHRASINGS


@dataclass(frozen=True)
class HintPhrasing:
    intro: str  # {}: the question's prompt, quoted
    hint: str  # {}: the hint's number
    read: str  # {}: the reading's title, quoted, with the section's part
    read_section: str  # {}: the section's title, quoted
    reread_unit: str
    no_reading: str  # the course has no reading on the question's unit
    attempt_covers_all: str
    attempt_not_correct: str  # the last attempt's released grade says it is not correct
    attempt_close: str
    attempt_misses: str  # {}: the missed ideas' key words
    ideas_to_cover_one: str
    ideas_to_cover: str  # {}: how many ideas
    try_first: str
    say_what_it_means: str
    be_precise: str
    key_words: str  # {}: the numbered key words of every idea
    no_more_hints: str


HINT_PHRASINGS = {
    "en": HintPhrasing(
        intro="That's one of your assigned questions ({}), so I won't give you its answer — but here is a hint.",
        hint="Hint {}: ",
        read="read {} (linked below), then answer in your own words.",
        read_section=" — the part on {}",
        reread_unit="reread the reading of this unit and answer in your own words.",
        no_reading="work out exactly what the question asks and what you already know about it, then answer in "
                   "your own words. This course has no reading on it; your teacher can point you to one.",
        attempt_covers_all="your last attempt already covers the key ideas; make each one explicit and precise.",
        attempt_not_correct="your last attempt was graded as not correct yet: compare it with the feedback on it and "
                            "with the reading, and say precisely what it is and what it does.",
        attempt_close="your last attempt is close; say more precisely what happens and why.",
        attempt_misses="your last attempt did not yet cover the ideas about: {}.",
        ideas_to_cover_one="a complete answer covers 1 idea.",
        ideas_to_cover="a complete answer covers {} ideas.",
        try_first=" Try writing it now and submit it — after your first attempt I can tell you which ideas are "
                  "still missing.",
        say_what_it_means="say what the term means and what it is used for, in one or two sentences.",
        be_precise="be precise: say what it is and what it does, in your own words.",
        key_words="a complete answer uses these key words: {}",
        no_more_hints="You've had all my hints for this one. Write your answer in your own words and submit it: "
                      "the feedback on your attempt will tell you what is still missing. You can ask your teacher too.",
    ),
    "de": HintPhrasing(
        intro="Das ist eine deiner Aufgaben ({}), deshalb verrate ich dir die Antwort nicht — aber hier ist ein Hinweis.",
        hint="Hinweis {}: ",
        read="Lies {} (unten verlinkt) und antworte dann in deinen eigenen Worten.",
        read_section=" — den Teil zu {}",
        reread_unit="Lies den Lesestoff dieser Einheit noch einmal und antworte in deinen eigenen Worten.",
        no_reading="Überleg dir genau, was die Frage wissen will und was du schon darüber weißt, und antworte dann "
                   "in deinen eigenen Worten. In diesem Kurs gibt es keinen Lesestoff dazu; deine Lehrkraft kann dir "
                   "einen nennen.",
        attempt_covers_all="Dein letzter Versuch enthält schon die wichtigen Gedanken; formuliere jeden davon "
                           "ausdrücklich und genau.",
        attempt_not_correct="Dein letzter Versuch wurde noch nicht als richtig bewertet: Vergleiche ihn mit der "
                            "Rückmeldung dazu und mit dem Lesestoff, und sag genau, was es ist und was es tut.",
        attempt_close="Dein letzter Versuch ist nah dran; sag genauer, was passiert und warum.",
        attempt_misses="In deinem letzten Versuch fehlen noch die Gedanken zu: {}.",
        ideas_to_cover_one="Eine vollständige Antwort enthält einen Gedanken.",
        ideas_to_cover="Eine vollständige Antwort enthält {} Gedanken.",
        try_first=" Schreib sie jetzt und reiche sie ein — nach deinem ersten Versuch kann ich dir sagen, welche "
                  "Gedanken noch fehlen.",
        say_what_it_means="Sag in ein oder zwei Sätzen, was der Begriff bedeutet und wofür man ihn verwendet.",
        be_precise="Sei genau: Sag in deinen eigenen Worten, was es ist und was es tut.",
        key_words="Eine vollständige Antwort verwendet diese Schlüsselwörter: {}",
        no_more_hints="Du hast alle meine Hinweise zu dieser Aufgabe bekommen. Schreib deine Antwort in deinen "
                      "eigenen Worten und reiche sie ein: Die Rückmeldung zu deinem Versuch sagt dir, was noch fehlt. "
                      "Du kannst auch deine Lehrkraft fragen.",
    ),
}


def quote(text: str, language: str) -> str:
    """``text`` between the language's quotation marks (the feedback's)."""
    say = PHRASINGS[language]
    return f"{say.open_quote}{text}{say.close_quote}"

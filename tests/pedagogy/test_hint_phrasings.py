"""Every language the grader writes feedback in has the chat's hint sentences, with the same blanks."""

import dataclasses
import string

from pedagogy.hint_phrasings import HINT_PHRASINGS, HintPhrasing
from tutor.ml.feedback import PHRASINGS


def _blanks(template: str) -> int:
    return sum(1 for _, name, _, _ in string.Formatter().parse(template) if name is not None)


def test_every_feedback_language_has_hint_sentences():
    assert set(HINT_PHRASINGS) == set(PHRASINGS)


def test_each_sentence_takes_as_many_blanks_as_the_english_one():
    english = HINT_PHRASINGS["en"]
    for language, phrasing in HINT_PHRASINGS.items():
        for f in dataclasses.fields(HintPhrasing):
            mine, theirs = getattr(phrasing, f.name), getattr(english, f.name)
            assert _blanks(mine) == _blanks(theirs), (language, f.name)
            assert mine != theirs or language == "en", (language, f.name)

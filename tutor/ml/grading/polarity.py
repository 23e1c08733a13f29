"""Contrast pairs for the weakest verdict: a correct answer with one statement turned around.

SemEval's ``contradictory`` (the answer states the opposite of the reference) is the verdict the grader
finds least often: on SciEntsBank's unseen answers grader-minilm-v3 recalls 29 of 58, and many it misses
are one word away from a correct answer ("the water flows *slow* during a flood", "the pitch gets
*higher*", "the others will *not* work"). ``polarity_flip_pairs`` adds, for correct training answers, the
same answer with one polarity word flipped (an antonym, or a negation added or removed), labelled
contradictory with no credit. The original stays in training as correct, so the model sees minimal pairs:
the flip, not the presence of a negation, is what changes the verdict (a contrast set, Gardner et al. 2020).
Only sources whose label set has ``contradictory`` get them (SemEval's 3-way verdicts).
"""

from __future__ import annotations

import random
import re

from ..data.types import GradedAnswer
from .config import DATASET_LABELS, LABELS
from .dataset import PairExample, choose_references, is_correct, label_mask, segment_a

_ANTONYMS = [
    ("more", "less"), ("higher", "lower"), ("high", "low"), ("increase", "decrease"),
    ("increases", "decreases"), ("increased", "decreased"), ("increasing", "decreasing"),
    ("faster", "slower"), ("fast", "slow"), ("larger", "smaller"), ("bigger", "smaller"),
    ("hotter", "colder"), ("warmer", "cooler"), ("heavier", "lighter"), ("longer", "shorter"),
    ("louder", "softer"), ("brighter", "dimmer"), ("greater", "less"), ("most", "least"),
    ("open", "closed"), ("series", "parallel"), ("positive", "negative"), ("same", "different"),
    ("yes", "no"), ("always", "never"), ("attract", "repel"), ("attracts", "repels"),
    ("conductor", "insulator"), ("conductors", "insulators"), ("complete", "incomplete"),
    ("connected", "disconnected"), ("inside", "outside"), ("above", "below"), ("before", "after"),
    ("east", "west"), ("north", "south"), ("absorbs", "reflects"), ("solid", "liquid"),
    ("gains", "loses"), ("expands", "contracts"), ("rises", "sinks"), ("float", "sink"),
    ("floats", "sinks"), ("easier", "harder"), ("stronger", "weaker"), ("farther", "closer"),
]
# the first word of a pair flips to the second and back; "smaller" and "less" flip to the first pair they
# appear in ("larger", "more")
_FLIP: dict[str, str] = {}
for _a, _b in _ANTONYMS:
    _FLIP.setdefault(_a, _b)
    _FLIP.setdefault(_b, _a)
# negations added after an auxiliary or taken away
_ADD_NOT = {"is", "are", "was", "were", "will", "would", "does", "do", "did", "can", "could", "should"}
_DROP_NOT = {"isn't": "is", "aren't": "are", "wasn't": "was", "weren't": "were", "won't": "will",
             "wouldn't": "would", "doesn't": "does", "don't": "do", "didn't": "did", "cannot": "can",
             "can't": "can", "couldn't": "could", "shouldn't": "should", "hasn't": "has", "haven't": "have"}
_TOKEN = re.compile(r"[A-Za-z]+(?:'t)?|[^A-Za-z]+")


def _cased(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def flip_candidates(text: str) -> list[tuple[int, str]]:
    """Every single edit that turns one statement of ``text`` around: (token index, its replacement)."""
    tokens = _TOKEN.findall(text)
    edits = []
    for i, token in enumerate(tokens):
        word = token.lower()
        if word in _FLIP:
            edits.append((i, _cased(_FLIP[word], token)))
        elif word in _DROP_NOT:
            edits.append((i, _cased(_DROP_NOT[word], token)))
        elif word == "not" and i >= 2 and tokens[i - 2].lower() in _ADD_NOT and tokens[i - 1] == " ":
            edits.append((i, ""))  # "is not" -> "is"
        elif word in _ADD_NOT and not _negated_after(tokens, i):
            edits.append((i, token + " not"))
    return edits


def _negated_after(tokens: list[str], i: int) -> bool:
    return i + 2 < len(tokens) and tokens[i + 2].lower() == "not"


def flip_polarity(text: str, rng: random.Random) -> str | None:
    """``text`` with one polarity edit drawn at random, or None when it has nothing to flip."""
    edits = flip_candidates(text)
    if not edits:
        return None
    index, replacement = rng.choice(edits)
    tokens = _TOKEN.findall(text)
    tokens[index] = replacement
    flipped = "".join(tokens)
    return re.sub(r"  +", " ", flipped).strip()


def polarity_flip_pairs(items: list[GradedAnswer], *, share: float, references: str, sep: str,
                        seed: int) -> list[PairExample]:
    """Contradictory training pairs made from correct answers (see the module docstring).

    ``share`` of the correct answers that have something to flip, drawn with ``seed``, each get one pair:
    the answer with one polarity word flipped against the reference its own pair uses, verdict
    contradictory, score 0."""
    if share <= 0:
        return []
    rng = random.Random(seed)
    contradictory = LABELS.index("contradictory")
    pairs = []
    for index, item in enumerate(items):
        labels = DATASET_LABELS.get(item.dataset, ())
        if "contradictory" not in labels or not is_correct(item) or rng.random() >= share:
            continue
        flipped = flip_polarity(item.answer or "", rng)
        if not flipped or flipped.lower() == (item.answer or "").strip().lower():
            continue
        for reference in choose_references(item, references):
            pairs.append(PairExample(segment_a(item.question, reference, sep), flipped, contradictory,
                                     label_mask(labels), 0.0, index))
    return pairs

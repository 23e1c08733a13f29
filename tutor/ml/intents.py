"""What a student wants from the tutor, from one chat message.

Five intents: a question about the material, a request for the answer to an assigned question,
"what should I do next?", help with the site, and small talk. Clear phrasings are caught by
rules; the rest goes to the nearest prototype phrase by sentence-embedding cosine, and anything
not close to a prototype is treated as a question about the material (the tutor then answers
from the readings, or says it is unsure).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

MATERIAL = "material"
ANSWER_REQUEST = "answer_request"
NEXT_STEP = "next_step"
SITE_HELP = "site_help"
SMALL_TALK = "small_talk"
INTENTS = (MATERIAL, ANSWER_REQUEST, NEXT_STEP, SITE_HELP, SMALL_TALK)


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


_RULES: list[tuple[str, re.Pattern]] = [
    (
        ANSWER_REQUEST,
        re.compile(
            r"\b((give|tell|show|send|just give|write)\s+(me|us)\s+(the\s+)?(correct\s+|right\s+|full\s+)?answers?"
            r"|what(?:'s|\s+is|\s+are)\s+the\s+(correct\s+|right\s+)?answers?\s+(to|for|of)"
            r"|answers?\s+(to|for)\s+(question|q|number|no\.?|#|exercise|homework)"
            r"|(solve|do|answer|finish)\s+(this|my|the)\s+(question|homework|assignment|exercise)"
            r"|do\s+my\s+homework|model\s+answer|reference\s+answer|expected\s+answer"
            r"|(what|which)\s+should\s+i\s+(write|put|answer)\s+(for|in|to))",
            re.I,
        ),
    ),
    (
        NEXT_STEP,
        re.compile(
            r"\b(what\s+(should|do|can|shall)\s+i\s+(do|study|learn|read|work\s+on|practi[cs]e|revise|review)"
            r"(\s+\w+)?\s*(next|now|first|today)"
            r"|what(?:'s|\s+is)\s+next|what\s+now\b|where\s+(should|do)\s+i\s+(start|begin|go\s+from\s+here)"
            r"|(recommend|suggest)\w*\s+(me\s+)?(something|what|a\s+next|next)|next\s+step)",
            re.I,
        ),
    ),
    (
        SITE_HELP,
        re.compile(
            r"\b(how\s+(do|can)\s+i\s+(submit|log\s*(in|out)|sign\s*(in|out)|see\s+my\s+(grades?|marks?|scores?|"
            r"submissions?|progress)|find\s+my|change\s+my\s+password|use\s+(this|the)\s+(site|app|chat|tutor))"
            r"|where\s+(can|do)\s+i\s+(find|see)\s+my|how\s+does\s+(this|the)\s+(site|app|chat|tutor|grading)\s+work"
            r"|(this|the)\s+(site|page|app)\s+(is\s+)?(broken|not\s+working)|what\s+can\s+you\s+do)",
            re.I,
        ),
    ),
    (
        SMALL_TALK,
        re.compile(
            r"^\s*(hi+|hello+|hey+|yo|good\s+(morning|afternoon|evening|night)|thanks?(\s+you)?(\s+so\s+much)?|thx|ty"
            r"|ok(ay)?|cool|nice|great|awesome|bye|goodbye|see\s+you|lol|how\s+are\s+you(\s+doing)?|who\s+are\s+you"
            r"|are\s+you\s+(a\s+)?(bot|robot|human|real))\b[\s!.?,:)]*(tutor|there|again|a\s+lot)?[\s!.?,:)]*$",
            re.I,
        ),
    ),
]

PROTOTYPES: dict[str, list[str]] = {
    MATERIAL: [
        "what is a variable",
        "how do I make a list",
        "what is the difference between these two things",
        "can you explain how a loop works",
        "why does this give an error",
        "what does this term mean",
        "how does a function return a value",
        "I don't understand this concept from the reading",
    ],
    ANSWER_REQUEST: [
        "what is the answer to question 3",
        "can you give me the answer to the homework",
        "just tell me what to write for this question",
        "solve this exercise for me",
        "what is the correct answer",
    ],
    NEXT_STEP: [
        "what should I do next",
        "what should I study now",
        "which topic should I work on",
        "I finished this chapter, what now",
        "what do you recommend I practise",
    ],
    SITE_HELP: [
        "how do I submit my answer",
        "where can I see my grades",
        "how do I log out",
        "how does this website work",
        "the page is not loading",
    ],
    SMALL_TALK: [
        "hello there",
        "thank you so much",
        "how are you today",
        "you are great",
        "good night, bye",
    ],
}


@dataclass(frozen=True)
class IntentConfig:
    min_similarity: float = 0.55  # a prototype at least this close decides; else "material"
    margin: float = 0.03  # ... and closer than the best material prototype by this much


@dataclass
class Intent:
    name: str
    score: float  # 1.0 for a rule, else the cosine of the nearest prototype
    rule: bool = False
    scores: dict[str, float] = field(default_factory=dict)


class IntentClassifier:
    def __init__(self, encoder: Encoder, config: IntentConfig | None = None):
        self.encoder = encoder
        self.config = config or IntentConfig()
        self._labels: list[str] = []
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def _prototypes(self) -> tuple[list[str], np.ndarray]:
        with self._lock:
            if self._vectors is None:
                texts = [(name, text) for name, items in PROTOTYPES.items() for text in items]
                self._labels = [name for name, _ in texts]
                self._vectors = np.asarray(self.encoder.encode([text for _, text in texts]), dtype=np.float32)
        return self._labels, self._vectors

    @staticmethod
    def by_rule(text: str) -> Intent | None:
        """The intent when a rule recognises the phrasing (no model work), else None."""
        for name, pattern in _RULES:
            if pattern.search(text):
                return Intent(name, 1.0, rule=True)
        return None

    def classify(self, text: str, *, vector: np.ndarray | None = None) -> Intent:
        """The intent of ``text``; pass ``vector`` (its normalised embedding) to save encoding it again."""
        ruled = self.by_rule(text)
        if ruled is not None:
            return ruled
        labels, vectors = self._prototypes()
        q = vector if vector is not None else self.encoder.encode([text])[0]
        sims = vectors @ q
        best: dict[str, float] = {}
        for label, sim in zip(labels, sims):
            best[label] = max(best.get(label, -1.0), float(sim))
        name = max(best, key=best.get)
        if (
            name != MATERIAL
            and best[name] >= self.config.min_similarity
            and best[name] >= best[MATERIAL] + self.config.margin
        ):
            return Intent(name, best[name], scores=best)
        return Intent(MATERIAL, best[MATERIAL], scores=best)

"""Champion / challenger: measure two graders on the same answers and decide whether to switch.

Two measurements per grader:
- ``course``: held-out teacher-graded answers of the course (verdicts the course's teachers
  use; macro-F1 decides, accuracy and Pearson of scores are recorded);
- ``global``: a fixed, seeded slice of the public benchmarks' unseen-answers test splits
  (SciEntsBank and SAF English; never trained on), so that an adapter that learns one
  course cannot quietly wreck grading in general.

The challenger is promoted only if its course macro-F1 beats the champion's by more than
``min_course_gain`` and its global macro-F1 does not fall more than ``global_tolerance``
below the champion's.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..data.asag import read_jsonl_gz
from ..data.types import GradedAnswer
from ..metrics import classification_report, clean, pearson
from .config import LABELS
from .evaluate import evaluate_items

# The unseen-answers test splits of the public data: (file, subset, format).
GLOBAL_SOURCES = (("semeval", "sciEntsBank", "semeval"), ("saf", "english", "saf"))


@dataclass(frozen=True)
class PromotionPolicy:
    min_course_gain: float = 0.0  # the challenger must be strictly better than champion + this
    global_tolerance: float = 0.02  # largest allowed drop of global macro-F1
    global_per_source: int = 150  # answers per global source (2 sources: 300 answers)
    seed: int = 13

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Decision:
    promote: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"promote": self.promote, "reasons": list(self.reasons)}


def global_slice(data_dir: str | Path, *, per_source: int, seed: int) -> dict[str, list[GradedAnswer]]:
    """A seeded sample of each source's ``unseen_answers`` split, by format; empty when the data is absent."""
    slices: dict[str, list[GradedAnswer]] = {}
    for name, subset, fmt in GLOBAL_SOURCES:
        path = Path(data_dir) / f"{name}.jsonl.gz"
        if not path.exists():
            continue
        rows = sorted(
            (r for r in read_jsonl_gz(path) if r.subset == subset and r.split == "unseen_answers"),
            key=lambda r: (r.question_id, r.answer_id),
        )
        if rows:
            slices[fmt] = random.Random(seed).sample(rows, min(per_source, len(rows)))
    return slices


def evaluate_course(predictor, items: list[GradedAnswer], labels: tuple[str, ...]) -> dict:
    """Agreement with the course's teachers on held-out answers, over the verdicts they use."""
    allowed = tuple(name for name in LABELS if name in labels) or LABELS
    predictions = predictor.predict(items, allowed_labels=allowed)
    y_true = [item.label for item in items]
    y_pred = [p.verdict for p in predictions]
    present = [name for name in allowed if name in set(y_true) | set(y_pred)]
    report = classification_report(y_true, y_pred, present)
    report.pop("per_class", None)
    scored = [
        (item.normalised_score, p.score) for item, p in zip(items, predictions) if item.normalised_score is not None
    ]
    result = {"n": len(items), **report}
    if scored:
        result["pearson"] = pearson([t for t, _ in scored], [s for _, s in scored])
    return clean(result)


def evaluate_global(predictor, slices: dict[str, list[GradedAnswer]]) -> dict:
    """Per source metrics and their mean macro-F1 (``macro_f1``); empty without data."""
    by_source = {}
    for fmt, items in slices.items():
        metrics = evaluate_items(predictor, items, fmt)
        by_source[fmt] = {k: metrics[k] for k in ("n", "macro_f1", "accuracy") if k in metrics}
    if not by_source:
        return {}
    values = [m["macro_f1"] for m in by_source.values() if m.get("macro_f1") is not None]
    return clean({
        "macro_f1": sum(values) / len(values) if values else None,
        "n": sum(m["n"] for m in by_source.values()),
        "sources": by_source,
    })


def decide(champion: dict, challenger: dict, policy: PromotionPolicy) -> Decision:
    """``champion``/``challenger``: ``{"course": {...}, "global": {...}}`` as measured above."""
    reasons = []
    old, new = champion["course"].get("macro_f1"), challenger["course"].get("macro_f1")
    course_better = old is not None and new is not None and new > old + policy.min_course_gain
    if course_better:
        reasons.append(f"course macro-F1 improved {old:.3f} → {new:.3f}")
    else:
        reasons.append(
            f"course macro-F1 did not improve enough ({_fmt(old)} → {_fmt(new)}, "
            f"needs more than +{policy.min_course_gain:g})"
        )
    old_global, new_global = champion["global"].get("macro_f1"), challenger["global"].get("macro_f1")
    if old_global is None or new_global is None:
        global_ok = True
        reasons.append("no global benchmark slice measured")
    else:
        global_ok = new_global >= old_global - policy.global_tolerance
        verb = "held" if global_ok else "dropped more than the tolerance"
        reasons.append(
            f"global macro-F1 {verb}: {old_global:.3f} → {new_global:.3f} (tolerance {policy.global_tolerance:g})"
        )
    return Decision(promote=course_better and global_ok, reasons=reasons)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"

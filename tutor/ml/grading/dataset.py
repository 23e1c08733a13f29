"""From graded answers to model inputs: text pairs, targets, validation split, batches.

Several reference answers (Beetle has up to a dozen per question):
- training (``train_references``): ``best_overlap`` (default) pairs each answer with the
  reference it shares most words with. Pairing a correct answer with a reference it does
  not paraphrase would teach "unrelated text can be correct"; the most similar reference
  is also the hardest negative for wrong answers. ``each`` uses every reference (more,
  noisier pairs), ``first`` the first one.
- prediction (``predict_references``): ``max_score`` (default) scores the answer against
  every reference and keeps the reference under which the predicted score is highest, as
  a teacher accepts an answer that matches any reference; ``mean`` averages probabilities
  and scores over references; ``best_overlap``/``first`` use one pair as in training.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import torch

from ..data.types import GradedAnswer
from .config import DATASET_LABELS, LABEL_SCORE, LABELS, TRUNCATIONS

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class PairExample:
    text_a: str  # question [SEP] reference answer
    text_b: str  # student answer
    label: int  # index into LABELS, -100 when the item has no verdict
    allowed: tuple[bool, ...]  # verdict classes this item's source uses
    score: float  # normalised target in [0, 1], NaN when unknown
    group: int  # index of the GradedAnswer the pair came from
    teacher_logits: tuple[float, ...] | None = None  # a teacher grader's raw verdict logits (distillation)
    teacher_score: float = float("nan")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def overlap(answer: str, reference: str) -> float:
    """Dice overlap of word sets; cheap and good enough to pick the closest reference."""
    a, r = words(answer), words(reference)
    if not a or not r:
        return 0.0
    return 2 * len(a & r) / (len(a) + len(r))


def allowed_labels(dataset: str, label: str = "") -> tuple[str, ...]:
    """The verdict classes of a source (all four for sources we do not know)."""
    if dataset in DATASET_LABELS:
        return DATASET_LABELS[dataset]
    return LABELS if label else ()


def label_mask(labels: tuple[str, ...] | list[str]) -> tuple[bool, ...]:
    return tuple(name in labels for name in LABELS)


def score_target(item: GradedAnswer) -> float:
    if item.normalised_score is not None:
        return float(item.normalised_score)
    if item.label in LABEL_SCORE:
        return LABEL_SCORE[item.label]
    return math.nan


def choose_references(item: GradedAnswer, mode: str) -> tuple[str, ...]:
    refs = tuple(r for r in item.reference_answers if r and r.strip()) or ("",)
    if mode in ("each", "max_score", "mean"):
        return refs
    if mode == "first":
        return refs[:1]
    if mode == "best_overlap":
        return (max(refs, key=lambda r: overlap(item.answer, r)),)
    raise ValueError(f"unknown reference mode {mode!r}")


def segment_a(question: str, reference: str, sep: str) -> str:
    question, reference = (question or "").strip(), (reference or "").strip()
    if question and reference:
        return f"{question} {sep} {reference}"
    return question or reference


def make_pairs(items: list[GradedAnswer], *, references: str, sep: str) -> list[PairExample]:
    pairs = []
    for index, item in enumerate(items):
        label, allowed = verdict_target(item)
        target = score_target(item)
        for reference in choose_references(item, references):
            pairs.append(
                PairExample(segment_a(item.question, reference, sep), item.answer or "", label, allowed, target, index)
            )
    return pairs


def verdict_target(item: GradedAnswer) -> tuple[int, tuple[bool, ...]]:
    """The item's verdict as an index into LABELS (-100 when it has none), and its source's class mask."""
    if item.label and item.label not in LABELS:
        raise ValueError(f"unknown label {item.label!r} in {item.dataset}/{item.answer_id}")
    allowed = label_mask(allowed_labels(item.dataset, item.label))
    label = LABELS.index(item.label) if item.label and allowed[LABELS.index(item.label)] else -100
    return label, allowed


def is_correct(item: GradedAnswer) -> bool:
    """Graded fully right: a "correct" verdict, or full points where the source gives points only."""
    if item.label:
        return item.label == "correct"
    return item.normalised_score is not None and item.normalised_score >= 1.0


def student_reference_pairs(
    items: list[GradedAnswer], *, per_answer: int, sep: str, seed: int, datasets: tuple[str, ...] = ()
) -> list[PairExample]:
    """Extra training pairs whose reference is another student's correct answer to the same question.

    A correct answer is a reference too (Lun et al., AAAI 2020, "Multiple data augmentation strategies
    for improving performance on automatic short answer scoring"): each answer is paired with up to
    ``per_answer`` correct answers of other students to its question, drawn at random (seeded), with its
    own label and score. Only the training items' own answers are drawn, so no validation answer leaks.
    ``datasets`` limits the extra pairs to those data sets' answers (empty: all).
    """
    if per_answer <= 0:
        return []
    rng = random.Random(seed)
    texts = [(item.answer or "").strip().lower() for item in items]
    correct: dict[tuple, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        if is_correct(item) and texts[index]:
            correct[(item.dataset, item.subset, item.question_id)].append(index)
    pairs = []
    for index, item in enumerate(items):
        if datasets and item.dataset not in datasets:
            continue
        label, allowed = verdict_target(item)
        # other students' answers only: never the answer itself, nor a copy of its text
        peers = [i for i in correct[(item.dataset, item.subset, item.question_id)] if texts[i] != texts[index]]
        for peer in rng.sample(peers, min(per_answer, len(peers))):
            pairs.append(PairExample(segment_a(item.question, items[peer].answer, sep), item.answer or "",
                                     label, allowed, score_target(item), index))
    return pairs


class PairCollator:
    """Tokenises a batch on the fly, padding only to the longest pair in it.

    ``truncation`` says what a pair longer than ``max_length`` loses. ``longest_first`` (the tokenizer's
    own, what versions before session 14 were trained with) cuts the end of the longer segment, and
    segment A ends with the reference answer: 9 % of SciEntsBank's unseen answers lost the end of their
    reference at 160 tokens behind a long question. ``question_first`` cuts the question from its start
    (its last sentence asks), and only if the question alone is not enough, the longer of reference and
    answer from its end.
    """

    def __init__(self, tokenizer, max_length: int, *, truncation: str = "longest_first"):
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {TRUNCATIONS}, not {truncation!r}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation = truncation

    def __call__(self, batch: list[PairExample]) -> dict[str, torch.Tensor]:
        if self.truncation == "question_first":
            encoded = self._encode_question_first(batch)
        else:
            encoded = self.tokenizer(
                [p.text_a for p in batch],
                [p.text_b for p in batch],
                padding="longest",
                truncation="longest_first",
                max_length=self.max_length,
                return_tensors="pt",
            )
        encoded = dict(encoded)
        encoded["labels"] = torch.tensor([p.label for p in batch], dtype=torch.long)
        encoded["allowed"] = torch.tensor([p.allowed for p in batch], dtype=torch.bool)
        encoded["scores"] = torch.tensor([p.score for p in batch], dtype=torch.float)
        encoded["groups"] = torch.tensor([p.group for p in batch], dtype=torch.long)
        if any(p.teacher_logits is not None for p in batch):
            nan4 = (float("nan"),) * 4
            encoded["teacher_logits"] = torch.tensor([p.teacher_logits or nan4 for p in batch], dtype=torch.float)
            encoded["teacher_scores"] = torch.tensor([p.teacher_score for p in batch], dtype=torch.float)
        return encoded

    def _encode_question_first(self, batch: list[PairExample]):
        tokenizer = self.tokenizer
        budget = self.max_length - tokenizer.num_special_tokens_to_add(pair=True)
        # whole pairs first (no warning about their length: they are cut to max_length below)
        full = tokenizer([p.text_a for p in batch], [p.text_b for p in batch], truncation=False, verbose=False)
        features = []
        for i in range(len(batch)):
            segment = full.sequence_ids(i)  # None for special tokens, 0 for A, 1 for B
            a = [k for k, s in enumerate(segment) if s == 0]
            b = [k for k, s in enumerate(segment) if s == 1]
            ids = full["input_ids"][i]
            question = next((n for n, k in enumerate(a) if ids[k] == tokenizer.sep_token_id), 0)
            a_start, a_end, b_end = truncate_question_first(len(a), len(b), question=question, budget=budget)
            dropped = set(a[:a_start] + a[a_end:] + b[b_end:])
            features.append({key: [v for k, v in enumerate(values[i]) if k not in dropped]
                             for key, values in full.items()})
        return tokenizer.pad(features, padding="longest", return_tensors="pt")


def truncate_question_first(a: int, b: int, *, question: int, budget: int) -> tuple[int, int, int]:
    """What to keep of segment A (``a`` tokens: ``question`` tokens, a separator, the reference) and B
    (``b`` tokens, the answer) to fit ``budget``: ``A[start:end]`` and ``B[:end_b]``. The question goes
    first, from its start (with its separator once it is all gone), then the end of the longer segment."""
    excess = a + b - budget
    start = 0
    if excess > 0 and question:
        start = question + 1 if excess >= question else excess
        excess -= start
    a -= start
    while excess > 0:
        if a >= b:
            a -= 1
        else:
            b -= 1
        excess -= 1
    return start, start + a, b


def split_validation(
    items: list[GradedAnswer], *, by: str = "question", fraction: float = 0.1, seed: int = 13
) -> tuple[list[GradedAnswer], list[GradedAnswer]]:
    """Carve a validation split out of training items, per dataset (see TrainConfig)."""
    if fraction <= 0:
        return list(items), []
    rng = random.Random(seed)
    held: set[int] = set()
    by_dataset: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_dataset[item.dataset].append(i)
    for dataset in sorted(by_dataset):
        indices = by_dataset[dataset]
        if by == "question":
            questions = sorted({(items[i].subset, items[i].question_id) for i in indices})
            rng.shuffle(questions)
            chosen = set(questions[: max(1, round(len(questions) * fraction))])
            held.update(i for i in indices if (items[i].subset, items[i].question_id) in chosen)
        elif by == "answer":
            shuffled = list(indices)
            rng.shuffle(shuffled)
            held.update(shuffled[: max(1, round(len(shuffled) * fraction))])
        else:
            raise ValueError(f"val_by must be 'question' or 'answer', not {by!r}")
    train = [item for i, item in enumerate(items) if i not in held]
    val = [item for i, item in enumerate(items) if i in held]
    return train, val


def summarise(items: list[GradedAnswer]) -> dict:
    """Counts per dataset, subset, split and verdict, for the version's training summary."""
    summary: dict = {"n": len(items), "datasets": {}}
    for dataset in sorted({i.dataset for i in items}):
        subset_items = [i for i in items if i.dataset == dataset]
        summary["datasets"][dataset] = {
            "n": len(subset_items),
            "questions": len({(i.subset, i.question_id) for i in subset_items}),
            "subsets": dict(sorted(Counter(i.subset for i in subset_items).items())),
            "splits": dict(sorted(Counter(i.split for i in subset_items).items())),
            "labels": dict(sorted(Counter(i.label or "(none)" for i in subset_items).items())),
            "with_score": sum(1 for i in subset_items if i.normalised_score is not None),
        }
    return summary


def class_weights(items: list[GradedAnswer]) -> torch.Tensor:
    """Verdict weights that balance each source's own classes.

    Within a source (SemEval's 3 ways, SAF's 3), each class weighs the inverse of its frequency, scaled to
    mean 1 over that source's classes; a verdict two sources share (correct, incorrect) takes the average
    of their weights, by answers. Pooling the counts of all sources instead would weigh SAF's rare
    "partially_correct" eleven times SemEval's "correct".
    """
    counts = Counter((i.dataset, i.label) for i in items if i.label in LABELS)
    total = torch.zeros(len(LABELS))
    answers = torch.zeros(len(LABELS))
    for source in sorted({dataset for dataset, _ in counts}):
        present = [name for name in LABELS if counts[(source, name)]]
        scale = len(present) / sum(1.0 / counts[(source, name)] for name in present)
        for name in present:
            k = LABELS.index(name)
            # The class's weight in this source is scale / count; summed over its answers, scale.
            total[k] += scale
            answers[k] += counts[(source, name)]
    return torch.where(answers > 0, total / answers.clamp(min=1), torch.ones(len(LABELS)))

"""Readers for knowledge-tracing practice logs.

Both supported formats are the "three lines per student" layout:

    <number of attempts>
    <skill or item ids, comma separated>
    <correctness 0/1, comma separated>

``dkvmn``: the DKVMN paper's splits (jennyzhang0215/DKVMN), 1-based ids, one skill per row.
``dkt``: the original DKT paper's files (chrispiech/DeepKnowledgeTracing), 0-based ids and
trailing commas. Ids are treated as opaque labels either way; the tracers build their own
vocabulary. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMATS = ("dkvmn", "dkt")


class KTFormatError(ValueError):
    """The file does not follow the three-line layout; the message says where."""


@dataclass(frozen=True, eq=False)
class StudentSequence:
    """One student's attempts in time order: ``skills[t]`` answered ``correct[t]`` (0/1)."""

    skills: np.ndarray  # int64
    correct: np.ndarray  # int8

    def __post_init__(self):
        if len(self.skills) != len(self.correct):
            raise ValueError("skills and correct must have the same length")

    def __len__(self) -> int:
        return len(self.skills)

    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.skills.tolist(), self.correct.tolist()))

    @classmethod
    def from_pairs(cls, pairs) -> StudentSequence:
        pairs = list(pairs)
        skills = np.array([int(s) for s, _ in pairs], dtype=np.int64)
        correct = np.array([int(c) for _, c in pairs], dtype=np.int8)
        return cls(skills, correct)


def _ints(line: str, *, where: str) -> list[int]:
    parts = [p.strip() for p in line.strip().split(",")]
    try:
        return [int(float(p)) for p in parts if p]
    except ValueError as exc:
        raise KTFormatError(f"{where}: expected comma-separated integers, got {line.strip()[:80]!r}") from exc


def parse_kt(text: str, fmt: str = "dkvmn", *, source: str = "<text>") -> list[StudentSequence]:
    """Parse the three-line layout. Blank lines between records and trailing commas are ignored."""
    if fmt not in FORMATS:
        raise KTFormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    lines = text.splitlines()
    sequences: list[StudentSequence] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():  # blank line where a header is expected
            i += 1
            continue
        header = _ints(lines[i], where=f"{source}:{i + 1}")
        if len(header) != 1 or header[0] < 0:
            raise KTFormatError(
                f"{source}:{i + 1}: expected the number of attempts on its own line, got {lines[i].strip()[:80]!r}"
            )
        n = header[0]
        if i + 2 >= len(lines):
            raise KTFormatError(f"{source}:{i + 1}: record is cut short (needs skill and correctness lines)")
        skills = _ints(lines[i + 1], where=f"{source}:{i + 2}")
        correct = _ints(lines[i + 2], where=f"{source}:{i + 3}")
        if len(skills) != n or len(correct) != n:
            raise KTFormatError(
                f"{source}:{i + 1}: header says {n} attempts but found {len(skills)} skills and {len(correct)} answers"
            )
        if any(c not in (0, 1) for c in correct):
            raise KTFormatError(f"{source}:{i + 3}: correctness must be 0 or 1")
        if any(s < 0 for s in skills):
            raise KTFormatError(f"{source}:{i + 2}: skill ids must be non-negative")
        if n:
            sequences.append(StudentSequence(np.asarray(skills, dtype=np.int64), np.asarray(correct, dtype=np.int8)))
        i += 3
    return sequences


def read_kt(path: str | Path, fmt: str = "dkvmn") -> list[StudentSequence]:
    """Read a practice-log file (plain or ``.gz``) into one sequence per student."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"knowledge-tracing file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        sequences = parse_kt(fh.read(), fmt, source=str(path))
    if not sequences:
        raise KTFormatError(f"{path}: no student sequences found")
    return sequences


def split_train_valid(
    sequences: list[StudentSequence], *, valid_fraction: float = 0.2, seed: int = 0
) -> tuple[list[StudentSequence], list[StudentSequence]]:
    """Carve a validation set out of the training students (whole students, never parts of sequences)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(sequences))
    n_valid = max(1, int(round(len(sequences) * valid_fraction))) if len(sequences) > 1 else 0
    valid = [sequences[i] for i in sorted(order[:n_valid])]
    train = [sequences[i] for i in sorted(order[n_valid:])]
    return train, valid

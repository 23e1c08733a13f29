"""Visible evaluation splits for the grading benchmarks (compact copies first, else the originals)."""

from __future__ import annotations

import os
from pathlib import Path

from tutor.ml.data.asag import read_dataset, read_jsonl_gz
from tutor.ml.data.types import GradedAnswer

ROOT = Path(__file__).resolve().parents[1]
COMPACT = ROOT / "data" / "asag"
ORIGINALS = Path("/work/shared/data/asag")

# name -> (format, subset, split, original folder)
SPLITS = {
    "sciEntsBank_unseen_answers": ("semeval", "sciEntsBank", "unseen_answers",
                                   "semeval2013-3way/testing/sciEntsBank/test-unseen-answers"),
    "beetle_unseen_answers": ("semeval", "beetle", "unseen_answers", "semeval2013-3way/testing/beetle/test-unseen-answers"),
    "saf_english_unseen_answers": ("saf", "english", "unseen_answers", "saf/unseen_answers/english"),
    "saf_german_unseen_answers": ("saf", "german", "unseen_answers", "saf/unseen_answers/german"),
}


def _compact(fmt: str) -> list[GradedAnswer] | None:
    path = COMPACT / f"{fmt}.jsonl.gz"
    if not path.exists():
        return None
    try:
        return read_jsonl_gz(path)
    except (OSError, EOFError, ValueError):
        return None


def load_split(name: str) -> list[GradedAnswer]:
    fmt, subset, split, folder = SPLITS[name]
    rows = _compact(fmt)
    if rows is not None:
        picked = [r for r in rows if r.subset == subset and r.split == split]
        if picked:
            return picked
    return read_dataset(fmt, ORIGINALS / folder)


def load_mohler() -> list[GradedAnswer]:
    return _compact("mohler") or read_dataset("mohler", ORIGINALS / "mohler-v2.0")


def data_dir() -> Path:
    """Where training data is read from (compact copies when complete, else the originals)."""
    if all(_compact(n) for n in ("semeval", "saf", "mohler")):
        return COMPACT
    return ORIGINALS


def version_from_args(description: str) -> Path:
    """``--model DIR`` / ``--threads N`` of the benchmarks that measure one grader version: sets the
    threads, returns the version's directory."""
    import argparse

    import torch

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", help="version directory (default: the newest under MODEL_DIR/grader)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return version_dir(args.model)


def version_dir(model: str | None) -> Path:
    """The grader version a benchmark measures: ``--model DIR``, else the newest under MODEL_DIR/grader."""
    from tutor.ml import registry

    if model:
        return Path(model)
    latest = registry.latest_version(os.environ.get("TUTOR_MODEL_DIR", str(ROOT / "var" / "models")), "grader")
    if latest is None:
        raise SystemExit("no trained grader version found: pass --model DIR or run `make models`")
    return latest.path

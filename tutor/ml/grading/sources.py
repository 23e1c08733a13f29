"""Where training data comes from: the project's compact copies, or the original releases.

``data/asag/<name>.jsonl.gz`` (written by ``tutor.ml.data.asag.write_jsonl_gz``) is preferred;
a folder holding the original layout (``semeval2013-3way/``, ``saf/``, ``mohler-v2.0/``)
works too, read with the dataset's own reader.
"""

from __future__ import annotations

from pathlib import Path

from ..data.asag import read_dataset, read_jsonl_gz
from ..data.types import GradedAnswer

# Folder of the original release under a data root, and its training part.
ORIGINAL_TRAIN = {
    "semeval": "semeval2013-3way/training",
    "saf": "saf/training",
    "mohler": "mohler-v2.0",
}
# Mohler has no official split: all of it is training data for the product model.
TRAIN_SPLITS = {"semeval": {"train"}, "saf": {"train"}, "mohler": {"all", "train"}}


def load_training_items(datasets: list[str] | tuple[str, ...], data_dir: str | Path) -> list[GradedAnswer]:
    data_dir = Path(data_dir)
    items: list[GradedAnswer] = []
    for name in datasets:
        if name not in ORIGINAL_TRAIN:
            raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(ORIGINAL_TRAIN)}")
        compact = data_dir / f"{name}.jsonl.gz"
        if compact.exists():
            rows = [r for r in read_jsonl_gz(compact) if r.split in TRAIN_SPLITS[name]]
        elif (data_dir / ORIGINAL_TRAIN[name]).exists():
            rows = read_dataset(name, data_dir / ORIGINAL_TRAIN[name])
        else:
            raise FileNotFoundError(f"no {name} data under {data_dir} (expected {compact.name} or {ORIGINAL_TRAIN[name]}/)")
        if not rows:
            raise ValueError(f"no training rows for {name} under {data_dir}")
        items.extend(rows)
    return items


def read_any(fmt: str, path: str | Path) -> list[GradedAnswer]:
    """A split in its own format, or a compact ``.jsonl.gz`` copy."""
    path = Path(path)
    if path.name.endswith(".jsonl.gz"):
        return read_jsonl_gz(path)
    return read_dataset(fmt, path)


def cap_per_dataset(items: list[GradedAnswer], limit: int, seed: int) -> list[GradedAnswer]:
    """At most ``limit`` items per dataset, a seeded random sample (quick runs)."""
    import random

    if not limit:
        return items
    rng = random.Random(seed)
    out = []
    for name in sorted({i.dataset for i in items}):
        rows = [i for i in items if i.dataset == name]
        out.extend(rng.sample(rows, limit) if len(rows) > limit else rows)
    return out

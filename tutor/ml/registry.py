"""Model versions on disk: ``<root>/<kind>/<version>/`` with config.json and metrics.json.

Plain Python, no Django: the database side (which version is active) lives in
``student_model.ml_registry``; this module only names, lists and reads directories.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class ModelVersion:
    kind: str
    version: str
    path: Path
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    training_summary: dict = field(default_factory=dict)


def new_version_name(prefix: str = "grader") -> str:
    """A sortable, unique version name such as ``grader-20250101-120000-a1b2``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{prefix}-{stamp}-{secrets.token_hex(2)}"


def validate_version(version: str) -> str:
    if not VERSION_RE.match(version or ""):
        raise ValueError(f"invalid version name {version!r}: letters, digits, '.', '_' and '-' only")
    return version


def version_dir(root: str | Path, kind: str, version: str) -> Path:
    return Path(root) / kind / validate_version(version)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def load_version(root: str | Path, kind: str, version: str) -> ModelVersion:
    path = version_dir(root, kind, version)
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"no model version {version!r} under {Path(root) / kind}")
    return ModelVersion(
        kind=kind,
        version=version,
        path=path,
        config=_read_json(path / "config.json"),
        metrics=_read_json(path / "metrics.json"),
        training_summary=_read_json(path / "training_summary.json"),
    )


def list_versions(root: str | Path, kind: str) -> list[ModelVersion]:
    """Complete versions (those with a config.json), oldest name first."""
    base = Path(root) / kind
    if not base.is_dir():
        return []
    return [
        load_version(root, kind, p.name)
        for p in sorted(base.iterdir())
        if p.is_dir() and VERSION_RE.match(p.name) and (p / "config.json").exists()
    ]


def latest_version(root: str | Path, kind: str) -> ModelVersion | None:
    versions = list_versions(root, kind)
    return versions[-1] if versions else None

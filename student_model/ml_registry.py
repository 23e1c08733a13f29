"""Registry of trained grader versions in the database: register, activate, find the active one.

The model files live on disk (``tutor.ml.registry``, under ``settings.MODEL_DIR``); a
``GraderVersion`` row records where, with the metrics it was trained to, and which one serves.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from domain.models import Course
from tutor.ml import registry as disk_registry
from tutor.ml import weights_transfer
from tutor.ml.grading import adapters

from .models import GraderVersion

KIND = "grader"


def grader_root() -> Path:
    return Path(settings.MODEL_DIR)


@transaction.atomic
def register_version(
    *,
    version: str,
    path: str | Path,
    metrics: dict | None = None,
    training_summary: dict | None = None,
    notes: str = "",
    activate: bool = False,
    course: Course | None = None,
    base: GraderVersion | None = None,
) -> GraderVersion:
    """Record a trained model directory (a full grader or a course's LoRA adapter) as a version;
    optionally make it the active one (of its course, or the global one when ``course`` is None)."""
    path = Path(path)
    if not (path / "config.json").exists():
        raise ValidationError({"path": f"{path} is not a model directory (no config.json)."})
    grader_version = GraderVersion(
        version=version,
        path=str(path),
        metrics=metrics or {},
        training_summary=training_summary or {},
        notes=notes,
        course=course,
        base=base,
    )
    grader_version.full_clean()
    grader_version.save()
    if activate:
        grader_version = activate_version(version=version)
    return grader_version


@transaction.atomic
def register_from_disk(*, version: str, activate: bool = False, notes: str = "") -> GraderVersion:
    """Register a version directory that already exists under ``MODEL_DIR/grader``."""
    found = disk_registry.load_version(grader_root(), KIND, version)
    return register_version(
        version=found.version,
        path=found.path,
        metrics=found.metrics,
        training_summary=found.training_summary,
        notes=notes,
        activate=activate,
    )


@transaction.atomic
def activate_version(*, version: str) -> GraderVersion:
    """Make ``version`` the active grader of its scope (its course, or the global one), deactivating
    the scope's previous one first."""
    try:
        target = GraderVersion.objects.select_for_update().get(version=version)
    except GraderVersion.DoesNotExist:
        raise ValidationError({"version": f"No grader version {version!r} is registered."}) from None
    if not (Path(target.path) / "config.json").exists():
        raise ValidationError({"version": f"The files of {version!r} are missing at {target.path}."})
    if adapters.is_adapter(target.path):
        try:
            adapters.base_dir(target.path)
        except FileNotFoundError as exc:
            raise ValidationError({"version": f"{version!r} is an adapter whose base is missing: {exc}"}) from None
    GraderVersion.objects.filter(is_active=True, course_id=target.course_id).exclude(pk=target.pk).update(
        is_active=False
    )
    if not target.is_active:
        target.is_active = True
        target.save(update_fields=["is_active"])
    return target


@transaction.atomic
def deactivate_course_version(*, course_id: int) -> GraderVersion | None:
    """Stop serving the course's own version (the course falls back to the global grader); returns it."""
    current = GraderVersion.objects.select_for_update().filter(is_active=True, course_id=course_id).first()
    if current is not None:
        current.is_active = False
        current.save(update_fields=["is_active"])
    return current


def active_version(*, course_id: int | None = None) -> GraderVersion | None:
    """The grader that grades ``course_id``'s answers: the course's own active version if it has one,
    else the active global one; None while no grader has been activated."""
    if course_id is not None:
        own = GraderVersion.objects.filter(is_active=True, course_id=course_id).first()
        if own is not None:
            return own
    return GraderVersion.objects.filter(is_active=True, course__isnull=True).first()


def get_version(*, version: str | None = None) -> GraderVersion:
    """The named version, or the active one; ValidationError when there is none."""
    if version:
        found = GraderVersion.objects.filter(version=version).first()
        if found is None:
            raise ValidationError({"version": f"No grader version {version!r} is registered."})
        return found
    found = active_version()
    if found is None:
        raise ValidationError({"version": "No grader version is active: run `manage.py train_grader --activate`."})
    return found


def shipped_root() -> Path:
    """Trained versions committed with the product (``data/models``), split into parts under 16 MB."""
    return Path(settings.SHIPPED_MODEL_DIR)


SHIPPED_NOTE = "shipped with Tutor (data/models)"
# Small files of a version that an upgrade of Tutor may change without new weights.
SERVING_FILES = ("config.json", "score_model.json")


def install_shipped_versions() -> list[GraderVersion]:
    """Copy the committed grader versions into ``MODEL_DIR`` (joining split files) and register them."""
    installed = []
    for shipped in disk_registry.list_versions(shipped_root(), KIND):
        target = disk_registry.version_dir(grader_root(), KIND, shipped.version)
        if not (target / "config.json").exists():
            _copy_joining_parts(shipped.path, target)
        else:
            # Same weights, new serving settings (e.g. how several reference answers are combined, or
            # the score model for new questions).
            for name in SERVING_FILES:
                source = shipped.path / name
                if source.exists() and (not (target / name).exists()
                                        or source.read_bytes() != (target / name).read_bytes()):
                    shutil.copy2(source, target / name)
        found = GraderVersion.objects.filter(version=shipped.version).first()
        installed.append(found or register_from_disk(version=shipped.version, notes=SHIPPED_NOTE))
    return installed


def activate_shipped_default(*, shipped: list[GraderVersion]) -> GraderVersion | None:
    """After ``install_shipped_versions``: activate the newest shipped grader when no grader is active,
    or when the active one is an older shipped grader (an upgrade of Tutor brings a better default).
    A grader that an admin trained, promoted or rolled back to is never replaced."""
    active = active_version()
    if not shipped:
        return active
    newest = shipped[-1]
    if active is None or (active.notes == SHIPPED_NOTE and active.version != newest.version):
        return activate_version(version=newest.version)
    return active




def ship_version(*, version: str, destination: Path | None = None) -> Path:
    """Package a trained version for committing: fp16 weights split into parts, no checkpoint. A version
    directory under ``MODEL_DIR/grader`` that is not registered yet (one unpacked from a GPU run) is
    registered first.

    ``install_shipped_versions`` (run by ``prepare_models``) turns it back into a version directory.
    """
    from safetensors.torch import load_file, save_file

    if not GraderVersion.objects.filter(version=version).exists() and (
        disk_registry.version_dir(grader_root(), KIND, version) / "config.json"
    ).exists():
        register_from_disk(version=version, notes="trained elsewhere (e.g. on a GPU machine), shipped from disk")
    source = Path(get_version(version=version).path)
    target = disk_registry.version_dir(destination or shipped_root(), KIND, version)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("checkpoint.pt", "*.safetensors", "*.onnx"))
    for weights in source.glob("*.safetensors"):
        half = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(str(weights)).items()}
        packed = target / weights.name
        save_file(half, str(packed))
        data = packed.read_bytes()
        packed.unlink()
        for n, chunk in enumerate(weights_transfer.cut(data)):
            (target / f"{weights.name}.part-{n:02d}").write_bytes(chunk)
    return target


def _copy_joining_parts(source: Path, target: Path) -> None:
    """Copy a version directory; ``name.part-00``, ``name.part-01``... become ``name``."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for path in sorted(source.rglob("*")):
        if path.is_dir():
            continue
        relative = path.relative_to(source)
        if ".part-" in relative.name:
            joined = partial / relative.parent / relative.name.split(".part-")[0]
            joined.parent.mkdir(parents=True, exist_ok=True)
            with joined.open("ab") as out, path.open("rb") as part:
                shutil.copyfileobj(part, out)
        else:
            (partial / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, partial / relative)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # all or nothing: a half-copied version is never registered

"""Learning from teachers: retrain a course's grader, champion/challenger, promote and roll back.

    start_retraining(course=..., started_by=...)  -> TrainingRun (queued; the `training` queue runs it)
    run_retraining(run_id=...)                    -> the run, finished (the task and the command call it)

A run fine-tunes a LoRA adapter (``tutor.ml.grading.adapters``) from the course's active
grader on the course's teacher-confirmed answers (latest grade given or accepted by a
teacher, imported history included), registers it as a version of the course (not active),
then measures champion (the active grader) and challenger on the same answers:

- held-out teacher-graded answers of the course: a fixed share of its submissions, chosen
  by a hash of the submission id (``holdout_fraction``), so the split is by answer and
  stays the same from run to run: no version, champion or challenger, ever trains on it;
- a fixed slice of the public benchmarks' unseen-answers splits (``tutor.ml.grading.promotion``).

The challenger is promoted only if it is better on the course and no worse than the
tolerance on the benchmark slice; the numbers and the reasons go into ``TrainingRun.result``.
Earlier versions stay registered for rollback.
"""

from __future__ import annotations

import hashlib
import logging
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from domain import selectors as domain_selectors
from domain.models import Course
from tutor.ml import registry as disk_registry
from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading import adapters, promotion
from tutor.ml.grading.predictor import get_predictor

from . import background, ml_registry, registry_selectors
from .models import GraderVersion, TrainingRun

logger = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(hours=3)  # far beyond a capped run (max_steps) on a CPU


@dataclass
class RetrainingOptions:
    """Everything a run decides with; stored in ``TrainingRun.result["options"]``.

    ``settings.GRADER_RETRAINING`` (a dict, optional) overrides the defaults: ``adapter`` and
    ``policy`` sub-dicts, and the fields below."""

    adapter: dict = field(default_factory=dict)  # AdapterConfig fields
    policy: dict = field(default_factory=dict)  # PromotionPolicy fields
    holdout_fraction: float = 0.2
    holdout_seed: int = 13
    max_holdout: int = 300
    min_train: int = 20
    min_holdout: int = 10

    def adapter_config(self) -> adapters.AdapterConfig:
        return adapters.AdapterConfig.from_dict(self.adapter)

    def promotion_policy(self) -> promotion.PromotionPolicy:
        return promotion.PromotionPolicy(**self.policy)

    @classmethod
    def from_dict(cls, data: dict) -> "RetrainingOptions":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


def default_options(**overrides) -> RetrainingOptions:
    values = {**getattr(settings, "GRADER_RETRAINING", {}), **overrides}
    return RetrainingOptions.from_dict(values)


@dataclass(frozen=True)
class Readiness:
    """Whether a course has the teacher-confirmed answers a retraining needs (its held-out split included)."""

    train: int
    held_out: int
    min_train: int
    min_held_out: int

    @property
    def enough(self) -> bool:
        return self.train >= self.min_train and self.held_out >= self.min_held_out

    @property
    def shortfall(self) -> str:
        return (f"Not enough teacher-confirmed answers yet: {self.train} to train on (needs {self.min_train}) "
                f"and {self.held_out} held out (needs {self.min_held_out}). Review more answers first.")


def readiness(*, course: Course, options: RetrainingOptions | None = None) -> Readiness:
    """The split ``split_holdout`` will make of the course's teacher-confirmed answers, from their ids alone."""
    options = options or default_options()
    ids = registry_selectors.teacher_confirmed_ids(course=course)
    held = sum(held_out(str(pk), fraction=options.holdout_fraction, seed=options.holdout_seed) for pk in ids)
    return Readiness(len(ids) - held, held, options.min_train, options.min_holdout)


def _check_enough(train: int, held: int, options: RetrainingOptions) -> None:
    ready = Readiness(train, held, options.min_train, options.min_holdout)
    if not ready.enough:
        raise ValidationError(ready.shortfall)


# --------------------------------------------------------------------------------- starting a run


@transaction.atomic
def start_retraining(
    *,
    course: Course,
    started_by: AbstractBaseUser | None,
    options: RetrainingOptions | None = None,
    enqueue: bool = True,
) -> TrainingRun:
    """Queue a retraining of ``course``'s grader. ``started_by`` None: the command line (no checks of rights).

    Refused when the user may not manage the course (PermissionDenied), when no grader is
    active for the course, while another run of the course is queued or running, or while the course has
    too few teacher-confirmed answers (``readiness``)."""
    if started_by is not None and not domain_selectors.can_manage_course(user=started_by, course=course):
        raise PermissionDenied("Only the course's teachers and admins can retrain its grader.")
    Course.objects.select_for_update().filter(pk=course.pk).first()  # one start at a time per course
    if ml_registry.active_version(course_id=course.pk) is None:
        raise ValidationError("No grader is active yet: there is nothing to fine-tune from.")
    _fail_abandoned_runs(course=course)
    if registry_selectors.run_in_progress(course=course) is not None:
        raise ValidationError("A retraining of this course is already queued or running.")
    options = options or default_options()
    ready = readiness(course=course, options=options)
    if not ready.enough:  # refused now rather than by a run that fails minutes later
        raise ValidationError(ready.shortfall)
    run = TrainingRun(
        course=course,
        started_by=started_by,
        status=TrainingRun.Status.QUEUED,
        message="Waiting for a training worker.",
        result={"options": asdict(options)},
    )
    run.full_clean()
    run.save()
    if enqueue:
        transaction.on_commit(lambda: _dispatch(run.pk))
    return run


def _fail_abandoned_runs(*, course: Course) -> None:
    """Runs still queued or running long after any run could take (their worker or web process was
    restarted) are closed as failed, so that they do not block the course's next retraining."""
    cutoff = timezone.now() - ABANDONED_AFTER
    TrainingRun.objects.filter(
        course=course, status__in=(TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING), created_at__lt=cutoff
    ).update(status=TrainingRun.Status.FAILED, finished_at=timezone.now(),
             message="Abandoned: no result after several hours (its worker was probably restarted).")


def _dispatch(run_id: int) -> None:
    """Send the run to the `training` queue. Embedded mode (eager Celery, no worker) runs it in a
    background thread instead, so the request returns and the page can follow its progress."""
    from .tasks import retrain_grader

    if getattr(settings, "GRADER_RETRAINING_THREAD", False):
        background.start_thread(name=f"retrain-{run_id}", target=lambda: run_retraining(run_id=run_id))
    else:
        retrain_grader.delay(run_id)


# ---------------------------------------------------------------------------------- running a run


class _Progress:
    """Writes progress to the run now and then (not on every training step)."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.last = (-1.0, 0.0)

    def __call__(self, progress: float, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        value, when = self.last
        if force or progress - value >= 0.02 or now - when >= 2.0:
            TrainingRun.objects.filter(pk=self.run_id).update(progress=round(min(max(progress, 0.0), 1.0), 3),
                                                              message=message[:500])
            self.last = (progress, now)


def run_retraining(*, run_id: int) -> TrainingRun:
    """Execute a queued run to the end; a failure is recorded on the run (status ``failed``), not raised."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().select_related("course").get(pk=run_id)
        if run.status != TrainingRun.Status.QUEUED:
            return run  # a redelivered task: the run already ran (or is running elsewhere)
        run.status = TrainingRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    progress = _Progress(run_id)
    created: list[Path] = []  # the version directory, once named: removed again if the run fails
    try:
        result, version = _retrain(run, progress, created)
    except ValidationError as error:  # an expected refusal (e.g. too few teacher grades): no traceback
        logger.info("Retraining run %s refused: %s", run_id, error.messages)
        return _fail(run, created, " ".join(error.messages))
    except Exception as error:  # noqa: BLE001 - every failure ends the run with its reason
        logger.exception("Retraining run %s failed", run_id)
        return _fail(run, created, str(error) or type(error).__name__)
    return _finish(run_id, status=TrainingRun.Status.SUCCEEDED, message=result["summary"], result=result,
                   version=version)


def _fail(run: TrainingRun, created: list[Path], message: str) -> TrainingRun:
    for path in created:
        if not GraderVersion.objects.filter(path=str(path)).exists():
            shutil.rmtree(path, ignore_errors=True)
    return _finish(run.pk, status=TrainingRun.Status.FAILED, message=message, result={**run.result, "error": message})


def _retrain(run: TrainingRun, progress: _Progress, created: list[Path]) -> tuple[dict, GraderVersion]:
    course = run.course
    options = RetrainingOptions.from_dict(run.result.get("options", {}))
    progress(0.02, "Collecting teacher-confirmed answers", force=True)
    champion = ml_registry.active_version(course_id=course.pk)
    if champion is None:
        raise ValidationError("No grader is active: nothing to fine-tune from.")
    items = registry_selectors.teacher_confirmed_answers(course=course)
    train_items, holdout = split_holdout(items, fraction=options.holdout_fraction, seed=options.holdout_seed)
    _check_enough(len(train_items), len(holdout), options)
    holdout = _cap(holdout, options.max_holdout, options.holdout_seed)

    name = disk_registry.new_version_name(prefix=f"{course.slug[:40]}-lora")
    output_dir = disk_registry.version_dir(ml_registry.grader_root(), ml_registry.KIND, name)
    created.append(output_dir)
    config = options.adapter_config()
    progress(0.05, f"Fine-tuning an adapter on {min(len(train_items), config.max_examples or len(train_items))} "
                   f"answers from {champion.version}", force=True)
    trained = adapters.train_adapter(
        champion.path, train_items, output_dir, config,
        on_progress=lambda fraction, message: progress(0.05 + 0.7 * fraction, f"Training: {message}"),
    )

    progress(0.76, "Measuring champion and challenger on held-out answers", force=True)
    policy = options.promotion_policy()
    labels = tuple(sorted({item.label for item in items}))
    slices = promotion.global_slice(Path(settings.DEMO_DATA_DIR) / "asag", per_source=policy.global_per_source,
                                    seed=policy.seed)
    measured = {}
    for step, (role, path) in enumerate((("champion", champion.path), ("challenger", output_dir))):
        predictor = get_predictor(path)
        measured[role] = {"course": promotion.evaluate_course(predictor, holdout, labels)}
        progress(0.8 + 0.08 * step, f"Measuring the {role} on the benchmark slice", force=True)
        measured[role]["global"] = promotion.evaluate_global(predictor, slices)
    decision = promotion.decide(measured["champion"], measured["challenger"], policy)

    progress(0.97, "Registering the new version", force=True)
    with transaction.atomic():
        version = ml_registry.register_version(
            version=name,
            path=output_dir,
            metrics={**trained.metrics, "losses": trained.losses[-50:], "evaluation": measured["challenger"]},
            training_summary={**trained.training_summary, "holdout": len(holdout),
                              "teacher_confirmed": len(items), "holdout_fraction": options.holdout_fraction},
            notes=f"LoRA adapter for {course.slug}, fine-tuned from {champion.version} (run {run.pk}).",
            course=course,
            base=champion,
        )
        if decision.promote:
            ml_registry.activate_version(version=name)
    summary = (f"Promoted {name}: " if decision.promote else f"Kept {champion.version}: ") + "; ".join(decision.reasons)
    result = {
        "options": asdict(options),
        "champion": {"version": champion.version, **measured["champion"]},
        "challenger": {"version": name, **measured["challenger"]},
        "decision": "promoted" if decision.promote else "kept_champion",
        "reasons": decision.reasons,
        "summary": summary,
        "data": {"teacher_confirmed": len(items), "train": len(train_items), "holdout": len(holdout),
                 "split": "by submission (hash of its id)", "labels": list(labels)},
        "training": {k: trained.metrics[k] for k in ("train_steps", "train_seconds", "trainable_parameters")},
        "policy": policy.to_dict(),
    }
    return result, version


def _finish(run_id: int, *, status: str, message: str, result: dict, version: GraderVersion | None = None):
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        run.status = status
        run.message = message[:2000]
        run.result = result
        run.version = version
        run.finished_at = timezone.now()
        if status == TrainingRun.Status.SUCCEEDED:
            run.progress = 1.0
        run.full_clean()
        run.save()
    return run


def split_holdout(
    items: list[GradedAnswer], *, fraction: float, seed: int
) -> tuple[list[GradedAnswer], list[GradedAnswer]]:
    """(train, held out): an answer is held out when a hash of (seed, answer id) falls under ``fraction``;
    the same answer lands on the same side in every run."""
    train, held = [], []
    for item in items:
        (held if held_out(item.answer_id, fraction=fraction, seed=seed) else train).append(item)
    return train, held


def held_out(answer_id: str, *, fraction: float, seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{answer_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x100000000 < fraction


def _cap(items: list[GradedAnswer], limit: int, seed: int) -> list[GradedAnswer]:
    if not limit or len(items) <= limit:
        return items
    return random.Random(seed).sample(items, limit)


# ----------------------------------------------------------------------------- promote, roll back


def _require_admin_or_teacher(*, user: AbstractBaseUser | None, course: Course | None) -> None:
    if user is None:
        return
    if course is None:
        allowed = domain_selectors.is_admin(user)
    else:
        allowed = domain_selectors.can_manage_course(user=user, course=course)
    if not allowed:
        raise PermissionDenied("You may not change which grader serves here.")


def promote_version(*, version: GraderVersion, user: AbstractBaseUser | None) -> GraderVersion:
    """Make ``version`` the active grader of its scope (its course, or globally). Admins only."""
    if user is not None and not domain_selectors.is_admin(user):
        raise PermissionDenied("Only admins can promote a grader version.")
    return ml_registry.activate_version(version=version.version)


@transaction.atomic
def rollback_course(*, course: Course, user: AbstractBaseUser | None) -> GraderVersion | None:
    """Stop serving the course's current version and go back to the one it was trained from:
    the previous course version, or the global grader. Returns the version now serving the course."""
    _require_admin_or_teacher(user=user, course=course)
    current = GraderVersion.objects.select_for_update().filter(course=course, is_active=True).first()
    if current is None:
        raise ValidationError("This course already uses the global grader: there is nothing to roll back.")
    previous = current.base
    if previous is not None and previous.course_id == course.pk:
        ml_registry.activate_version(version=previous.version)
    else:
        ml_registry.deactivate_course_version(course_id=course.pk)
    return ml_registry.active_version(course_id=course.pk)

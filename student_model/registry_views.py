"""Pages of the grader registry: the admins' registry, a course's grader page with its Retrain and
Regrade buttons, and the POST actions (retrain, promote, roll back; regrade) that call one
``retraining`` (or ``regrading``) service each."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from domain import selectors as domain_selectors
from domain.models import Course
from domain.views import get_managed_course

MANAGERS_ONLY = "Only the course's teachers and admins can manage its grader."

from . import ml_registry, regrading, registry_selectors, retraining, selectors
from .models import GraderVersion
from .registry_charts import Series, line_chart

LEARNING_CURVE_SERIES = (  # (dataset, metric, legend)
    ("saf", "macro_f1", "SAF macro-F1"),
    ("saf", "accuracy", "SAF accuracy"),
    ("saf", "pearson", "SAF Pearson (points)"),
    ("mohler", "pearson", "Mohler Pearson (points)"),
)


@require_GET
@login_required
def registry(request: HttpRequest) -> HttpResponse:
    if not domain_selectors.is_admin(request.user):
        raise PermissionDenied("The model registry is for admins.")
    global_versions = registry_selectors.global_versions()
    courses = []
    for course in registry_selectors.courses_with_versions():
        versions = registry_selectors.course_versions(course=course)
        courses.append({
            "course": course,
            "versions": [_version_row(v) for v in reversed(versions)],
            "active": ml_registry.active_version(course_id=course.pk),
            "chart": _course_chart(course, versions),
        })
    context = {
        "global_versions": [_version_row(v) for v in reversed(global_versions)],
        "global_chart": _global_chart(global_versions),
        "courses": courses,
        "runs": registry_selectors.recent_runs(limit=30),
        "learning_curve": _learning_curve(),
    }
    return render(request, "student_model/registry.html", context)


@require_GET
@login_required
def course_grader(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=MANAGERS_ONLY)
    versions = registry_selectors.course_versions(course=course)
    runs = registry_selectors.course_runs(course=course)
    current = registry_selectors.run_in_progress(course=course)
    context = {
        "course": course,
        "active": ml_registry.active_version(course_id=course.pk),
        "versions": [_version_row(v) for v in reversed(versions)],
        "runs": runs,
        "current_run": current,
        "teacher_confirmed": registry_selectors.teacher_confirmed_count(course=course),
        "readiness": retraining.readiness(course=course),
        "chart": _course_chart(course, versions),
        "is_admin": domain_selectors.is_admin(request.user),
        "questions": domain_selectors.question_prompts_for_course(course=course),
        "regrade_run": selectors.regrade_in_progress(course=course),
        "regrades": selectors.course_regrades(course=course),
    }
    return render(request, "student_model/course_grader.html", context)


@require_POST
@login_required
def start_regrade(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=MANAGERS_ONLY)
    question_id = request.POST.get("question", "")
    question = None
    if question_id:
        if not question_id.isdigit():
            raise Http404("No such question.")
        question = get_object_or_404(domain_selectors.question_list(user=request.user), pk=question_id, course=course)
    try:
        run = regrading.start_regrade(course=course, question=question, started_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        what = "this question's" if question is not None else "the course's"
        messages.success(request, f"Regrading {what} {run.total} model-graded answer{'s' if run.total != 1 else ''}.")
    return redirect("course-grader", slug=course.slug)


@require_POST
@login_required
def start_retrain(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=MANAGERS_ONLY)
    try:
        run = retraining.start_retraining(course=course, started_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Retraining started (run {run.pk}). You can follow it here.")
    return redirect("course-grader", slug=course.slug)


@require_POST
@login_required
def rollback(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=MANAGERS_ONLY)
    try:
        serving = retraining.rollback_course(course=course, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        name = serving.version if serving else "no grader"
        messages.success(request, f"Rolled back: {name} now grades {course.title}.")
    if request.POST.get("next") == "registry" and domain_selectors.is_admin(request.user):
        return redirect("grader-registry")
    return redirect("course-grader", slug=course.slug)


@require_POST
@login_required
def promote(request: HttpRequest, pk: int) -> HttpResponse:
    if not domain_selectors.is_admin(request.user):
        raise PermissionDenied("Only admins can promote a grader version.")
    version = get_object_or_404(GraderVersion, pk=pk)
    try:
        retraining.promote_version(version=version, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        scope = version.course.title if version.course else "every course without its own version"
        messages.success(request, f"{version.version} now grades {scope}.")
    return redirect("grader-registry")



def _metric(data: dict, *path: str):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, (int, float)) else None


def _version_row(version: GraderVersion) -> dict:
    summary = version.training_summary or {}
    train = summary.get("train", {})
    return {
        "version": version,
        "course_f1": _metric(version.metrics, "evaluation", "course", "macro_f1"),
        "global_f1": _metric(version.metrics, "evaluation", "global", "macro_f1"),
        "validation_f1": _metric(version.metrics, "validation", "macro_f1"),
        "train_n": train.get("n"),
        "datasets": ", ".join(sorted(name or "course answers" for name in train.get("datasets", {}))),
        "steps": _metric(version.metrics, "train_steps"),
    }


def _course_chart(course: Course, versions: list[GraderVersion]) -> dict | None:
    """Course held-out and benchmark macro-F1 of the course's versions, after the grader they started from
    (as measured as champion in the course's first run)."""
    if not versions:
        return None
    labels, course_f1, global_f1 = [], [], []
    first_run = registry_selectors.first_succeeded_run(course=course)
    if first_run is not None:
        champion = first_run.result.get("champion", {})
        labels.append(_short(champion.get("version", "start")))
        course_f1.append(_metric(champion, "course", "macro_f1"))
        global_f1.append(_metric(champion, "global", "macro_f1"))
    for v in versions:
        labels.append(_short(v.version) + (" ★" if v.is_active else ""))
        course_f1.append(_metric(v.metrics, "evaluation", "course", "macro_f1"))
        global_f1.append(_metric(v.metrics, "evaluation", "global", "macro_f1"))
    return line_chart(
        x_labels=labels,
        series=[Series("Course held-out macro-F1", course_f1), Series("Benchmark slice macro-F1", global_f1)],
        x_title="version (★ active)", y_title="macro-F1",
    )


def _global_chart(versions: list[GraderVersion]) -> dict | None:
    if not versions:
        return None
    return line_chart(
        x_labels=[_short(v.version) + (" ★" if v.is_active else "") for v in versions],
        series=[Series("Validation macro-F1", [_metric(v.metrics, "validation", "macro_f1") for v in versions])],
        x_title="version (★ active)", y_title="macro-F1",
    )


def _learning_curve() -> dict | None:
    result = registry_selectors.learning_curve()
    if not result:
        return None
    datasets = result.get("datasets", {})
    ns = result.get("ns") or []
    series = []
    for dataset, metric, name in LEARNING_CURVE_SERIES:
        curve = {point["n"]: point.get(metric) for point in datasets.get(dataset, {}).get("curve", [])}
        if any(curve.get(n) is not None for n in ns):
            series.append(Series(name, [curve.get(n) for n in ns]))
    return {
        "result": result,
        "chart": line_chart(x_labels=[str(n) for n in ns], series=series,
                            x_title="answers corrected per question (N)", y_title="agreement"),
        "rows": [
            {"dataset": name, "questions": len(data.get("questions", [])),
             "test": data.get("test_answers_per_seed"), "curve": data.get("curve", [])}
            for name, data in datasets.items()
        ],
    }


def _short(version: str) -> str:
    return version if len(version) <= 22 else version[:10] + "…" + version[-8:]

"""Teacher pages: the review queue, answer groups, the release policy, the dashboard and the CSV export.

Thin adapters: reads from the selectors, writes through ``review_services``. A course or
submission the user cannot see is a 404; one they see but do not teach is a 403.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domain import selectors as domain_selectors
from domain.models import Question
from domain.views import get_managed_course

from . import answer_groups as answer_group_selectors
from . import charts, dashboard, release_preview, review_services, selectors
from .filters import ReviewQueueFilter
from .forms import GroupGradeForm, ReleasePolicyForm, TeacherGradeForm
from .models import Grade, Submission

VERDICT_LABELS = dict(Grade.Verdict.choices)
QUEUE_PAGE_SIZE = 20
TEACHERS_ONLY = "Only the course's teachers may see this page."



def _visible_submission(request: HttpRequest, pk: int) -> Submission:
    submission = selectors.submission_list(user=request.user).filter(pk=pk).first()
    if submission is None:
        raise Http404("No such answer.")
    return submission


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("review-queue")


# --- the queue ------------------------------------------------------------------------------------


@require_GET
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    if not domain_selectors.course_list_taught(user=request.user).exists():
        raise PermissionDenied("The review queue is for teachers.")
    queue = ReviewQueueFilter(request.GET, queryset=selectors.review_queue(user=request.user), request=request)
    page = Paginator(queue.qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    question_id = queue.form.cleaned_data.get("question") if queue.form.is_valid() else None
    question = domain_selectors.question_list(user=request.user).filter(pk=question_id).first() if question_id else None
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": queue,
        "page_obj": page,
        "items": [_queue_item(s) for s in page.object_list],
        "question": question,
        "query": query.urlencode(),
        "verdicts": Grade.Verdict.choices,
    }
    return render(request, "student_model/review_queue.html", context)


def _queue_item(submission: Submission) -> dict:
    return {
        "submission": submission,
        "verdict_label": VERDICT_LABELS.get(submission.grade_verdict, submission.grade_verdict),
        "form": TeacherGradeForm(
            initial={"score": submission.grade_score, "verdict": submission.grade_verdict,
                     "feedback": submission.grade_feedback},
            auto_id=f"id_{submission.pk}_%s",
        ),
    }


def _grade_done(request: HttpRequest, submission: Submission, grade: Grade, what: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({
            "submission": submission.pk, "status": Submission.Status.GRADED, "action": what,
            "grade": {"score": grade.score, "verdict": grade.verdict, "feedback": grade.feedback},
        })
    messages.success(request, f"{what.capitalize()}: {submission.student} on question {submission.question_id}.")
    return _back(request)


def _refused(request: HttpRequest, errors: dict) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"errors": errors}, status=400)
    for field_errors in errors.values():
        for message in field_errors:
            messages.error(request, message)
    return _back(request)


@require_POST
@login_required
def review_accept(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    try:
        grade = review_services.accept_grade(actor=request.user, submission=submission)
    except ValidationError as exc:
        return _refused(request, {"__all__": exc.messages})
    return _grade_done(request, submission, grade, "accepted")


@require_POST
@login_required
def review_override(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    form = TeacherGradeForm(request.POST)
    if not form.is_valid():
        return _refused(request, form.errors)
    try:
        grade = review_services.override_grade(actor=request.user, submission=submission, **form.cleaned_data)
    except ValidationError as exc:
        return _refused(request, exc.message_dict)
    return _grade_done(request, submission, grade, "overridden")


@require_GET
@login_required
def review_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The audit trail of one answer (teachers of its course only)."""
    submission = _visible_submission(request, pk)
    if not domain_selectors.can_manage_course(user=request.user, course=submission.question.course):
        raise PermissionDenied("The history of a grade is for the course's teachers.")
    context = {"submission": submission, "events": selectors.grade_event_list(submission=submission),
               "course": submission.question.course}
    return render(request, "student_model/review_history.html", context)


# --- answer groups --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def answer_groups(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=TEACHERS_ONLY)
    question = Question.objects.filter(course=course, pk=pk).prefetch_related("reference_answers").first()
    if question is None:
        raise Http404("No such question.")
    groups = answer_group_selectors.answer_groups(question=question)
    ids = [s.pk for g in groups for s in g.submissions]
    if request.method == "POST":
        form = GroupGradeForm(request.POST, submission_ids=ids)
        if form.is_valid():
            chosen = set(form.cleaned_data["submissions"])
            submissions = [s for g in groups for s in g.submissions if s.pk in chosen]
            try:
                review_services.grade_answer_group(
                    actor=request.user, submissions=submissions, score=form.cleaned_data["score"],
                    verdict=form.cleaned_data["verdict"], feedback=form.cleaned_data["feedback"],
                )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, f"Graded {len(submissions)} answer{'s' if len(submissions) != 1 else ''} at once.")
                group = request.POST.get("group", "")
                anchor = f"#group-{group}" if group.isdigit() else ""
                return redirect(reverse("answer-groups", args=[slug, pk]) + anchor)
        else:
            for field, errors in form.errors.items():
                for message in errors:
                    messages.error(request, f"{form.fields[field].label if field in form.fields else ''}: {message}")
    context = {
        "course": course,
        "question": question,
        "groups": [
            {"group": g, "form": GroupGradeForm(
                submission_ids=ids, auto_id=f"id_g{g.number}_%s",
                initial={"verdict": g.representative.grade_verdict, "score": g.representative.grade_score,
                         "feedback": g.representative.grade_feedback},
            )}
            for g in groups
        ],
        "answers": len(ids),
    }
    return render(request, "student_model/answer_groups.html", context)


# --- release policy -------------------------------------------------------------------------------

CHART = {"width": 560, "height": 260, "pad": 36}


@require_http_methods(["GET", "POST"])
@login_required
def release_policy(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=TEACHERS_ONLY)
    policy = selectors.release_policy_for(course=course)
    if request.method == "POST":
        form = ReleasePolicyForm(request.POST)
        if form.is_valid():
            review_services.release_policy_update(actor=request.user, course=course, **form.cleaned_data)
            messages.success(request, "The release policy was saved; it applies to answers graded from now on.")
            return redirect("release-policy", slug=slug)
    else:
        initial = {"auto_release": policy.auto_release, "confidence_threshold": policy.confidence_threshold}
        preview_at = request.GET.get("threshold") or request.GET.get("confidence_threshold")
        form = ReleasePolicyForm(initial=initial)
        if preview_at:
            form = ReleasePolicyForm({**initial, "confidence_threshold": preview_at})
    threshold = form.cleaned_data["confidence_threshold"] if form.is_bound and form.is_valid() else policy.confidence_threshold
    preview = release_preview.release_preview(course=course, threshold=threshold)
    if preview is not None and preview["refreshing"]:
        release_preview.queue_computation(course=course)
        preview = release_preview.release_preview(course=course, threshold=threshold)  # ready if it ran inline
    context = {"course": course, "policy": policy, "form": form, "threshold": threshold, "preview": preview}
    if preview and not preview["pending"]:
        points = preview["points"]
        context["chart"] = {
            **CHART,
            "release": charts.line_points([(p.threshold, p.release_share) for p in points], **CHART),
            "agreement": charts.line_points([(p.threshold, p.agreement) for p in points], **CHART),
            "ticks": charts.axis_ticks(**CHART),
            "marker_x": CHART["pad"] + threshold * (CHART["width"] - 2 * CHART["pad"]),
        }
    return render(request, "student_model/release_policy.html", context)


# --- dashboard and export -------------------------------------------------------------------------

VERDICT_ORDER = [("correct", "Correct"), ("partially_correct", "Partially correct"),
                 ("contradictory", "Contradictory"), ("incorrect", "Incorrect")]
SCORE_BINS = ["under 25%", "25–50%", "50–75%", "75% or more"]
AGREEMENT_CHART = {"width": 560, "height": 200, "pad": 28}


@require_GET
@login_required
def course_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=TEACHERS_ONLY)
    status = dashboard.status_counts(course=course)
    stats = dashboard.question_stats(course=course)
    weeks = dashboard.agreement_by_week(course=course)
    rows = [
        {
            "stats": s,
            "verdicts": charts.stacked_bar([(k, label, s.verdicts.get(k, 0)) for k, label in VERDICT_ORDER]),
            "scores": charts.stacked_bar([(f"bin{i}", label, n) for i, (label, n) in enumerate(zip(SCORE_BINS, s.score_bins))]),
        }
        for s in stats
    ]
    context = {
        "course": course,
        "status": status,
        "status_bar": charts.stacked_bar([
            ("pending", "Waiting for the grader", status["pending"]),
            ("needs_review", "Awaiting review", status["awaiting_review"]),
            ("released", "Released by the model", status["released"]),
            ("teacher", "Graded by a teacher", status["teacher_graded"]),
        ]),
        "rows": rows,
        "hardest": dashboard.hardest_questions(stats),
        "weeks": weeks,
        "week_bars": list(zip(weeks, charts.columns([w["agreement"] for w in weeks], **AGREEMENT_CHART))),
        "agreement_chart": {**AGREEMENT_CHART, "ticks": charts.axis_ticks(**AGREEMENT_CHART)},
        "verdict_order": VERDICT_ORDER,
        "score_bins": SCORE_BINS,
    }
    return render(request, "student_model/course_dashboard.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@login_required
def grades_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    course = get_managed_course(request, slug=slug, refusal=TEACHERS_ONLY)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(selectors.GRADE_EXPORT_COLUMNS)
        for row in selectors.grade_export_rows(course=course):
            yield writer.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v for v in row])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{course.slug}-grades.csv"'
    return response

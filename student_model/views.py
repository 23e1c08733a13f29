"""The question page: answer a question and follow your submissions' status."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from domain import selectors as domain_selectors
from domain.models import Enrollment, Question

from . import selectors, services
from .forms import AnswerForm
from .models import Grade

VERDICT_LABELS = dict(Grade.Verdict.choices)


@require_http_methods(["GET", "POST"])
@login_required
def question_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    question = _visible_question(request, slug=slug, pk=pk)
    course = question.course
    # Answering is for the course's students; teachers and admins see the page to review it.
    can_submit = (
        domain_selectors.enrollment_list(user=request.user)
        .filter(user=request.user, course=course, role=Enrollment.Role.STUDENT)
        .exists()
    )
    if request.method == "POST" and can_submit:
        form = AnswerForm(request.POST)
        if form.is_valid() and _submit(request, form, question):
            messages.success(request, "Your answer was saved.")
            return redirect(reverse("question-detail", args=[slug, pk]) + "#submissions")
    elif request.method == "POST":
        raise PermissionDenied("Only students enrolled in this course can answer its questions.")
    else:
        form = AnswerForm()
    context = {
        "course": course,
        "question": question,
        "form": form,
        "can_submit": can_submit,
        "can_see_answers": domain_selectors.can_see_answers(user=request.user, course=course),
        "submissions": _submission_rows(request, question),
    }
    return render(request, "student_model/question_detail.html", context)


@require_GET
@login_required
def question_submissions(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Just the list of the user's submissions, for the page to refresh it in place."""
    question = _visible_question(request, slug=slug, pk=pk)
    return render(
        request, "student_model/_submission_list.html", {"submissions": _submission_rows(request, question)}
    )


def _visible_question(request: HttpRequest, *, slug: str, pk: int) -> Question:
    question = domain_selectors.question_list(user=request.user).filter(course__slug=slug, pk=pk).first()
    if question is None:
        raise Http404("No such question.")
    return question


def _submit(request: HttpRequest, form: AnswerForm, question: Question) -> bool:
    """Call the service; on refusal, put its message on the form and return False."""
    try:
        services.submit_answer(student=request.user, question=question, answer=form.cleaned_data["answer"])
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or "You may not answer this question.")
        return False
    return True


def _submission_rows(request: HttpRequest, question: Question) -> list[dict]:
    rows = []
    for submission in selectors.submissions_with_latest_grade(student=request.user, question_id=question.pk):
        graded = submission.status == submission.Status.GRADED and submission.grade_score is not None
        rows.append(
            {
                "submission": submission,
                "grade": {
                    "score": submission.grade_score,
                    "max_points": question.max_points,
                    "verdict": VERDICT_LABELS.get(submission.grade_verdict, submission.grade_verdict),
                    "verdict_code": submission.grade_verdict,
                    "feedback": submission.grade_feedback,
                }
                if graded
                else None,
            }
        )
    return rows

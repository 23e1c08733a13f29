"""Pages: a learner's progress ("my progress", or a student's as their teacher sees it) and the class view."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from domain import selectors as domain_selectors
from domain.views import get_managed_course, get_visible_course
from student_model import mastery_selectors

from . import progress


@require_GET
@login_required
def my_progress(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_visible_course(request, slug=slug)
    if not mastery_selectors.is_course_student(course=course, student_id=request.user.pk):
        return redirect("class-progress", slug=course.slug)  # teachers and admins follow the class
    context = {"course": course, "own": True, **progress.student_progress(course=course, student=request.user)}
    return render(request, "pedagogy/progress.html", context)


@require_GET
@login_required
def student_progress(request: HttpRequest, slug: str, student_id: int) -> HttpResponse:
    course = get_visible_course(request, slug=slug)
    if not domain_selectors.can_manage_course(user=request.user, course=course):
        raise Http404("No such student.")  # another learner's progress is not in a student's view
    student = mastery_selectors.course_students(course=course).filter(pk=student_id).first()
    if student is None:
        raise Http404("No such student in this course.")
    context = {"course": course, "own": False, **progress.student_progress(course=course, student=student)}
    return render(request, "pedagogy/progress.html", context)


@require_GET
@login_required
def class_progress(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal="The class view is for the course's teachers.")
    context = {"course": course, **progress.class_overview(
        course=course, page=request.GET.get("page"), unit_id=request.GET.get("unit"))}
    return render(request, "pedagogy/class_progress.html", context)

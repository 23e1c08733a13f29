"""Pages for browsing what is taught: my courses, a course, a reading resource."""

from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe

from . import selectors
from .models import Course

SAFE_URL_SCHEMES = {"", "http", "https", "mailto"}


def home(request: HttpRequest) -> HttpResponse:
    return redirect("my-courses" if request.user.is_authenticated else "login")


@login_required
def my_courses(request: HttpRequest) -> HttpResponse:
    courses = list(selectors.course_list(user=request.user))
    roles = {
        e.course_id: e.get_role_display()
        for e in selectors.enrollment_list(user=request.user).filter(user=request.user)
    }
    fallback = "Admin" if selectors.is_admin(request.user) else ""
    rows = [{"course": c, "role": roles.get(c.pk, fallback)} for c in courses]
    return render(request, "domain/my_courses.html", {"rows": rows})


@login_required
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_visible_course(request, slug=slug, detailed=True)
    units = list(course.units.all())
    resources = list(course.resources.all())
    questions = list(course.questions.all())
    sections = [
        {
            "unit": unit,
            "resources": [r for r in resources if r.unit_id == unit.pk],
            "questions": [q for q in questions if q.unit_id == unit.pk],
        }
        for unit in units
    ]
    loose_resources = [r for r in resources if r.unit_id is None]
    loose_questions = [q for q in questions if q.unit_id is None]
    if loose_resources or loose_questions:
        sections.append({"unit": None, "resources": loose_resources, "questions": loose_questions})
    context = {
        "course": course,
        "sections": sections,
        "skills": list(course.skills.all()),
        "can_manage": selectors.can_manage_course(user=request.user, course=course),
    }
    return render(request, "domain/course_detail.html", context)


@login_required
def resource_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course = get_visible_course(request, slug=slug)
    ordered = list(selectors.resource_list(user=request.user).filter(course=course))
    index = next((i for i, r in enumerate(ordered) if r.pk == pk), None)
    if index is None:
        raise Http404("No such resource in this course.")
    resource = ordered[index]
    context = {
        "course": course,
        "resource": resource,
        "body_html": render_markdown(resource.body),
        "previous": ordered[index - 1] if index > 0 else None,
        "next": ordered[index + 1] if index + 1 < len(ordered) else None,
    }
    return render(request, "domain/resource_detail.html", context)


def get_visible_course(request: HttpRequest, *, slug: str, detailed: bool = False) -> Course:
    """The course, or 404 when it does not exist or the user may not see it (no hint which)."""
    try:
        course = selectors.course_detail(slug=slug) if detailed else Course.objects.get(slug=slug)
    except Course.DoesNotExist:
        raise Http404("No such course.")
    if not selectors.can_view_course(user=request.user, course=course):
        raise Http404("No such course.")
    return course


def get_managed_course(request: HttpRequest, *, slug: str, refusal: str) -> Course:
    """The course if the user teaches it (or is an admin): 404 when they cannot see it, 403 (``refusal``)
    when they see it without teaching it. Pages and DRF views alike (both turn these into responses)."""
    course = get_visible_course(request, slug=slug)
    if not selectors.can_manage_course(user=request.user, course=course):
        raise PermissionDenied(refusal)
    return course


class _SafeMarkdown(markdown.extensions.Extension):
    """Treat raw HTML in the source as text (it is escaped on output) and drop unsafe link schemes."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_UnsafeLinkRemover(md), "unsafe_links", 0)


class _UnsafeLinkRemover(markdown.treeprocessors.Treeprocessor):
    def run(self, root: Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and urlsplit(value.strip()).scheme.lower() not in SAFE_URL_SCHEMES:
                    element.set(attribute, "#")
            if element.tag == "a" and urlsplit(element.get("href", "")).scheme in ("http", "https"):
                element.set("rel", "noopener noreferrer")


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML that is safe to show: raw HTML is escaped, never passed through."""
    html = markdown.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists", "toc", _SafeMarkdown()])
    return mark_safe(html)  # noqa: S308 - raw HTML is disabled above, so the output is only markdown's own tags

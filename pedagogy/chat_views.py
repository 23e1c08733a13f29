"""Pages of the tutoring chat: the student's chat, and for teachers the course's conversations,
flagged questions, joining a conversation and answering a flagged question. The chat itself
runs over the websocket (``pedagogy.consumers``); these pages render its frame."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from domain import selectors as domain_selectors
from domain.views import get_managed_course, get_visible_course

TEACHERS_ONLY = "Only the course's teachers see its tutoring conversations."

from . import chat_selectors, chat_services


class FlaggedAnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=chat_services.MAX_MESSAGE_CHARS,
        help_text="Sent to the student's chat and added to the course's readings, so the tutor knows it next time.",
    )




@login_required
def chat(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_visible_course(request, slug=slug)
    if not chat_selectors.can_chat_as_student(user=request.user, course=course):
        if domain_selectors.can_manage_course(user=request.user, course=course):
            return redirect("tutor-conversations", slug=course.slug)
        raise PermissionDenied("The tutor chat is for the course's students.")
    context = {"course": course, "role": "student", "socket_path": f"/ws/tutor/{course.slug}/"}
    return render(request, "pedagogy/chat.html", context)


@login_required
def conversations(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=TEACHERS_ONLY)
    context = {
        "course": course,
        "conversations": chat_selectors.conversation_list_for_course(course=course),
        "flagged": chat_selectors.flagged_question_list_for_course(course=course),
        "open_flags": chat_selectors.open_flag_count(course=course),
        "form": FlaggedAnswerForm(),
    }
    return render(request, "pedagogy/chat_conversations.html", context)


@login_required
def conversation_join(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=TEACHERS_ONLY)
    conversation = chat_selectors.conversation_list(user=request.user).filter(course=course, pk=pk).first()
    if conversation is None:
        raise Http404("No such conversation.")
    context = {
        "course": course,
        "role": "teacher",
        "conversation": conversation,
        "socket_path": f"/ws/tutor/{course.slug}/conversations/{conversation.pk}/",
    }
    return render(request, "pedagogy/chat.html", context)


@login_required
@require_POST
def flagged_answer(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course = get_managed_course(request, slug=slug, refusal=TEACHERS_ONLY)
    flagged = chat_selectors.flagged_question_list(user=request.user).filter(course=course, pk=pk).first()
    if flagged is None:
        raise Http404("No such flagged question.")
    form = FlaggedAnswerForm(request.POST)
    if form.is_valid():
        try:
            chat_services.flagged_question_answer(flagged=flagged, teacher=request.user, answer=form.cleaned_data["answer"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Your answer was sent to the student and added to the course's readings.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("tutor-conversations", slug=course.slug)


"""Pages of the pedagogy app: progress and recommendations, the class view, the tutoring chat."""

from django.urls import path

from . import chat_views, progress_views

urlpatterns = [
    # progress, recommendations, class view
    path("courses/<slug:slug>/progress/", progress_views.my_progress, name="my-progress"),
    path(
        "courses/<slug:slug>/progress/students/<int:student_id>/",
        progress_views.student_progress,
        name="student-progress",
    ),
    path("courses/<slug:slug>/class/", progress_views.class_progress, name="class-progress"),
    # tutoring chat, teacher conversations and flagged questions
    path("courses/<slug:slug>/tutor/", chat_views.chat, name="tutor-chat"),
    path("courses/<slug:slug>/tutor/conversations/", chat_views.conversations, name="tutor-conversations"),
    path(
        "courses/<slug:slug>/tutor/conversations/<int:pk>/", chat_views.conversation_join, name="tutor-conversation-join"
    ),
    path("courses/<slug:slug>/tutor/flagged/<int:pk>/answer/", chat_views.flagged_answer, name="tutor-flagged-answer"),
]

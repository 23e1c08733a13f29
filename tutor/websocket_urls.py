"""Websocket routes; each app adds its consumers here."""

from django.urls import path

from pedagogy.consumers import CourseActivityConsumer, TutorChatConsumer
from student_model.consumers import SubmissionStatusConsumer

websocket_urlpatterns = [
    path("ws/submissions/", SubmissionStatusConsumer.as_asgi()),
    path("ws/tutor/<slug:slug>/", TutorChatConsumer.as_asgi()),
    path("ws/tutor/<slug:slug>/activity/", CourseActivityConsumer.as_asgi()),
    path("ws/tutor/<slug:slug>/conversations/<int:conversation_id>/", TutorChatConsumer.as_asgi()),
]

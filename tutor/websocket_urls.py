"""Websocket routes; each app adds its consumers here."""

from django.urls import path

from student_model.consumers import SubmissionStatusConsumer

websocket_urlpatterns = [
    path("ws/submissions/", SubmissionStatusConsumer.as_asgi()),
]

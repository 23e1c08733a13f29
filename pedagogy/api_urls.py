"""Routes of the pedagogy app under /api/v1/."""

from django.urls import path

from . import apis

urlpatterns = [
    # recommendations (issue 5)
    # conversations, messages, flagged questions (issue 6)
]

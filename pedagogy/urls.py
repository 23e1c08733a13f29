"""Pages of the pedagogy app: progress and recommendations, the class view, the tutoring chat."""

from django.urls import path

from . import views

urlpatterns = [
    # progress, recommendations, class view (issue 5)
    # tutoring chat, teacher conversations and flagged questions (issue 6)
]

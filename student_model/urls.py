"""Pages: a question, its answer form and the user's submissions."""

from django.urls import path

from . import views

urlpatterns = [
    path("courses/<slug:slug>/questions/<int:pk>/", views.question_detail, name="question-detail"),
    path(
        "courses/<slug:slug>/questions/<int:pk>/submissions/",
        views.question_submissions,
        name="question-submissions",
    ),
]

"""Pages: a question, its answer form and the user's submissions."""

from django.urls import path

from . import registry_views, review_views, views

urlpatterns = [
    path("courses/<slug:slug>/questions/<int:pk>/", views.question_detail, name="question-detail"),
    path(
        "courses/<slug:slug>/questions/<int:pk>/submissions/",
        views.question_submissions,
        name="question-submissions",
    ),
    # Teachers in the loop: review queue, answer groups, release policy, dashboard, export.
    path("review/", review_views.review_queue, name="review-queue"),
    path("review/<int:pk>/accept/", review_views.review_accept, name="review-accept"),
    path("review/<int:pk>/override/", review_views.review_override, name="review-override"),
    path("review/<int:pk>/history/", review_views.review_history, name="review-history"),
    path("courses/<slug:slug>/questions/<int:pk>/groups/", review_views.answer_groups, name="answer-groups"),
    path("courses/<slug:slug>/release-policy/", review_views.release_policy, name="release-policy"),
    path("courses/<slug:slug>/dashboard/", review_views.course_dashboard, name="course-dashboard"),
    path("courses/<slug:slug>/grades.csv", review_views.grades_csv, name="course-grades-csv"),
    # Model registry and retraining
    path("grader/registry/", registry_views.registry, name="grader-registry"),
    path("grader/versions/<int:pk>/promote/", registry_views.promote, name="grader-promote"),
    path("courses/<slug:slug>/grader/", registry_views.course_grader, name="course-grader"),
    path("courses/<slug:slug>/grader/retrain/", registry_views.start_retrain, name="course-grader-retrain"),
    path("courses/<slug:slug>/grader/rollback/", registry_views.rollback, name="course-grader-rollback"),
    path("courses/<slug:slug>/grader/regrade/", registry_views.start_regrade, name="course-grader-regrade"),
]

"""Everything under /api/v1/: each app contributes its routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("domain.api_urls")),
    path("", include("student_model.api_urls")),
    path("", include("pedagogy.api_urls")),
]

"""Server-rendered pages."""

from django.urls import include, path

urlpatterns = [
    path("", include("domain.urls")),
    path("", include("student_model.urls")),
    path("", include("pedagogy.urls")),
]

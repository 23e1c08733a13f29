"""Routes of the domain API under /api/v1/ (names prefixed ``api-`` apart from the pages')."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("courses", apis.CourseViewSet, basename="api-course")
router.register("units", apis.UnitViewSet, basename="api-unit")
router.register("skills", apis.SkillViewSet, basename="api-skill")
router.register("questions", apis.QuestionViewSet, basename="api-question")
router.register("resources", apis.ResourceViewSet, basename="api-resource")
router.register("enrollments", apis.EnrollmentViewSet, basename="api-enrollment")

urlpatterns = [
    path("auth/token/", apis.ObtainTokenApi.as_view(), name="api-auth-token"),
    *router.urls,
]

"""Routes of the student model API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("submissions", apis.SubmissionViewSet, basename="api-submission")
router.register("grades", apis.GradeViewSet, basename="api-grade")

urlpatterns = router.urls

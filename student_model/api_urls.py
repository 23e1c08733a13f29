"""Routes of the student model API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from . import apis, registry_apis, review_apis

router = SimpleRouter()
router.register("submissions", apis.SubmissionViewSet, basename="api-submission")
router.register("grades", apis.GradeViewSet, basename="api-grade")
# Teachers in the loop
router.register("review-queue", review_apis.ReviewQueueViewSet, basename="api-review")
router.register("release-policies", review_apis.ReleasePolicyViewSet, basename="api-release-policy")
# Model registry and retraining
router.register("grader-versions", registry_apis.GraderVersionViewSet, basename="api-grader-version")
router.register("training-runs", registry_apis.TrainingRunViewSet, basename="api-training-run")
router.register("regrades", registry_apis.RegradeRunViewSet, basename="api-regrade")

urlpatterns = router.urls

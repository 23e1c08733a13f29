"""REST API of the grader registry (/api/v1/grader-versions/, /api/v1/training-runs/, /api/v1/regrades/).

Reads go through ``registry_selectors`` (admins everything; a teacher the global versions and
their courses' versions and runs; students nothing); starting a run goes through
``retraining.start_retraining``, which refuses a course the user does not teach (403); promoting a
version (admins) and rolling a course back (its teachers, admins) through ``retraining`` too.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from domain.apis import ApiViewMixin

from . import regrading, registry_selectors, retraining, selectors
from .registry_serializers import (
    GraderVersionSerializer,
    RegradeRunCreateSerializer,
    RegradeRunSerializer,
    RollbackSerializer,
    RollbackResultSerializer,
    TrainingRunCreateSerializer,
    TrainingRunSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List the grader versions you can see"),
    retrieve=extend_schema(summary="One grader version, with its metrics and training data"),
)
class GraderVersionViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = GraderVersionSerializer
    filterset_fields = ["is_active"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return registry_selectors.grader_version_list(user=self.request.user)

    @extend_schema(
        summary="Make this version the active grader of its scope (its course, or every other course)",
        description="Admins only.",
        request=None,
        responses={200: GraderVersionSerializer},
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        version = retraining.promote_version(version=self.get_object(), user=request.user)
        return Response(self.get_serializer(version).data)

    @extend_schema(
        summary="Roll a course back to the grader its current version was trained from",
        description="The course's teachers and admins. 400 when the course already uses the global grader.",
        request=RollbackSerializer,
        responses={200: RollbackResultSerializer},
    )
    @action(detail=False, methods=["post"])
    def rollback(self, request):
        serializer = RollbackSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        course = serializer.validated_data["course"]
        serving = retraining.rollback_course(course=course, user=request.user)
        data = {"course": course.slug, "serving": serving}
        return Response(RollbackResultSerializer(data, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(summary="List the grader retraining runs you can see"),
    retrieve=extend_schema(summary="One retraining run: status, progress and, when done, its decision"),
    create=extend_schema(
        summary="Retrain a course's grader",
        description=(
            "Queues a LoRA fine-tuning of the course's active grader on its teacher-confirmed answers. "
            "The new version is promoted only if it beats the current one on held-out answers. Poll the "
            "run for progress. Refused while another run of the course is queued or running."
        ),
        request=TrainingRunCreateSerializer,
        responses={201: TrainingRunSerializer},
    ),
)
class TrainingRunViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TrainingRunSerializer
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return registry_selectors.training_run_list(user=self.request.user)

    def get_serializer_class(self):
        return TrainingRunCreateSerializer if self.action == "create" else TrainingRunSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = retraining.start_retraining(course=serializer.validated_data["course"], started_by=request.user)
        return Response(TrainingRunSerializer(run, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List the bulk regrades you can see"),
    retrieve=extend_schema(summary="One bulk regrade: status and progress (answers done of total)"),
    create=extend_schema(
        summary="Regrade a question or a whole course with the active grader",
        description=(
            "Queues a batched regrade of the answers whose current grade came from the model; answers a "
            "teacher graded or confirmed keep their grade. Poll the run for progress. Refused while another "
            "regrade of the course is queued or running, or when no grader is active."
        ),
        request=RegradeRunCreateSerializer,
        responses={201: RegradeRunSerializer},
    ),
)
class RegradeRunViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RegradeRunSerializer
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return selectors.regrade_run_list(user=self.request.user)

    def get_serializer_class(self):
        return RegradeRunCreateSerializer if self.action == "create" else RegradeRunSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = regrading.start_regrade(
            course=serializer.validated_data["course"], question=serializer.validated_data.get("question"),
            started_by=request.user,
        )
        return Response(RegradeRunSerializer(run, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

"""REST API of the student model (/api/v1/submissions/, /api/v1/grades/).

Reads go through ``student_model.selectors`` (students see their own work, teachers
their courses', admins everything; anything else is a 404); a student submits through
``services.submit_answer``.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from domain.apis import ApiViewMixin

from . import filters, selectors, services
from .serializers import GradeSerializer, SubmissionCreateSerializer, SubmissionSerializer


@extend_schema_view(
    list=extend_schema(summary="List the submissions you can see"),
    retrieve=extend_schema(summary="One submission"),
    create=extend_schema(
        summary="Submit an answer",
        description=(
            "Stores the answer with status `received` and queues it for grading. The answer must not be "
            "empty nor longer than the limit; you must be enrolled in the question's course. The same "
            "answer sent again within a few seconds (a double click, a resent request) is stored once: the "
            "repeat answers 200 with the stored submission."
        ),
        request=SubmissionCreateSerializer,
        responses={201: SubmissionSerializer, 200: SubmissionSerializer},
    ),
)
class SubmissionViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SubmissionSerializer
    filterset_class = filters.SubmissionFilter
    search_fields = ["answer", "student__username"]
    ordering_fields = ["submitted_at", "status", "id"]

    def get_queryset(self):
        return selectors.submission_list(user=self.request.user)

    def get_serializer_class(self):
        return SubmissionCreateSerializer if self.action == "create" else SubmissionSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission, stored = services.submit_answer_once(student=request.user, **serializer.validated_data)
        return Response(
            SubmissionSerializer(submission, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if stored else status.HTTP_200_OK,
        )


@extend_schema_view(
    list=extend_schema(summary="List the grades you can see"),
    retrieve=extend_schema(summary="One grade"),
)
class GradeViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = GradeSerializer
    filterset_class = filters.GradeFilter
    ordering_fields = ["created_at", "score", "id"]

    def get_queryset(self):
        return selectors.grade_list(user=self.request.user)

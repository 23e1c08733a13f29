"""REST API of teacher review (/api/v1/review-queue/, /api/v1/release-policies/).

Thin adapters: reads through the selectors (an answer the user cannot see is a 404), writes
through ``review_services`` (an answer they see but do not teach is a 403).
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from domain import selectors as domain_selectors
from domain.apis import ApiViewMixin

from . import answer_groups, review_services, selectors
from .filters import ReviewQueueFilter
from .serializers import (
    AnswerGroupSerializer,
    GradeSerializer,
    GroupGradeSerializer,
    QuestionQuerySerializer,
    ReleasePolicyCreateSerializer,
    ReleasePolicySerializer,
    ReleasePolicyUpdateSerializer,
    ReviewItemSerializer,
    TeacherGradeSerializer,
)


class TeachesACourse(BasePermission):
    """Queue lists, group grading and release policies are for teachers (and admins); one answer is checked
    by the service."""

    message = "Reviewing grades and release policies is for the courses' teachers."

    def has_permission(self, request, view) -> bool:
        if view.action in ("list", "bulk_grade", "create", "answer_groups"):
            return domain_selectors.course_list_taught(user=request.user).exists()
        return True


@extend_schema_view(
    list=extend_schema(
        summary="The review queue: auto-graded answers not yet reviewed, least confident first",
        description="Answers of the courses you teach whose current grade is the model's.",
    ),
    retrieve=extend_schema(summary="One answer with its current grade (teachers of its course)"),
)
class ReviewQueueViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, TeachesACourse]
    serializer_class = ReviewItemSerializer
    filterset_class = ReviewQueueFilter
    ordering_fields: list[str] = []  # the queue's own order: least confident first

    def get_queryset(self):
        if self.action == "list":
            return selectors.review_queue(user=self.request.user)
        # One answer: any the user sees (404 otherwise); the check below turns "not yours" into a 403.
        return selectors.with_current_grade(selectors.submission_list(user=self.request.user))

    def get_object(self):
        submission = super().get_object()
        if not domain_selectors.can_manage_course(user=self.request.user, course=submission.question.course):
            raise PermissionDenied("Only the course's teachers may review its grades.")
        return submission

    def _graded(self, grade, status_code=status.HTTP_201_CREATED) -> Response:
        grade.is_current = True  # the grade a review gives or keeps is the submission's current one
        return Response(GradeSerializer(grade, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(summary="Accept the current grade (released, as the teacher's)", request=None,
                   responses={201: GradeSerializer, 200: GradeSerializer},
                   description="200 and the grade as it is when a teacher already gave or confirmed it.")
    @action(detail=True, methods=["post"], url_path="accept", url_name="accept")
    def accept(self, request, pk=None):
        submission = self.get_object()
        before = selectors.latest_grade(submission=submission)
        grade = review_services.accept_grade(actor=request.user, submission=submission)
        return self._graded(grade, status.HTTP_201_CREATED if grade != before else status.HTTP_200_OK)

    @extend_schema(summary="Override the grade with the teacher's score, verdict and feedback",
                   request=TeacherGradeSerializer, responses={201: GradeSerializer})
    @action(detail=True, methods=["post"], url_path="override", url_name="override")
    def override(self, request, pk=None):
        submission = self.get_object()
        serializer = TeacherGradeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grade = review_services.override_grade(actor=request.user, submission=submission, **serializer.validated_data)
        return self._graded(grade)

    @extend_schema(summary="Release the held grade to the student as it stands (no new grade)", request=None,
                   responses={200: ReviewItemSerializer})
    @action(detail=True, methods=["post"], url_path="release", url_name="release")
    def release(self, request, pk=None):
        submission = review_services.release_submission(actor=request.user, submission=self.get_object())
        item = selectors.with_current_grade(selectors.submission_list(user=request.user)).get(pk=submission.pk)
        return Response(ReviewItemSerializer(item, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Similar answers to one question, grouped (to grade a group at once with bulk-grade)",
        parameters=[OpenApiParameter("question", int, required=True, description="The question's id")],
        responses={200: AnswerGroupSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], url_path="answer-groups", url_name="answer-groups")
    def answer_groups(self, request):
        query = QuestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        question = domain_selectors.question_list(user=request.user).filter(pk=query.validated_data["question"]).first()
        if question is None:
            raise NotFound("No such question.")
        if not domain_selectors.can_manage_course(user=request.user, course=question.course):
            raise PermissionDenied("Only the course's teachers may review its grades.")
        groups = answer_groups.answer_groups(question=question)
        return Response(AnswerGroupSerializer(groups, many=True).data)

    @extend_schema(summary="Give one grade to a group of answers to one question",
                   request=GroupGradeSerializer, responses={201: GradeSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="bulk-grade", url_name="bulk-grade")
    def bulk_grade(self, request):
        serializer = GroupGradeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        grades = review_services.grade_answer_group(actor=request.user, **serializer.validated_data)
        for grade in grades:
            grade.is_current = True
        return Response(GradeSerializer(grades, many=True).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Release policies of the courses you teach"),
    retrieve=extend_schema(summary="One release policy"),
    create=extend_schema(summary="Set a course's release policy (created, or replaced)",
                         request=ReleasePolicyCreateSerializer, responses={201: ReleasePolicySerializer}),
    partial_update=extend_schema(summary="Change a release policy",
                                 request=ReleasePolicyUpdateSerializer, responses=ReleasePolicySerializer),
)
class ReleasePolicyViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    http_method_names = ["get", "post", "patch", "head", "options"]
    permission_classes = [IsAuthenticated, TeachesACourse]
    serializer_class = ReleasePolicySerializer

    def get_queryset(self):
        return selectors.release_policy_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = ReleasePolicyCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        policy = review_services.release_policy_update(actor=request.user, **serializer.validated_data)
        return Response(ReleasePolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        policy = self.get_object()
        serializer = ReleasePolicyUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = {"auto_release": policy.auto_release, "confidence_threshold": policy.confidence_threshold,
                  **serializer.validated_data}
        policy = review_services.release_policy_update(actor=request.user, course=policy.course, **values)
        return Response(ReleasePolicySerializer(policy).data)

"""REST API of the domain (/api/v1/courses/, units/, skills/, questions/, resources/, enrollments/).

Thin adapters: reads go through ``domain.selectors`` (which decide who sees what, so an
object outside the user's set is a 404), writes through one ``domain.services`` call.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from . import filters, selectors, services
from . import serializers as s
from .models import Course, Question
from .permissions import CanManageCourseContent, CourseAccess, EnrollmentAccess

# --- shared plumbing (also used by the other apps' API views) ---------------------------------


def service_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError from a service, in DRF's ``{"field": ["message"]}`` shape."""
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): messages
            for key, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


class ApiViewMixin:
    """Authentication of every API view, and services' ValidationErrors as 400 responses."""

    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(service_error_detail(exc))
        return super().handle_exception(exc)


class ServiceViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List/retrieve from a selector; create and delete through services.

    A subclass names ``selector`` (``user=`` -> queryset), the output ``serializer_class``,
    the input serializers and the services.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes = [IsAuthenticated, CanManageCourseContent]
    selector: Callable[..., QuerySet]
    create_serializer_class: type[serializers.Serializer] | None = None
    update_serializer_class: type[serializers.Serializer] | None = None
    create_service: Callable[..., Model]
    update_service: Callable[..., Model]
    delete_service: Callable[..., None]
    service_object_kwarg: str  # how the services name the object, e.g. ``unit=``
    update_takes_actor = False  # the update service records who made the change (``actor=``)

    def course_of(self, obj: Model) -> Course:
        return obj.course

    def get_queryset(self) -> QuerySet:
        return type(self).selector(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class:
            return self.create_serializer_class
        if self.action == "partial_update" and self.update_serializer_class:
            return self.update_serializer_class
        return self.serializer_class

    def output_serializer_class(self, obj: Model) -> type[serializers.Serializer]:
        return self.serializer_class

    def output(self, obj: Model) -> dict[str, Any]:
        obj = self.get_queryset().get(pk=obj.pk)  # fresh, with the selector's prefetching
        return self.output_serializer_class(obj)(obj, context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = type(self).create_service(**serializer.validated_data)
        return Response(self.output(obj), status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        type(self).delete_service(**{self.service_object_kwarg: obj})
        return Response(status=status.HTTP_204_NO_CONTENT)


class EditableServiceViewSet(ServiceViewSet):
    """A ServiceViewSet whose objects can also be changed (PATCH, through ``update_service``)."""

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        context = {**self.get_serializer_context(), "course": self.course_of(obj)}
        serializer = self.get_serializer(data=request.data, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        actor = {"actor": request.user} if self.update_takes_actor else {}
        obj = type(self).update_service(**{self.service_object_kwarg: obj}, **actor, **serializer.validated_data)
        return Response(self.output(obj))


def crud_schema(output, create, update, *, name: str, list_output=None, list_description: str = ""):
    """Schema of an EditableServiceViewSet: inputs differ from the output the views return."""
    list_schema = {"responses": list_output} if list_output is not None else {}
    return extend_schema_view(
        list=extend_schema(summary=f"List the {name}s you can see", description=list_description, **list_schema),
        retrieve=extend_schema(summary=f"One {name}", responses=output),
        create=extend_schema(summary=f"Create a {name}", request=create, responses={201: output}),
        partial_update=extend_schema(summary=f"Change a {name}", request=update, responses=output),
        destroy=extend_schema(summary=f"Delete a {name}", responses={204: OpenApiResponse(description="Deleted.")}),
    )


# --- courses and their content ----------------------------------------------------------------


@crud_schema(s.CourseSerializer, s.CourseInputSerializer, s.CourseInputSerializer, name="course")
class CourseViewSet(EditableServiceViewSet):
    """Courses, by slug. Admins create and delete them; a course's teachers may edit it."""

    lookup_field = "slug"
    permission_classes = [IsAuthenticated, CourseAccess]
    selector = selectors.course_list
    serializer_class = s.CourseSerializer
    create_serializer_class = s.CourseInputSerializer
    update_serializer_class = s.CourseInputSerializer
    create_service = services.course_create
    update_service = services.course_update
    delete_service = services.course_delete
    service_object_kwarg = "course"
    filterset_class = filters.CourseFilter
    search_fields = ["slug", "title", "description"]
    ordering_fields = ["title", "slug", "created_at"]

    def course_of(self, obj: Course) -> Course:
        return obj


@crud_schema(s.UnitSerializer, s.UnitCreateSerializer, s.UnitUpdateSerializer, name="unit")
class UnitViewSet(EditableServiceViewSet):
    selector = selectors.unit_list
    serializer_class = s.UnitSerializer
    create_serializer_class = s.UnitCreateSerializer
    update_serializer_class = s.UnitUpdateSerializer
    create_service = services.unit_create
    update_service = services.unit_update
    delete_service = services.unit_delete
    service_object_kwarg = "unit"
    filterset_class = filters.UnitFilter
    search_fields = ["title"]
    ordering_fields = ["order", "title"]


@crud_schema(s.SkillSerializer, s.SkillCreateSerializer, s.SkillUpdateSerializer, name="skill")
class SkillViewSet(EditableServiceViewSet):
    selector = selectors.skill_list
    serializer_class = s.SkillSerializer
    create_serializer_class = s.SkillCreateSerializer
    update_serializer_class = s.SkillUpdateSerializer
    create_service = services.skill_create
    update_service = services.skill_update
    delete_service = services.skill_delete
    service_object_kwarg = "skill"
    filterset_class = filters.SkillFilter
    search_fields = ["slug", "name", "description"]
    ordering_fields = ["slug", "name"]


def _question_for_role(many: bool) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="QuestionForRole",
        serializers=[s.QuestionSerializer, s.QuestionManagerSerializer],
        resource_type_field_name=None,
        many=many,
    )


@crud_schema(
    _question_for_role(False),
    s.QuestionCreateSerializer,
    s.QuestionUpdateSerializer,
    name="question",
    list_output=_question_for_role(True),
    list_description="Reference answers and rubric are included only for questions of courses you manage.",
)
class QuestionViewSet(EditableServiceViewSet):
    """Questions. Their reference answers and rubric go only to those who manage the course."""

    selector = selectors.question_list
    serializer_class = s.QuestionSerializer
    create_serializer_class = s.QuestionCreateSerializer
    update_serializer_class = s.QuestionUpdateSerializer
    create_service = services.question_create
    update_service = services.question_update
    update_takes_actor = True  # new points rescale grades: the audit trail names the teacher
    delete_service = services.question_delete
    service_object_kwarg = "question"
    filterset_class = filters.QuestionFilter
    search_fields = ["prompt", "external_id"]
    ordering_fields = ["order", "id", "max_points"]

    def output_serializer_class(self, obj: Question, managed: set[int] | None = None):
        if managed is None:
            may_see = selectors.can_see_answers(user=self.request.user, course=obj.course)
        else:
            may_see = obj.course_id in managed
        return s.QuestionManagerSerializer if may_see else s.QuestionSerializer

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        return Response(self.output_serializer_class(obj)(obj, context=self.get_serializer_context()).data)

    def list(self, request, *args, **kwargs):
        questions = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(questions)
        managed = set(selectors.course_list_taught(user=request.user).values_list("pk", flat=True))
        context = self.get_serializer_context()
        data = [
            self.output_serializer_class(q, managed)(q, context=context).data
            for q in (page if page is not None else questions)
        ]
        return self.get_paginated_response(data) if page is not None else Response(data)


@crud_schema(s.ResourceSerializer, s.ResourceCreateSerializer, s.ResourceUpdateSerializer, name="resource")
class ResourceViewSet(EditableServiceViewSet):
    selector = selectors.resource_list
    serializer_class = s.ResourceSerializer
    create_serializer_class = s.ResourceCreateSerializer
    update_serializer_class = s.ResourceUpdateSerializer
    create_service = services.resource_create
    update_service = services.resource_update
    delete_service = services.resource_delete
    service_object_kwarg = "resource"
    filterset_class = filters.ResourceFilter
    search_fields = ["title", "body"]
    ordering_fields = ["order", "title", "id"]


@extend_schema_view(
    list=extend_schema(summary="List the enrollments you can see (yours, and those of courses you teach)"),
    retrieve=extend_schema(summary="One enrollment"),
    create=extend_schema(
        summary="Enroll someone in a course",
        description="Admins enroll anyone; a course's teachers enroll students in it.",
        request=s.EnrollmentCreateSerializer,
        responses={201: s.EnrollmentSerializer},
    ),
    destroy=extend_schema(summary="Remove an enrollment", responses={204: OpenApiResponse(description="Removed.")}),
)
class EnrollmentViewSet(ServiceViewSet):
    """Enrollments are created and removed, never edited."""

    permission_classes = [IsAuthenticated, EnrollmentAccess]
    selector = selectors.enrollment_list
    serializer_class = s.EnrollmentSerializer
    create_serializer_class = s.EnrollmentCreateSerializer
    create_service = services.enrollment_create
    delete_service = services.enrollment_delete
    service_object_kwarg = "enrollment"
    filterset_class = filters.EnrollmentFilter
    search_fields = ["user__username"]
    ordering_fields = ["created_at", "role"]


# --- authentication ---------------------------------------------------------------------------


class TokenThrottle(AnonRateThrottle):
    scope = "auth-token"
    rate = "20/minute"


class ObtainTokenApi(ObtainAuthToken):
    """POST a username and password, get the API token to send as ``Authorization: Token <key>``."""

    authentication_classes: list = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        summary="Obtain an API token",
        request=AuthTokenSerializer,
        responses={200: s.AuthTokenOutputSerializer},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

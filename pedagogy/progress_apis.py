"""REST API of progress: a learner's mastery and next steps, and a course's risk list.

Same rules as everywhere: a course the user cannot see is a 404; a learner is addressed with
``?student=<id>``, which only the course's teachers (and admins) may use for someone else (for
anyone else another learner is a 404); the risk list is for the course's teachers (a student of
the course gets a 403).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from domain import selectors as domain_selectors
from domain.apis import ApiViewMixin
from domain.models import Course
from domain.views import get_managed_course
from student_model import mastery_selectors, risk

from . import progress_serializers as s
from .recommendations import recommend_next_steps

STUDENT_PARAM = OpenApiParameter(
    "student", OpenApiTypes.INT, description="A student of the course (teachers and admins); yourself by default."
)


def visible_course(request, slug: str) -> Course:
    return get_object_or_404(domain_selectors.course_list(user=request.user), slug=slug)



def addressed_learner(request, course: Course) -> AbstractBaseUser:
    raw = request.query_params.get("student")
    if raw in (None, "", str(request.user.pk)):
        return request.user
    if not raw.isdigit() or not domain_selectors.can_manage_course(user=request.user, course=course):
        raise exceptions.NotFound("No such student.")
    return get_object_or_404(mastery_selectors.course_students(course=course), pk=int(raw))


class MasteryApi(ApiViewMixin, APIView):
    @extend_schema(summary="A learner's mastery of every skill of the course", parameters=[STUDENT_PARAM],
                   responses=s.MasterySerializer)
    def get(self, request, slug: str):
        course = visible_course(request, slug)
        learner = addressed_learner(request, course)
        version = mastery_selectors.active_tracer_version(course=course)
        data = {
            "course": course.slug,
            "student": learner,
            "tracer": version.version if version else "",
            "tracer_kind": version.kind if version else "",
            "skills": mastery_selectors.student_mastery(course=course, student=learner),
        }
        return Response(s.MasterySerializer(data).data)


class RecommendationsApi(ApiViewMixin, APIView):
    @extend_schema(
        summary="A learner's next steps in the course, best first",
        parameters=[STUDENT_PARAM, OpenApiParameter("limit", OpenApiTypes.INT, description="1..10, default 5")],
        responses=s.RecommendationSerializer(many=True),
    )
    def get(self, request, slug: str):
        course = visible_course(request, slug)
        learner = addressed_learner(request, course)
        raw = request.query_params.get("limit", "5")
        limit = min(10, max(1, int(raw))) if raw.isdigit() else 5
        steps = recommend_next_steps(student=learner, course=course, limit=limit)
        return Response(s.RecommendationSerializer(steps, many=True).data)


class RiskListApi(ApiViewMixin, APIView):
    @extend_schema(
        summary="The course's students by risk of not reaching mastery in their current unit, highest first",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="Page number (50 students a page)")],
        responses=s.RiskPageSerializer,
    )
    def get(self, request, slug: str):
        course = get_managed_course(request, slug=slug, refusal="The risk list is for the course's teachers.")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(risk.course_risk_list(course=course), request, view=self)
        return paginator.get_paginated_response(s.RiskSerializer(page, many=True).data)


class ClassMasteryApi(ApiViewMixin, APIView):
    @extend_schema(
        summary="Mastery of every student of the course × every skill (the class heatmap), by username",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="Page number (50 students a page)")],
        responses=s.ClassMasteryPageSerializer,
    )
    def get(self, request, slug: str):
        course = get_managed_course(request, slug=slug, refusal="The class's mastery is for the course's teachers.")
        paginator = PageNumberPagination()
        students = paginator.paginate_queryset(mastery_selectors.course_students(course=course), request, view=self)
        heatmap = mastery_selectors.class_heatmap(course=course, students=students)
        rows = [
            {"student": student, "skills": [{"skill": k.slug, "p_mastery": v} for k, v in zip(heatmap.skills, values)]}
            for student, values in heatmap.rows
        ]
        return paginator.get_paginated_response(s.ClassMasteryRowSerializer(rows, many=True).data)

"""Reads of the domain model, including who may see what.

Access rules, in one place:
- an admin (``is_staff`` or ``is_superuser``) sees and manages everything;
- a teacher sees and manages the courses where they hold a teacher enrollment;
- a student sees the courses they are enrolled in, never reference answers or rubrics.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Max, Prefetch, QuerySet

from .models import Course, Enrollment, Question, Resource, Skill, Unit

User = AbstractBaseUser | AnonymousUser


def is_admin(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def is_teacher(user: User) -> bool:
    return bool(
        user.is_authenticated
        and Enrollment.objects.filter(user=user, role=Enrollment.Role.TEACHER).exists()
    )


def user_role(user: User) -> str:
    """The user's highest role: ``admin``, ``teacher``, ``student`` or ``anonymous``."""
    if not user.is_authenticated:
        return "anonymous"
    if is_admin(user):
        return "admin"
    if is_teacher(user):
        return "teacher"
    return "student"


def course_list(*, user: User) -> QuerySet[Course]:
    """Courses the user may see."""
    if is_admin(user):
        return Course.objects.all()
    if not user.is_authenticated:
        return Course.objects.none()
    return Course.objects.filter(enrollments__user=user).distinct()


def course_list_taught(*, user: User) -> QuerySet[Course]:
    """Courses the user may manage (edit content, see every student's work)."""
    if is_admin(user):
        return Course.objects.all()
    if not user.is_authenticated:
        return Course.objects.none()
    return Course.objects.filter(enrollments__user=user, enrollments__role=Enrollment.Role.TEACHER).distinct()


def can_view_course(*, user: User, course: Course) -> bool:
    return course_list(user=user).filter(pk=course.pk).exists()


def can_manage_course(*, user: User, course: Course) -> bool:
    return course_list_taught(user=user).filter(pk=course.pk).exists()


def can_see_answers(*, user: User, course: Course) -> bool:
    """Reference answers and rubrics are for the course's teachers and admins only."""
    return can_manage_course(user=user, course=course)


def unit_list(*, user: User) -> QuerySet[Unit]:
    return Unit.objects.filter(course__in=course_list(user=user)).select_related("course")


def skill_list(*, user: User) -> QuerySet[Skill]:
    return (
        Skill.objects.filter(course__in=course_list(user=user))
        .select_related("course", "unit")
        .prefetch_related("prerequisites")
    )


def question_list(*, user: User) -> QuerySet[Question]:
    return (
        Question.objects.filter(course__in=course_list(user=user))
        .select_related("course", "unit")
        .prefetch_related("skills", "reference_answers", "rubric_criteria")
    )


def resource_list(*, user: User) -> QuerySet[Resource]:
    return Resource.objects.filter(course__in=course_list(user=user)).select_related("course", "unit").prefetch_related(
        "skills"
    )


def enrollment_list(*, user: User) -> QuerySet[Enrollment]:
    """Admins see all enrollments, teachers those of their courses, students their own."""
    if is_admin(user):
        qs = Enrollment.objects.all()
    elif not user.is_authenticated:
        qs = Enrollment.objects.none()
    else:
        taught = course_list_taught(user=user)
        qs = Enrollment.objects.filter(course__in=taught) | Enrollment.objects.filter(user=user)
    return qs.select_related("user", "course").distinct()


def course_detail(*, slug: str) -> Course:
    """The course with its content prefetched for the course page. Raises ``Course.DoesNotExist``."""
    return Course.objects.prefetch_related(
        Prefetch("units", queryset=Unit.objects.order_by("order")),
        Prefetch("skills", queryset=Skill.objects.select_related("unit").prefetch_related("prerequisites")),
        Prefetch("resources", queryset=Resource.objects.select_related("unit").only(
            "id", "title", "kind", "unit", "order", "external_id", "url", "course"
        )),
        Prefetch("questions", queryset=Question.objects.select_related("unit").prefetch_related("skills")),
    ).get(slug=slug)


def resource_list_for_course(*, course: Course) -> QuerySet[Resource]:
    """Every resource of a course that has text, for system-side work (e.g. the tutor's index)."""
    return Resource.objects.filter(course=course).exclude(body="").order_by("id")


def question_prompts_for_course(*, course: Course) -> list[tuple[int, str]]:
    """``(id, prompt)`` of every question of the course, for system-side work (e.g. the tutor)."""
    return list(Question.objects.filter(course=course).order_by("id").values_list("id", "prompt"))


def _version(queryset: QuerySet) -> tuple:
    row = queryset.aggregate(n=Count("id"), top=Max("id"), changed=Max("updated_at"))
    return (row["n"], row["top"], row["changed"])


def resource_version(*, course: Course) -> tuple:
    """Changes whenever one of the course's resources is added, edited or deleted: one small query,
    so per-process caches built from the resources (the tutor's index) can check it on every use."""
    return _version(Resource.objects.filter(course=course))


def question_version(*, course: Course) -> tuple:
    """As ``resource_version``, for the course's questions (their prompts, e.g. for the tutor)."""
    return _version(Question.objects.filter(course=course))

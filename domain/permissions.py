"""Who may write through the API; reads are scoped by ``domain.selectors`` in the views.

Objects outside a user's visible set are never reached here: the views fetch them
through the selectors, so they are a 404. These classes turn "visible but not yours
to change" into a 403.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from . import selectors

def manages_any_course(user) -> bool:
    return selectors.course_list_taught(user=user).exists()


class CanManageCourseContent(BasePermission):
    """Reads for whoever sees the object; writes for the course's teachers and admins.

    Creating needs a course the user manages: someone who manages none is refused here,
    the course named in the body is checked by the serializer. The view names the
    object's course with ``course_of(obj)``.
    """

    message = "Only the course's teachers and admins may change it."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or view.action != "create":
            return True
        return manages_any_course(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return selectors.can_manage_course(user=request.user, course=view.course_of(obj))


class CourseAccess(CanManageCourseContent):
    """Courses: admins create and delete them; their teachers and admins edit them."""

    message = "Only admins may create or delete courses; a course's teachers may edit it."

    def has_permission(self, request, view) -> bool:
        if view.action == "create":
            return selectors.is_admin(request.user)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if view.action == "destroy":
            return selectors.is_admin(request.user)
        return super().has_object_permission(request, view, obj)


class EnrollmentAccess(CanManageCourseContent):
    """Enrollments: admins manage all; a course's teachers add and remove its students."""

    message = "Only admins, and a course's teachers for its students, may change enrollments."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or selectors.is_admin(request.user):
            return True
        return obj.role == obj.Role.STUDENT and selectors.can_manage_course(user=request.user, course=obj.course)

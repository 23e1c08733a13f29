import pytest

from tests import factories


@pytest.fixture
def course():
    return factories.CourseFactory()


@pytest.fixture
def student(course):
    user = factories.UserFactory(username="stu")
    factories.EnrollmentFactory(user=user, course=course, role="student")
    return user


@pytest.fixture
def teacher(course):
    user = factories.UserFactory(username="teach")
    factories.EnrollmentFactory(user=user, course=course, role="teacher")
    return user


@pytest.fixture
def admin_user():
    return factories.AdminFactory(username="root")

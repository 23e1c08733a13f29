"""Constraints the database keeps whatever writes to it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from domain.models import Resource, SkillPrerequisite, Unit
from tests import factories

pytestmark = pytest.mark.django_db


def _integrity_error(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_unit_order_is_unique_per_course(course):
    factories.UnitFactory(course=course, order=1)
    _integrity_error(lambda: Unit.objects.create(course=course, order=1, title="Expressions"))
    Unit.objects.create(course=factories.CourseFactory(), order=1, title="Statements")  # other course: fine


def test_course_slug_and_skill_slug_are_unique(course):
    _integrity_error(lambda: factories.CourseFactory(slug=course.slug))
    factories.SkillFactory(course=course, slug="variables")
    _integrity_error(lambda: factories.SkillFactory(course=course, slug="variables"))
    factories.SkillFactory(course=factories.CourseFactory(), slug="variables")


def test_question_and_resource_external_ids_are_unique_per_course_unless_blank(course):
    factories.QuestionFactory(course=course, external_id="EM_45b")
    _integrity_error(lambda: factories.QuestionFactory(course=course, external_id="EM_45b"))
    factories.QuestionFactory(course=course, external_id="")
    factories.QuestionFactory(course=course, external_id="")
    factories.ResourceFactory(course=course, external_id="m00003")
    _integrity_error(lambda: factories.ResourceFactory(course=course, external_id="m00003"))
    factories.ResourceFactory(course=course, external_id="")
    factories.ResourceFactory(course=course, external_id="")


def test_resource_needs_a_body_or_a_url(course):
    _integrity_error(lambda: Resource.objects.create(course=course, title="Empty", body="", url=""))
    with pytest.raises(ValidationError):
        Resource(course=course, title="Empty").full_clean()
    Resource.objects.create(course=course, title="Link", url="https://openstax.org/")


def test_skill_cannot_be_its_own_prerequisite(course):
    skill = factories.SkillFactory(course=course)
    _integrity_error(lambda: SkillPrerequisite.objects.create(skill=skill, prerequisite=skill))
    other = factories.SkillFactory(course=course)
    SkillPrerequisite.objects.create(skill=skill, prerequisite=other)
    _integrity_error(lambda: SkillPrerequisite.objects.create(skill=skill, prerequisite=other))


def test_enrollment_is_unique_per_user_and_course(course, student):
    _integrity_error(lambda: factories.EnrollmentFactory(user=student, course=course, role="teacher"))

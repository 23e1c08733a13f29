"""factory_boy factories shared by the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from domain.models import Course, Enrollment, Question, ReferenceAnswer, Resource, RubricCriterion, Skill, Unit
from student_model.models import Grade, Submission


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pass-1234")


class AdminFactory(UserFactory):
    is_staff = True
    is_superuser = True


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    licence = "CC BY 4.0"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    course = factory.SubFactory(CourseFactory)
    order = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Unit {n}")
    external_id = factory.Sequence(lambda n: f"u{n}")


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    course = factory.SubFactory(CourseFactory)
    slug = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.Sequence(lambda n: f"Skill {n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question
        skip_postgeneration_save = True

    course = factory.SubFactory(CourseFactory)
    external_id = factory.Sequence(lambda n: f"q{n}")
    prompt = "How did you separate the salt from the water?"
    max_points = 1.0

    @factory.post_generation
    def reference(self, create, extracted, **kwargs):
        if create:
            ReferenceAnswer.objects.create(question=self, text=extracted or "The water was evaporated, leaving the salt.")


class RubricCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RubricCriterion

    question = factory.SubFactory(QuestionFactory)
    description = "Names evaporation"
    points = 1.0


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Reading {n}")
    body = "Evaporation turns liquid water into vapour and leaves dissolved salt behind."
    external_id = factory.Sequence(lambda n: f"r{n}")


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    role = Enrollment.Role.STUDENT


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    student = factory.SubFactory(UserFactory)
    question = factory.SubFactory(QuestionFactory)
    answer = "We let the water evaporate and the salt stayed."
    submitted_at = factory.LazyFunction(timezone.now)


class GradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grade

    submission = factory.SubFactory(SubmissionFactory)
    score = 1.0
    verdict = Grade.Verdict.CORRECT
    source = Grade.Source.TEACHER
    feedback = "Right: evaporation leaves the salt."

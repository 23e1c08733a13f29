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


# --- tutoring chat (pedagogy) ---------------------------------------------------------------

from pedagogy.models import Conversation, FlaggedQuestion, Message  # noqa: E402


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation
        django_get_or_create = ("student", "course")

    student = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    sender = Message.Sender.STUDENT
    author = factory.LazyAttribute(lambda m: m.conversation.student if m.sender == Message.Sender.STUDENT else None)
    text = "Is the final exam open book?"


class FlaggedQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlaggedQuestion

    message = factory.SubFactory(MessageFactory)
    conversation = factory.LazyAttribute(lambda f: f.message.conversation)
    course = factory.LazyAttribute(lambda f: f.message.conversation.course)
    text = factory.LazyAttribute(lambda f: f.message.text)


# --- model registry and retraining (issue 4) ---
from student_model.models import GraderVersion, TrainingRun  # noqa: E402


class GraderVersionFactory(factory.django.DjangoModelFactory):
    """A registered version; its ``path`` need not exist unless a test serves or activates it."""

    class Meta:
        model = GraderVersion

    version = factory.Sequence(lambda n: f"grader-test-{n}")
    path = factory.LazyAttribute(lambda v: f"/tmp/tutor-test-models/grader/{v.version}")
    metrics = factory.LazyFunction(lambda: {"validation": {"macro_f1": 0.61}})
    training_summary = factory.LazyFunction(lambda: {"train": {"n": 120, "datasets": {"semeval": {"n": 120}}}})


class TrainingRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRun

    course = factory.SubFactory(CourseFactory)
    status = TrainingRun.Status.QUEUED

"""Every route under /api/v1/ × every role × every method, against one table of expected statuses.

The routes are read from the URL resolver, so a new endpoint (or a new method on one)
without an entry here fails ``test_every_api_route_is_in_the_table``.
"""

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from domain.models import Course, Enrollment, Question, Resource, Skill, Unit
from pedagogy.models import Conversation, FlaggedQuestion, Message
from student_model.models import Grade, Submission

from .conftest import PASSWORD, ROLES

METHODS = {"list": "get", "retrieve": "get", "create": "post", "update": "patch", "delete": "delete"}


def by_role(anonymous, student, other_student, teacher, other_teacher, admin) -> dict[str, int]:
    """Statuses for: anonymous, student of course A, student of B, teacher of A, teacher of B, admin."""
    return dict(zip(ROLES, (anonymous, student, other_student, teacher, other_teacher, admin), strict=True))


SEE_ALL = by_role(401, 200, 200, 200, 200, 200)  # a list: everyone signed in gets one (scoped)
SEE_COURSE_A = by_role(401, 200, 404, 200, 404, 200)  # an object of course A: B's people get a 404
CREATE_IN_A = by_role(401, 403, 403, 201, 400, 201)  # B's teacher names a course they cannot see: 400
CHANGE_IN_A = by_role(401, 403, 404, 200, 404, 200)
DELETE_IN_A = by_role(401, 403, 404, 204, 404, 204)


@dataclass
class Route:
    model: type | None  # for checking that a refused write changed nothing
    expected: dict[str, dict[str, int]]  # action -> role -> status
    target: Callable[[Any], Any] | None = None  # detail routes: the object of course A
    create: Callable[[Any], dict] = field(default=lambda w: {})
    update: dict = field(default_factory=dict)


def content(model, target, create, update):
    return {
        "list": Route(model, {"list": SEE_ALL, "create": CREATE_IN_A}, create=create),
        "detail": Route(model, {"retrieve": SEE_COURSE_A, "update": CHANGE_IN_A, "delete": DELETE_IN_A}, target,
                        update=update),
    }


def _unanswered_question(w):
    """A question of course A that no student answered: an answered one cannot be deleted."""
    from tests import factories

    return Question.objects.filter(course=w.course, external_id="unanswered").first() or factories.QuestionFactory(
        course=w.course, external_id="unanswered"
    )


def _routes() -> dict[str, Route]:
    table = {
        "api-course-list": Route(
            Course,
            {"list": SEE_ALL, "create": by_role(401, 403, 403, 403, 403, 201)},
            create=lambda w: {"slug": "new-course", "title": "A new course"},
        ),
        "api-course-detail": Route(
            Course,
            {"retrieve": SEE_COURSE_A, "update": CHANGE_IN_A, "delete": by_role(401, 403, 404, 403, 404, 204)},
            target=lambda w: w.course,
            update={"title": "Renamed course"},
        ),
        "api-enrollment-list": Route(
            Enrollment,
            {"list": SEE_ALL, "create": CREATE_IN_A},
            create=lambda w: {"user": w.newcomer.username, "course": w.course.slug},
        ),
        "api-enrollment-detail": Route(
            Enrollment, {"retrieve": SEE_COURSE_A, "delete": DELETE_IN_A}, target=lambda w: w.enrollment
        ),
        "api-submission-list": Route(
            Submission,
            # The course's students submit; its teacher and an admin outside the course may not.
            {"list": SEE_ALL, "create": by_role(401, 201, 400, 403, 400, 403)},
            create=lambda w: {"question": w.question.pk, "answer": "The water evaporated and left the salt."},
        ),
        "api-submission-detail": Route(Submission, {"retrieve": SEE_COURSE_A}, target=lambda w: w.submission),
        "api-grade-list": Route(Grade, {"list": SEE_ALL}),
        "api-grade-detail": Route(Grade, {"retrieve": SEE_COURSE_A}, target=lambda w: w.grade),
        # Progress (issue 5): a learner's own mastery and next steps; the risk list is for teachers.
        "api-course-mastery": Route(None, {"retrieve": SEE_COURSE_A}, target=lambda w: w.course),
        "api-course-recommendations": Route(None, {"retrieve": SEE_COURSE_A}, target=lambda w: w.course),
        "api-course-risk": Route(None, {"retrieve": by_role(401, 403, 404, 200, 404, 200)}, target=lambda w: w.course),
        "api-course-class-mastery": Route(
            None, {"retrieve": by_role(401, 403, 404, 200, 404, 200)}, target=lambda w: w.course
        ),
        # Each role posts its own credentials; anonymous posts wrong ones.
        "api-auth-token": Route(None, {"create": by_role(400, 200, 200, 200, 200, 200)}),
        "api-root": Route(None, {"list": SEE_ALL}),  # the collections' URLs
    }
    for name, routes in {
        "unit": content(
            Unit, lambda w: w.unit, lambda w: {"course": w.course.slug, "order": 7, "title": "Density"},
            {"title": "Renamed unit"},
        ),
        "skill": content(
            Skill, lambda w: w.skill,
            lambda w: {"course": w.course.slug, "slug": "solutions", "name": "Solutions",
                       "prerequisites": [w.skill.slug]},
            {"name": "Renamed skill"},
        ),
        "question": content(
            Question, _unanswered_question,
            lambda w: {"course": w.course.slug, "prompt": "Why does the salt stay behind?", "unit": w.unit.pk,
                       "reference_answers": ["Salt does not evaporate with the water."],
                       "rubric": [{"description": "Says salt does not evaporate", "points": 1}],
                       "skills": [w.skill.slug]},
            {"prompt": "Reworded prompt"},
        ),
        "resource": content(
            Resource, lambda w: w.resource,
            lambda w: {"course": w.course.slug, "title": "Solutions", "body": "A solution is a mixture."},
            {"title": "Renamed resource"},
        ),
    }.items():
        table[f"api-{name}-list"] = routes["list"]
        table[f"api-{name}-detail"] = routes["detail"]
    table.update(_chat_routes())
    table.update(_review_routes())
    table.update(_registry_routes())
    return table


def _conversation(w):
    """Student A's tutoring conversation in course A (made on first use)."""
    from tests import factories

    return factories.ConversationFactory(student=w.users["student"], course=w.course)


def _flagged(w):
    from tests import factories

    return FlaggedQuestion.objects.filter(course=w.course).first() or factories.FlaggedQuestionFactory(
        message=factories.MessageFactory(conversation=_conversation(w))
    )


def _chat_routes() -> dict[str, Route]:
    return {
        "api-conversation-list": Route(Conversation, {"list": SEE_ALL}),
        "api-conversation-detail": Route(Conversation, {"retrieve": SEE_COURSE_A}, target=_conversation),
        "api-conversation-messages": Route(Message, {"list": SEE_COURSE_A}, target=_conversation),
        "api-flagged-question-list": Route(FlaggedQuestion, {"list": SEE_ALL}),
        "api-flagged-question-detail": Route(FlaggedQuestion, {"retrieve": SEE_COURSE_A}, target=_flagged),
        # The course's teachers (and admins) answer; the student who asked sees it but may not answer.
        "api-flagged-question-answer": Route(
            Message,
            {"create": by_role(401, 403, 404, 201, 404, 201)},
            target=_flagged,
            create=lambda w: {"answer": "Yes, the final exam is open book."},
        ),
    }


def _course_a_grader_version(w):
    """Course A's own grader version (made on first use)."""
    from student_model.models import GraderVersion
    from tests import factories

    return GraderVersion.objects.filter(course=w.course).first() or factories.GraderVersionFactory(course=w.course)


def _course_a_training_run(w):
    from student_model.models import TrainingRun
    from tests import factories

    return TrainingRun.objects.filter(course=w.course).first() or factories.TrainingRunFactory(
        course=w.course, status="succeeded"
    )


def _retrain_course_a(w) -> dict:
    """An active global grader to fine-tune from, and the request body."""
    from student_model.models import GraderVersion
    from tests import factories

    if not GraderVersion.objects.filter(is_active=True, course__isnull=True).exists():
        factories.GraderVersionFactory(is_active=True)
    return {"course": w.course.slug}


def _course_a_on_its_own_version(w) -> dict:
    """Course A graded by a version of its own, trained from the active global one; the request body."""
    from student_model.models import GraderVersion
    from tests import factories

    base = GraderVersion.objects.filter(is_active=True, course__isnull=True).first() or \
        factories.GraderVersionFactory(is_active=True)
    if not GraderVersion.objects.filter(course=w.course, is_active=True).exists():
        factories.GraderVersionFactory(course=w.course, base=base, is_active=True)
    return {"course": w.course.slug}


def _regrade_course_a(w) -> dict:
    """An active grader and a model-graded answer of course A to regrade; the request body."""
    from student_model.models import Grade
    from tests import factories

    body = _retrain_course_a(w)
    if not Grade.objects.filter(submission__question__course=w.course, source="model").exists():
        factories.GradeFactory(submission=factories.SubmissionFactory(question=w.question, status="graded"),
                               source="model", model_version="old-grader")
    return body


def _course_a_regrade(w):
    from student_model.models import RegradeRun

    return RegradeRun.objects.filter(course=w.course).first() or RegradeRun.objects.create(
        course=w.course, status="succeeded"
    )


def _registry_routes() -> dict[str, Route]:
    from student_model.models import GraderVersion, RegradeRun, TrainingRun

    # Versions and runs are for the course's teachers and admins; students see none (404).
    managers_only = by_role(401, 404, 404, 200, 404, 200)
    return {
        "api-grader-version-list": Route(GraderVersion, {"list": SEE_ALL}),
        "api-grader-version-detail": Route(GraderVersion, {"retrieve": managers_only}, target=_course_a_grader_version),
        # Student A sees course A but may not retrain it (403); B's people cannot name it (400).
        "api-training-run-list": Route(
            TrainingRun, {"list": SEE_ALL, "create": by_role(401, 403, 400, 201, 400, 201)}, create=_retrain_course_a
        ),
        "api-training-run-detail": Route(TrainingRun, {"retrieve": managers_only}, target=_course_a_training_run),
        # Regrading is for the course's teachers and admins, like retraining, and needs an active grader.
        "api-regrade-list": Route(
            RegradeRun, {"list": SEE_ALL, "create": by_role(401, 403, 400, 201, 400, 201)}, create=_regrade_course_a
        ),
        "api-regrade-detail": Route(RegradeRun, {"retrieve": managers_only}, target=_course_a_regrade),
        # Promoting is for admins: the course's teacher sees the version but may not promote it (403). The
        # admin passes and gets the service's 400, as this world's versions have no files (test_registry_api
        # promotes a real one).
        "api-grader-version-promote": Route(
            None, {"create": by_role(401, 404, 404, 403, 404, 400)}, target=_course_a_grader_version
        ),
        # Rolling back is for the course's teachers and admins; B's people cannot name course A (400).
        "api-grader-version-rollback": Route(
            None, {"create": by_role(401, 403, 400, 200, 400, 200)}, create=_course_a_on_its_own_version
        ),
    }


def _release_policy(w):
    """Course A's saved release policy (made on first use)."""
    from student_model.models import ReleasePolicy

    return ReleasePolicy.objects.get_or_create(course=w.course)[0]


def _held_answer(w):
    """An answer of course A whose model grade waits for review (made on first use)."""
    from student_model import review_services
    from tests import factories

    held = Submission.objects.filter(question=w.question, status=Submission.Status.NEEDS_REVIEW).first()
    if held is None:
        held = factories.SubmissionFactory(student=w.users["student"], question=w.question)
        review_services.record_model_grade(submission=held, score=1.0, verdict="correct", confidence=0.1,
                                           feedback="Held.", model_version="test-grader")
        held.refresh_from_db()
    return held


def _review_routes() -> dict[str, Route]:
    from student_model.models import ReleasePolicy

    # Reviewing is for the course's teachers and admins: the student sees the answer but may not review it (403).
    review_one = by_role(401, 403, 404, 201, 404, 201)
    teachers_list = by_role(401, 403, 403, 200, 200, 200)
    return {
        "api-review-list": Route(Submission, {"list": teachers_list}),
        "api-review-detail": Route(
            Submission, {"retrieve": by_role(401, 403, 404, 200, 404, 200)}, target=lambda w: w.submission
        ),
        "api-review-accept": Route(Grade, {"create": review_one}, target=_held_answer),
        "api-review-override": Route(
            Grade, {"create": review_one}, target=lambda w: w.submission,
            create=lambda w: {"score": 0.5, "verdict": "partially_correct", "feedback": "Half of it."},
        ),
        "api-review-release": Route(None, {"create": by_role(401, 403, 404, 200, 404, 200)}, target=_held_answer),
        # Without ?question= every reviewer passes the permission check and gets a 400.
        "api-review-answer-groups": Route(Submission, {"list": by_role(401, 403, 403, 400, 400, 400)}),
        "api-review-bulk-grade": Route(
            Grade, {"create": CREATE_IN_A},
            create=lambda w: {"submissions": [w.submission.pk], "score": 0.0, "verdict": "incorrect"},
        ),
        "api-release-policy-list": Route(
            ReleasePolicy, {"list": teachers_list, "create": CREATE_IN_A},
            create=lambda w: {"course": w.course.slug, "confidence_threshold": 0.9},
        ),
        "api-release-policy-detail": Route(
            ReleasePolicy,
            {"retrieve": by_role(401, 404, 404, 200, 404, 200), "update": by_role(401, 404, 404, 200, 404, 200)},
            target=_release_policy, update={"confidence_threshold": 0.9},
        ),
    }


ROUTES = _routes()


def api_routes() -> dict[str, URLPattern]:
    """Every named URL pattern under /api/v1/, from the resolver."""

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            else:
                yield route, pattern

    found = {}
    for route, pattern in walk(get_resolver().url_patterns, ""):
        if route.startswith("api/v1/"):
            assert pattern.name, f"API route {route} has no name"
            assert pattern.name not in found, f"two API routes are named {pattern.name}"
            found[pattern.name] = pattern
    return found


def http_methods(pattern: URLPattern) -> set[str]:
    view = pattern.callback
    if hasattr(view, "actions"):  # a viewset route: the methods the router bound
        methods = set(view.actions)
    else:
        methods = {m for m in view.view_class.http_method_names if hasattr(view.view_class, m)}
    return methods - {"options", "head"}


def test_every_api_route_is_in_the_table():
    routes = api_routes()
    assert set(routes) == set(ROUTES), "add the new route (or remove the stale entry) in ROUTES"
    for name, pattern in routes.items():
        expected = {METHODS[action] for action in ROUTES[name].expected}
        assert http_methods(pattern) == expected, f"{name}: methods differ from the table"


CASES = [
    pytest.param(name, action, role, id=f"{name}-{action}-{role}")
    for name, route in ROUTES.items()
    for action, statuses in route.expected.items()
    for role in ROLES
]


def _url(name, route, world):
    if route.target is None:
        return reverse(name)
    obj = route.target(world)
    key = "slug" if isinstance(obj, Course) else "pk"
    return reverse(name, kwargs={key: getattr(obj, key)})


@pytest.mark.django_db
@pytest.mark.parametrize("name, action, role", CASES)
def test_permission_matrix(name, action, role, world, client_for):
    route = ROUTES[name]
    expected = route.expected[action][role]
    client = client_for(role)
    url = _url(name, route, world)
    before_count = route.model.objects.count() if route.model else None
    target = route.target(world) if route.target else None
    before = model_to_dict(target) if target else None

    if name == "api-auth-token":
        user = world.users.get(role)
        credentials = {"username": user.username, "password": PASSWORD} if user else {
            "username": "student-a", "password": "wrong-password"}
        response = client.post(url, credentials, format="json")
    elif action == "create":
        response = client.post(url, route.create(world), format="json")
    elif action == "update":
        response = client.patch(url, route.update, format="json")
    else:
        response = getattr(client, METHODS[action])(url)

    assert response.status_code == expected, (name, action, role, getattr(response, "data", None))

    if action == "create" and route.model:
        assert route.model.objects.count() == before_count + (1 if expected == 201 else 0)
    if action == "update":
        after = model_to_dict(type(target).objects.get(pk=target.pk))
        assert (after != before) == (expected == 200)
    if action == "delete":
        exists = route.model.objects.filter(pk=target.pk).exists()
        assert exists == (expected != 204)

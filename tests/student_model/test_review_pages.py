"""Teacher pages: the review queue and its actions, history, dashboard, CSV export, release policy, answer groups."""

import csv
import io
import threading

import pytest
from django.core.cache import cache
from django.urls import reverse

from student_model import release_preview, review_services
from student_model.models import Grade, GradeEvent, ReleasePolicy, Submission
from tests import factories

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # previews and answer groups are cached by ids, which tests reuse
    yield
    cache.clear()


@pytest.fixture
def question(course):
    return factories.QuestionFactory(course=course, max_points=2.0, prompt="How did you separate the salt?")


def model_graded(question, student, confidence, verdict="correct", score=2.0, answer="Evaporation."):
    submission = factories.SubmissionFactory(question=question, student=student, answer=answer)
    review_services.record_model_grade(
        submission=submission, score=score, verdict=verdict, confidence=confidence,
        feedback=f"Model feedback {confidence}.", model_version="test-grader",
    )
    submission.refresh_from_db()
    return submission


@pytest.fixture
def other_teacher():
    user = factories.UserFactory(username="elsewhere")
    factories.EnrollmentFactory(user=user, role="teacher")
    return user


def test_the_queue_shows_the_least_confident_answers_first(client, teacher, student, question):
    model_graded(question, student, 0.9, answer="Boil it off, salt remains.")
    model_graded(question, student, 0.3, verdict="incorrect", score=0.0, answer="Filter it through paper.")
    client.force_login(teacher)
    page = client.get(reverse("review-queue")).content.decode()
    assert page.index("Filter it through paper.") < page.index("Boil it off, salt remains.")
    assert "Model feedback 0.3." in page and "How did you separate the salt?" in page

    filtered = client.get(reverse("review-queue"), {"verdict": "correct", "confidence_min": 0.5}).content.decode()
    assert "Boil it off" in filtered and "Filter it through paper." not in filtered


def test_the_score_fields_take_any_score_up_to_the_points(client, teacher, student, question):
    # Exploratory QA: step="0.25" made the browser refuse the model's own 0.13 and a teacher's 0.3.
    model_graded(question, student, 0.3, verdict="incorrect", score=0.13, answer="Filter it through paper.")
    client.force_login(teacher)
    for page in (client.get(reverse("review-queue")).content.decode(),
                 client.get(reverse("answer-groups", args=[question.course.slug, question.pk])).content.decode()):
        field = next(tag for tag in page.split("<input")[1:] if 'name="score"' in tag)
        assert 'step="any"' in field and 'min="0"' in field


def test_students_and_other_teachers_cannot_use_the_queue(client, student, question, other_teacher):
    submission = model_graded(question, student, 0.3)
    client.force_login(student)
    assert client.get(reverse("review-queue")).status_code == 403
    assert client.post(reverse("review-accept", args=[submission.pk]), **JSON).status_code == 403  # their own answer
    client.force_login(other_teacher)
    assert "Evaporation." not in client.get(reverse("review-queue")).content.decode()
    assert client.post(reverse("review-accept", args=[submission.pk]), **JSON).status_code == 404
    assert client.post(reverse("review-override", args=[submission.pk]),
                       {"score": 0, "verdict": "incorrect"}, **JSON).status_code == 404
    assert submission.grades.count() == 1


def test_accept_and_override_answer_json_for_the_page_script(client, teacher, student, question):
    first, second = model_graded(question, student, 0.3), model_graded(question, student, 0.4)
    client.force_login(teacher)

    accepted = client.post(reverse("review-accept", args=[first.pk]), **JSON)
    assert accepted.status_code == 200 and accepted.json()["action"] == "accepted"

    refused = client.post(reverse("review-override", args=[second.pk]),
                          {"score": 3, "verdict": "correct", "feedback": "x"}, **JSON)
    assert refused.status_code == 400 and "score" in refused.json()["errors"]

    overridden = client.post(reverse("review-override", args=[second.pk]),
                             {"score": 1, "verdict": "partially_correct", "feedback": "Half right."}, **JSON)
    assert overridden.json()["grade"] == {"score": 1.0, "verdict": "partially_correct", "feedback": "Half right."}
    second.refresh_from_db()
    assert second.status == Submission.Status.GRADED
    assert second.events.last().action == GradeEvent.Action.OVERRIDDEN


def test_without_javascript_the_form_redirects_back(client, teacher, student, question):
    submission = model_graded(question, student, 0.3)
    client.force_login(teacher)
    response = client.post(reverse("review-accept", args=[submission.pk]), {"next": "/review/?verdict=correct"})
    assert response.status_code == 302 and response.url == "/review/?verdict=correct"
    evil = client.post(reverse("review-override", args=[submission.pk]),
                       {"score": 0, "verdict": "incorrect", "next": "https://evil.example/"})
    assert evil.url == reverse("review-queue")


def test_history_is_for_teachers_only(client, teacher, student, question):
    submission = model_graded(question, student, 0.3)
    review_services.override_grade(actor=teacher, submission=submission, score=0, verdict="incorrect", feedback="No.")
    client.force_login(teacher)
    page = client.get(reverse("review-history", args=[submission.pk])).content.decode()
    assert "Held for review" in page and "Overridden by a teacher" in page and "teach" in page
    client.force_login(student)
    assert client.get(reverse("review-history", args=[submission.pk])).status_code == 403
    # The student's page shows the released grade and feedback, never the trail.
    question_page = client.get(reverse("question-detail", args=[question.course.slug, question.pk])).content.decode()
    assert "No." in question_page and "Overridden" not in question_page and "Model feedback" not in question_page


def test_dashboard_counts_and_agreement(client, teacher, student, question, other_teacher):
    held = model_graded(question, student, 0.3)
    model_graded(question, student, 0.95)
    accepted = model_graded(question, student, 0.5)
    factories.GradeFactory(submission=factories.SubmissionFactory(question=question, status="graded"))
    review_services.accept_grade(actor=teacher, submission=accepted)
    review_services.override_grade(actor=teacher, submission=held, score=0, verdict="incorrect")

    client.force_login(teacher)
    response = client.get(reverse("course-dashboard", args=[question.course.slug]))
    status = response.context["status"]
    assert (status["teacher_graded"], status["released"], status["awaiting_review"]) == (3, 1, 0)
    (week,) = response.context["weeks"]
    assert (week["accepted"], week["overridden"], week["agreement"]) == (1, 1, 0.5)
    assert "How did you separate the salt?" in response.content.decode()

    client.force_login(student)
    assert client.get(reverse("course-dashboard", args=[question.course.slug])).status_code == 403
    client.force_login(other_teacher)
    assert client.get(reverse("course-dashboard", args=[question.course.slug])).status_code == 404


def test_grades_export_as_csv_with_the_current_grade(client, teacher, student, question):
    submission = model_graded(question, student, 0.3)
    review_services.override_grade(actor=teacher, submission=submission, score=1.5, verdict="correct", feedback="Good, näive.")
    client.force_login(teacher)
    response = client.get(reverse("course-grades-csv", args=[question.course.slug]))
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["score"] == "1.5" and rows[0]["source"] == "teacher" and rows[0]["graded_by"] == "teach"
    assert rows[0]["feedback"] == "Good, näive." and rows[0]["student"] == "stu"
    client.force_login(student)
    assert client.get(reverse("course-grades-csv", args=[question.course.slug])).status_code == 403


def test_saving_the_release_policy(client, teacher, course, student):
    client.force_login(teacher)
    response = client.post(reverse("release-policy", args=[course.slug]),
                           {"auto_release": "on", "confidence_threshold": "0.85"})
    assert response.status_code == 302
    policy = ReleasePolicy.objects.get(course=course)
    assert policy.confidence_threshold == 0.85 and policy.updated_by == teacher
    bad = client.post(reverse("release-policy", args=[course.slug]), {"confidence_threshold": "1.5"})
    assert bad.status_code == 200 and ReleasePolicy.objects.get(course=course).confidence_threshold == 0.85
    client.force_login(student)
    assert client.post(reverse("release-policy", args=[course.slug]), {"confidence_threshold": "0"}).status_code == 403


def test_with_a_worker_the_preview_is_queued_once_and_the_page_says_so(
    client, teacher, course, tmp_path, monkeypatch, settings
):
    from student_model import ml_registry, tasks

    settings.RELEASE_PREVIEW_THREAD = False
    (tmp_path / "config.json").write_text("{}")
    ml_registry.register_version(version="on-disk", path=tmp_path, activate=True)
    queued = []
    monkeypatch.setattr(tasks.compute_release_preview, "delay", queued.append)
    client.force_login(teacher)
    for _ in range(2):
        response = client.get(reverse("release-policy", args=[course.slug]))
        assert response.context["preview"]["pending"] and "Reload" in response.content.decode()
    assert queued == [course.pk]


@pytest.mark.django_db(transaction=True)  # the thread's own connection sees the committed rows
def test_in_embedded_mode_the_page_returns_at_once_and_a_thread_computes_the_preview(
    client, teacher, course, tmp_path, monkeypatch, settings
):
    from student_model import ml_registry

    settings.RELEASE_PREVIEW_THREAD = True
    (tmp_path / "config.json").write_text("{}")
    ml_registry.register_version(version="on-disk", path=tmp_path, activate=True)
    go, done, computed = threading.Event(), threading.Event(), []

    def slow_compute(*, course, limit=release_preview.SAMPLE_SIZE):
        assert go.wait(30)
        computed.append(course.pk)
        done.set()
        return 0

    monkeypatch.setattr(release_preview, "compute_predictions", slow_compute)
    client.force_login(teacher)
    response = client.get(reverse("release-policy", args=[course.slug]))
    assert response.status_code == 200 and response.context["preview"]["pending"]
    assert "Reload" in response.content.decode()
    assert computed == []  # the request did not wait for the computation
    client.get(reverse("release-policy", args=[course.slug]))  # claimed: not started twice
    go.set()
    assert done.wait(30)
    for thread in threading.enumerate():
        if thread.name.startswith("release-preview-"):
            thread.join(30)
    assert computed == [course.pk]


def test_a_failed_preview_computation_can_be_queued_again(course, tmp_path, monkeypatch, settings):
    from student_model import ml_registry, tasks

    settings.RELEASE_PREVIEW_THREAD = False
    (tmp_path / "config.json").write_text("{}")
    ml_registry.register_version(version="on-disk", path=tmp_path, activate=True)

    def broken(*args):
        raise RuntimeError("the model files are unreadable")

    monkeypatch.setattr(release_preview, "_predict", broken)
    monkeypatch.setattr(tasks.compute_release_preview, "delay", lambda pk: tasks.compute_release_preview(pk))
    with pytest.raises(RuntimeError):
        release_preview.queue_computation(course=course)
    queued = []
    monkeypatch.setattr(tasks.compute_release_preview, "delay", queued.append)
    release_preview.queue_computation(course=course)
    assert queued == [course.pk]

    def refused(pk):
        raise ConnectionError("no broker")

    cache.clear()
    monkeypatch.setattr(tasks.compute_release_preview, "delay", refused)
    with pytest.raises(ConnectionError):
        release_preview.queue_computation(course=course)
    assert release_preview.claim_computation(course=course)  # the claim was given back


@pytest.mark.slow
def test_release_preview_predicts_once_and_shows_the_curve(client, teacher, course, grader, monkeypatch, settings):
    from student_model import ml_registry

    settings.RELEASE_PREVIEW_THREAD = False
    ml_registry.register_version(version="test-grader", path=grader.path, activate=True)
    question = factories.QuestionFactory(course=course, prompt="How did you separate the salt from the water?",
                                         reference="The water was evaporated, leaving the salt.")
    for answer, verdict in [("Evaporate the water, the salt stays.", "correct"), ("With a magnet.", "incorrect"),
                            ("Filter it.", "incorrect"), ("Let the water evaporate.", "correct")]:
        factories.GradeFactory(submission=factories.SubmissionFactory(question=question, answer=answer, status="graded"),
                               verdict=verdict, score=1.0 if verdict == "correct" else 0.0)
    calls = []
    real = release_preview._predict
    monkeypatch.setattr(release_preview, "_predict", lambda *a: calls.append(a) or real(*a))
    from student_model import tasks

    # The task runs in the request, as with eager Celery (also when a broker is configured for the suite).
    monkeypatch.setattr(tasks.compute_release_preview, "delay", lambda pk: tasks.compute_release_preview(pk))

    client.force_login(teacher)
    first = client.get(reverse("release-policy", args=[course.slug]))
    second = client.get(reverse("release-policy", args=[course.slug]), {"threshold": "0"})
    assert len(calls) == 1  # cached: moving the threshold does not re-run the model
    chosen = second.context["preview"]["chosen"]
    assert chosen.threshold == 0.0 and chosen.released == chosen.total == 4
    assert 0 <= chosen.agreeing <= 4
    assert first.context["preview"]["sample"] == 4 and "<polyline" in first.content.decode()


@pytest.mark.slow
def test_answer_groups_page_grades_a_group(client, teacher, student, question):
    same = [model_graded(question, student, 0.4, answer=a) for a in (
        "The water evaporates and the salt is left behind.", "Evaporate the water; the salt stays behind.")]
    odd = model_graded(question, student, 0.4, answer="Use a magnet to pull out the iron filings.")
    client.force_login(teacher)
    response = client.get(reverse("answer-groups", args=[question.course.slug, question.pk]))
    groups = [row["group"] for row in response.context["groups"]]
    assert {s.pk for s in groups[0].submissions} == {s.pk for s in same}
    assert [s.pk for s in groups[1].submissions] == [odd.pk]

    response = client.post(reverse("answer-groups", args=[question.course.slug, question.pk]), {
        "group": 1, "submissions": [s.pk for s in same], "score": 2, "verdict": "correct", "feedback": "Yes.",
    })
    assert response.status_code == 302
    for s in same:
        grade = s.grades.order_by("-id").first()
        assert (grade.source, grade.verdict, grade.feedback) == (Grade.Source.TEACHER, "correct", "Yes.")
    assert odd.grades.count() == 1


def test_the_release_preview_follows_the_courses_new_teacher_grades(client, teacher, course, tmp_path, monkeypatch,
                                                                   settings):
    # Exploratory QA: a new course's preview stayed at "1 teacher-graded answers" while its teachers graded more.
    from student_model import ml_registry, tasks
    from tutor.ml.release_curve import GradedPrediction

    settings.RELEASE_PREVIEW_THREAD = False
    (tmp_path / "config.json").write_text("{}")
    ml_registry.register_version(version="on-disk", path=tmp_path, activate=True)
    monkeypatch.setattr(release_preview, "_predict", lambda path, course, limit: [
        GradedPrediction(confidence=0.9, model_verdict="correct", teacher_verdict=s.grade_verdict)
        for s in release_preview.teacher_graded_sample(course=course, limit=limit)])
    computed = []
    monkeypatch.setattr(tasks.compute_release_preview, "delay",
                        lambda pk: computed.append(pk) or tasks.compute_release_preview(pk))
    question = factories.QuestionFactory(course=course)

    def teacher_graded(answer):
        factories.GradeFactory(submission=factories.SubmissionFactory(question=question, answer=answer,
                                                                       status="graded"),
                               source="teacher", graded_by=teacher, verdict="correct", score=1.0)

    teacher_graded("The first one.")
    client.force_login(teacher)
    page = client.get(reverse("release-policy", args=[course.slug]))
    assert page.context["preview"]["sample"] == 1 and "1 teacher-graded answer of" in page.content.decode()
    assert client.get(reverse("release-policy", args=[course.slug])).context["preview"]["sample"] == 1
    assert computed == [course.pk]  # cached

    teacher_graded("The second one.")
    page = client.get(reverse("release-policy", args=[course.slug]))
    assert computed == [course.pk, course.pk]  # the new sample was graded (inline here, as eager Celery does)
    assert page.context["preview"]["sample"] == 2 and not page.context["preview"]["refreshing"]
    assert "2 teacher-graded answers of" in page.content.decode()
    # A teacher's new grade on an answer a teacher graded already changes the sample too.
    factories.GradeFactory(submission=Submission.objects.filter(question=question).first(), source="teacher",
                           graded_by=teacher, verdict="incorrect", score=0.0)
    page = client.get(reverse("release-policy", args=[course.slug]))
    assert len(computed) == 3 and page.context["preview"]["sample"] == 2
    assert sorted(p.teacher_verdict for p in release_preview.cached_predictions(course=course).predictions) == [
        "correct", "incorrect"]
    # While a worker grades the next sample, the page keeps the figures it has and says they are being updated.
    queued = []
    monkeypatch.setattr(tasks.compute_release_preview, "delay", queued.append)
    teacher_graded("The third one.")
    page = client.get(reverse("release-policy", args=[course.slug]))
    assert queued == [course.pk]
    assert page.context["preview"]["sample"] == 2 and page.context["preview"]["refreshing"]
    assert "the grader is grading the new sample" in page.content.decode()


def test_past_the_sample_size_the_preview_is_refreshed_every_hundred_teacher_grades():
    size = release_preview.SAMPLE_SIZE

    def generation(n, newest=7):
        return release_preview.sample_generation(teacher_graded=n, newest_teacher_grade=newest)

    assert len({generation(0), generation(1), generation(size - 1), generation(1, newest=8)}) == 4
    assert generation(size) == generation(size + 99) == generation(size + 99, newest=9) != generation(size + 100)


def test_a_long_answer_scrolls_inside_its_box_reachable_by_keyboard(client, teacher, student, question, settings):
    # Exploratory QA: a 4,949-character answer made the review page about 10,800 px tall.
    model_graded(question, student, 0.4, answer="The salt stays behind. " * 220)
    model_graded(question, student, 0.4, answer="Evaporate the water.")
    client.force_login(teacher)
    page = client.get(reverse("review-queue")).content.decode()
    assert page.count('tabindex="0">The salt stays behind.') == 1 and 'tabindex="0">Evaporate' not in page
    css = (settings.BASE_DIR / "static" / "css" / "tutor.css").read_text()
    rule = next(line for line in css.splitlines() if line.startswith(".sublist__answer {"))
    assert "max-height" in rule and "overflow-y: auto" in rule


def test_with_automatic_release_off_the_preview_says_its_figures_are_hypothetical(client, teacher, course, tmp_path,
                                                                                 monkeypatch, settings):
    # Exploratory QA: "would release 100% of answers" while automatic release was switched off.
    from student_model import ml_registry
    from tutor.ml.release_curve import GradedPrediction

    settings.RELEASE_PREVIEW_THREAD = False
    (tmp_path / "config.json").write_text("{}")
    ml_registry.register_version(version="on-disk", path=tmp_path, activate=True)
    monkeypatch.setattr(release_preview, "cached_predictions", lambda **kw: release_preview.CachedPredictions(
        "on-disk", [GradedPrediction(confidence=0.9, model_verdict="correct", teacher_verdict="correct")], True))
    client.force_login(teacher)
    assert "data-auto-release-off" not in client.get(reverse("release-policy", args=[course.slug])).content.decode()
    ReleasePolicy.objects.update_or_create(course=course, defaults={"auto_release": False})
    page = client.get(reverse("release-policy", args=[course.slug])).content.decode()
    assert "Automatic release is off: every model grade waits for a teacher" in page

import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from pedagogy.retrieval import course_qa_engine
from tests import factories
from tests.ml.retrieval.book import SHELL, book_documents

pytestmark = pytest.mark.django_db


def _resource(course, doc):
    return factories.ResourceFactory(course=course, external_id=doc.external_id, title=doc.title, body=doc.markdown)


def test_the_engine_is_kept_per_process_and_rebuilt_when_resources_change(course, qa_model_dir):
    shell, lists = book_documents(SHELL, "m00024")
    _resource(course, lists)
    engine = course_qa_engine(course=course)
    assert course_qa_engine(course=course) is engine  # nothing changed: same engine
    assert engine.answer("What does REPL stand for?").cited_ids == ["m00024"]

    added = _resource(course, shell)
    rebuilt = course_qa_engine(course=course)
    assert rebuilt is not engine
    answer = rebuilt.answer("What does REPL stand for?")
    assert answer.citations[0].external_id == SHELL
    assert answer.citations[0].resource_id == added.pk

    added.body = added.body.replace("REPL", "RPL")
    added.save()
    edited = course_qa_engine(course=course)
    assert edited is not rebuilt
    assert "RPL stands for" in " ".join(s for p in edited.index.passages for s in p.sentences)
    assert (qa_model_dir / "qa" / "vectors.npz").exists()  # vectors kept for the next process

    added.delete()
    assert {p.external_id for p in course_qa_engine(course=course).index.passages} == {"m00024"}


def test_a_course_import_that_changes_a_reading_rebuilds_the_engine(course, qa_model_dir):
    """``course_io`` updates resources in bulk, which skips ``auto_now``: it must stamp them itself."""
    from domain import course_io

    shell, lists = book_documents(SHELL, "m00024")
    _resource(course, shell)
    engine = course_qa_engine(course=course)
    document = course_io.export_course(course=course)
    document["resources"][0]["body"] = document["resources"][0]["body"].replace("REPL", "RPL")
    course_io.import_course(document=document)
    rebuilt = course_qa_engine(course=course)
    assert rebuilt is not engine
    assert "RPL stands for" in " ".join(s for p in rebuilt.index.passages for s in p.sentences)


def test_build_qa_index_installs_the_shipped_reranker_and_the_engine_uses_it(qa_model_dir, capsys):
    from pedagogy.management.commands.build_qa_index import SHIPPED_RERANKERS
    from tutor.ml.retrieval.cross_encoder import CrossEncoderReranker

    if not (SHIPPED_RERANKERS / "intro-python" / "head.pt").exists():
        pytest.fail(f"the shipped re-ranker is missing from {SHIPPED_RERANKERS}")
    course = factories.CourseFactory(slug="intro-python")
    for doc in book_documents(SHELL, "m00024", "m00028"):
        _resource(course, doc)
    call_command("build_qa_index", "--course", "intro-python")
    assert "with its trained re-ranker" in capsys.readouterr().out
    assert (qa_model_dir / "qa" / "reranker" / "intro-python" / "head.pt").exists()
    engine = course_qa_engine(course=course)
    assert any(isinstance(r, CrossEncoderReranker) for r in engine.reranker.rerankers)
    assert engine.answer("What does REPL stand for?").cited_ids[0] == SHELL


def test_other_courses_do_not_leak_into_the_index(course, qa_model_dir):
    shell, lists = book_documents(SHELL, "m00024")
    _resource(course, lists)
    _resource(factories.CourseFactory(), shell)
    assert {p.external_id for p in course_qa_engine(course=course).index.passages} == {"m00024"}


def test_evaluate_qa_prints_the_figures_as_json(course, qa_model_dir, tmp_path, capsys):
    for doc in book_documents(SHELL, "m00024"):
        _resource(course, doc)
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {"q": "What does REPL stand for?", "gold": [SHELL]},
                {"q": "how do i make a list", "gold": ["m00024"]},
                {"q": "what is the python shell", "gold": [SHELL]},
            ]
        )
    )
    call_command("evaluate_qa", "--course", course.slug, "--questions", str(questions), "--json")
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"n", "hit_at_1", "hit_at_3", "mrr", "p50_ms", "p95_ms"}
    assert result["n"] == 3
    assert result["hit_at_1"] == 1.0 and result["mrr"] == 1.0
    assert result["p95_ms"] >= result["p50_ms"] > 0


def test_evaluate_qa_refuses_an_unknown_course(tmp_path, qa_model_dir):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"q": "x", "gold": ["m1"]}))
    with pytest.raises(CommandError, match="No course"):
        call_command("evaluate_qa", "--course", "nope", "--questions", str(questions), "--json")


def test_evaluate_qa_reports_questions_without_gold_as_the_unsure_rate(course, qa_model_dir, tmp_path, capsys):
    for doc in book_documents(SHELL, "m00024"):
        _resource(course, doc)
    questions = tmp_path / "q.jsonl"
    rows = [
        {"q": "What does REPL stand for?", "gold": [SHELL]},
        {"q": "who won the world cup in 2018"},  # the readings do not answer it: the tutor should say so
        {"q": "how do i bake bread"},
    ]
    questions.write_text("\n".join(json.dumps(row) for row in rows))
    call_command("evaluate_qa", "--course", course.slug, "--questions", str(questions), "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 1 and result["hit_at_1"] == 1.0
    assert result["n_without_gold"] == 2 and result["unsure_rate_without_gold"] == 1.0


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json", "line 2 is not JSON"),
        ('{"question": "x"}', "line 2 has no question"),
        ('{"q": "x", "gold": "m00011"}', 'line 2: "gold" must be a list'),
    ],
)
def test_evaluate_qa_names_the_line_of_a_malformed_question(course, qa_model_dir, tmp_path, line, message):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"q": "What does REPL stand for?", "gold": [SHELL]}) + "\n" + line + "\n")
    with pytest.raises(CommandError, match=message):
        call_command("evaluate_qa", "--course", course.slug, "--questions", str(questions), "--json")


def test_a_damaged_reranker_is_logged_and_the_tutor_answers_without_it(course, qa_model_dir, caplog):
    from pedagogy.management.commands.build_qa_index import SHIPPED_RERANKERS
    from pedagogy.retrieval import reranker_dir

    target = reranker_dir(course=course)
    shutil.copytree(SHIPPED_RERANKERS / "intro-python", target)
    (target / "adapter_model.safetensors").write_bytes(b"not a safetensors file")
    for doc in book_documents(SHELL, "m00024"):
        _resource(course, doc)
    engine = course_qa_engine(course=course)
    assert engine.answer("What does REPL stand for?").cited_ids[0] == SHELL
    assert "cannot be loaded" in caplog.text

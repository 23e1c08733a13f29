import gzip
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from domain.models import Course, Question

from .documents import sample_document

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_course_prints_what_it_did(tmp_path):
    path = tmp_path / "intro-python.json"
    path.write_text(json.dumps(sample_document()))
    out, _ = run("import_course", str(path))
    assert "Created course 'intro-python'" in out
    assert "questions: 3 created, 0 updated, 0 unchanged" in out

    out, _ = run("import_course", str(path))
    assert "Updated course 'intro-python'" in out
    assert "questions: 0 created, 0 updated, 3 unchanged" in out
    assert Question.objects.count() == 3


def test_import_course_lists_every_problem_and_fails(tmp_path):
    doc = sample_document()
    doc["questions"][0]["reference_answers"] = []
    doc["resources"][2]["kind"] = "podcast"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CommandError) as info:
        run("import_course", str(path))
    message = str(info.value)
    assert "(2 problem(s)); nothing was written" in message
    assert "$.questions[0].reference_answers: at least one reference answer is needed" in message
    assert "$.resources[2].kind" in message
    assert not Course.objects.exists()


def test_import_course_reports_bad_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_course", str(path))


def test_export_course_to_stdout_and_to_a_gzip_file(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(sample_document()))
    run("import_course", str(source))

    out, _ = run("export_course", "intro-python")
    exported = json.loads(out)
    assert exported["course"]["slug"] == "intro-python" and len(exported["questions"]) == 3

    target = tmp_path / "out.json.gz"
    run("export_course", "intro-python", "--output", str(target))
    assert json.loads(gzip.decompress(target.read_bytes())) == exported

    run("import_course", str(target))  # its own export imports cleanly
    assert Question.objects.count() == 3


def test_export_course_unknown_slug():
    with pytest.raises(CommandError, match="No course with slug 'nope'"):
        run("export_course", "nope")

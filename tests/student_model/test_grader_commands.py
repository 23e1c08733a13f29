"""train_grader / evaluate_grader and the registry of grader versions in the database."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from student_model import ml_registry
from student_model.models import GraderVersion
from tests.ml.grader_fixture import SHARED_ASAG
from tutor.ml.grading.score_model import ScoreModel

pytestmark = pytest.mark.django_db

needs_originals = pytest.mark.skipif(
    not SHARED_ASAG.is_dir(), reason="the original datasets (../shared/data/asag) are not on this machine"
)
VERDICT_KEYS = {"n", "macro_f1", "accuracy", "weighted_f1", "per_class"}
SCORE_KEYS = {"pearson", "rmse", "qwk"}


@pytest.fixture
def registered(grader):
    return ml_registry.register_version(version="test-grader", path=grader.path, metrics={"x": 1}, activate=True)


def _evaluate(*args) -> dict:
    out = io.StringIO()
    call_command("evaluate_grader", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_only_one_version_is_active(grader):
    first = ml_registry.register_version(version="v1", path=grader.path, activate=True)
    second = ml_registry.register_version(version="v2", path=grader.path)
    assert ml_registry.active_version() == first
    ml_registry.activate_version(version="v2")
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_active and not first.is_active
    assert ml_registry.active_version() == second
    with pytest.raises(IntegrityError), transaction.atomic():
        GraderVersion.objects.filter(pk=first.pk).update(is_active=True)


def test_register_rejects_a_folder_without_a_model(tmp_path):
    with pytest.raises(ValidationError):
        ml_registry.register_version(version="empty", path=tmp_path)
    with pytest.raises(ValidationError):
        ml_registry.activate_version(version="missing")


def test_evaluate_without_an_active_grader_says_so():
    with pytest.raises(CommandError, match="No grader version is active"):
        _evaluate("--format", "semeval", "--data", "nowhere")


@pytest.mark.slow
@needs_originals
def test_evaluate_grader_on_an_unseen_semeval_file(registered):
    folder = SHARED_ASAG / "semeval2013-3way/testing/beetle/test-unseen-answers"
    path = sorted(folder.glob("*.xml"))[0]
    result = _evaluate("--format", "semeval", "--data", str(path))
    assert VERDICT_KEYS <= result.keys()
    assert result["model"] == "test-grader" and result["n"] == path.read_text().count("<studentAnswer ") == 9
    assert set(result["per_class"]) <= {"correct", "contradictory", "incorrect"}
    assert 0 <= result["macro_f1"] <= 1


@pytest.mark.slow
@needs_originals
def test_evaluate_grader_on_saf_and_mohler_reports_score_metrics(registered, tmp_path):
    saf = _evaluate("--format", "saf", "--data", str(SHARED_ASAG / "saf/unseen_answers/english/10.1_TC.xml"))
    assert (VERDICT_KEYS | SCORE_KEYS) <= saf.keys()
    assert (saf["backend"], saf["int8"]) == ("onnx", True)  # what the product serves by default
    with open(SHARED_ASAG / "mohler-v2.0/mohler_dataset_edited.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    sample = tmp_path / "mohler_part.csv"
    with open(sample, "w", newline="") as handle:
        csv.writer(handle).writerows(rows[:1] + rows[1:31] + rows[-30:])  # two questions' real answers
    mohler = _evaluate("--format", "mohler", "--data", str(sample), "--model", "test-grader", "--backend", "torch")
    assert SCORE_KEYS <= mohler.keys() and mohler["n"] == 60
    assert (mohler["backend"], mohler["int8"]) == ("torch", False)  # PyTorch's int8 is not within half a point
    fp32 = _evaluate("--format", "mohler", "--data", str(sample), "--no-int8")
    assert fp32["int8"] is False and fp32["pearson"] == pytest.approx(mohler["pearson"], abs=1e-3)
    assert "macro_f1" not in mohler  # Mohler has scores, no verdicts


@pytest.mark.slow
@needs_originals
def test_train_grader_registers_and_activates_a_version(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    out = io.StringIO()
    call_command(
        "train_grader", "--datasets", "semeval,mohler", "--data-dir", str(SHARED_ASAG), "--max-steps", "2",
        "--max-train-items", "24", "--batch-size", "4", "--max-length", "48", "--threads", "1",
        "--name", "tiny", "--activate", "--no-progress", stdout=out, stderr=io.StringIO(),
    )
    summary = json.loads(out.getvalue())
    assert summary["version"] == "tiny" and summary["steps"] == 2 and summary["active"]
    version = ml_registry.active_version()
    assert version.version == "tiny" and Path(version.path) == tmp_path / "models" / "grader" / "tiny"
    assert version.training_summary["train"]["datasets"].keys() == {"semeval", "mohler"}
    assert version.metrics["train_steps"] == 2
    score_model = ScoreModel.load(version.path)  # fitted on 24 capped Mohler answers, like the quick run
    assert score_model.report["fitted_on"] == {"answers": 24, "questions": score_model.report["fitted_on"]["questions"],
                                               "datasets": ["mohler"]}
    with pytest.raises(CommandError, match="already exists"):
        call_command("train_grader", "--name", "tiny", "--data-dir", str(SHARED_ASAG), stderr=io.StringIO())

    # a student distilled from that version (as the MiniLM student from a larger teacher)
    out = io.StringIO()
    call_command(
        "train_grader", "--datasets", "semeval", "--data-dir", str(SHARED_ASAG), "--max-steps", "2",
        "--max-train-items", "24", "--batch-size", "4", "--max-length", "48", "--threads", "1",
        "--name", "tiny-student", "--distil-from", "tiny", "--distil-alpha", "0.7", "--no-progress",
        stdout=out, stderr=io.StringIO(),
    )
    student = ml_registry.get_version(version="tiny-student")
    assert student.training_summary["teacher"] == {
        "model_dir": str(tmp_path / "models" / "grader" / "tiny"), "version": "tiny", "alpha": 0.7, "temperature": 2.0,
    }
    with pytest.raises(CommandError, match="No trained grader version 'nobody'"):
        call_command("train_grader", "--name", "x", "--distil-from", "nobody", "--data-dir", str(SHARED_ASAG),
                     stderr=io.StringIO())

    # trained further from that version: its weights, its name in the summary, its unseen validation questions
    further = ["--data-dir", str(SHARED_ASAG), "--max-steps", "1", "--max-train-items", "24", "--batch-size", "4",
               "--max-length", "48", "--threads", "1", "--init-from", "tiny", "--no-progress", "--no-score-model"]
    call_command("train_grader", "--datasets", "semeval,mohler", "--name", "tiny-further", *further,
                 "--student-references", "1", "--truncation", "question_first", "--polarity-flips", "1",
                 "--attention", "prefix", stdout=io.StringIO(), stderr=io.StringIO())
    further_version = ml_registry.get_version(version="tiny-further")
    further_summary = further_version.training_summary
    further_config = json.loads((Path(further_version.path) / "config.json").read_text())
    assert further_config["truncation"] == "question_first" and further_config["attention"] == "prefix"
    assert further_summary["init_from"] == "tiny"
    # besides the official reference, other students' correct answers as references
    assert version.training_summary["pairs"] == version.training_summary["train"]["n"]
    # and correct SemEval answers with a polarity word flipped, as contradictory (polarity.py)
    flips = further_summary["polarity_flip_pairs"]
    assert 0 < flips <= further_summary["train"]["n"]
    assert further_summary["train"]["n"] < further_summary["pairs"] - flips <= 2 * further_summary["train"]["n"]
    assert "polarity_flip_pairs" not in version.training_summary
    with pytest.raises(CommandError, match="validation question.* were trained on by tiny"):
        call_command("train_grader", "--datasets", "semeval", "--name", "tiny-other-split", *further,
                     stderr=io.StringIO())
    with pytest.raises(CommandError, match="student references for data sets not trained on: saf"):
        call_command("train_grader", "--datasets", "semeval,mohler", "--name", "tiny-saf-refs", *further,
                     "--student-references", "1", "--student-reference-datasets", "semeval,saf", stderr=io.StringIO())
    with pytest.raises(CommandError, match="No trained grader version 'nobody'"):
        call_command("train_grader", "--name", "y", "--init-from", "nobody", "--data-dir", str(SHARED_ASAG),
                     stderr=io.StringIO())


@pytest.mark.slow
@needs_originals
def test_evaluate_grader_memory_of_graded_answers_votes_on_the_same_question(registered):
    data = str(SHARED_ASAG / "saf/unseen_answers/english/10.1_TC.xml")
    plain = _evaluate("--format", "saf", "--data", data, "--memory", "none")
    memory = str(SHARED_ASAG / "saf/training/english/10.1_TC.xml")
    voted = _evaluate("--format", "saf", "--data", data, "--memory", memory)
    assert plain["memory"]["graded_answers"] == 0
    assert voted["memory"]["graded_answers"] > 50  # the training answers of question 10.1
    assert voted["n"] == plain["n"]
    assert (voted["pearson"], voted["accuracy"]) != (plain["pearson"], plain["accuracy"])
    unrelated = str(SHARED_ASAG / "saf/training/english/2.1_DLL.xml")
    assert _evaluate("--format", "saf", "--data", data, "--memory", unrelated)["memory"]["graded_answers"] == 0


@pytest.mark.slow
@needs_originals
def test_evaluate_grader_gives_the_same_figures_served_by_onnx_runtime(registered):
    data = str(SHARED_ASAG / "saf/unseen_answers/english/10.1_TC.xml")
    by_torch = _evaluate("--format", "saf", "--data", data, "--memory", "none", "--backend", "torch")
    by_onnx = _evaluate("--format", "saf", "--data", data, "--memory", "none", "--backend", "onnx", "--no-int8")
    assert (by_torch["backend"], by_onnx["backend"]) == ("torch", "onnx")
    for key in ("n", "macro_f1", "accuracy"):
        assert by_onnx[key] == by_torch[key]
    assert by_onnx["pearson"] == pytest.approx(by_torch["pearson"], abs=1e-4)


@pytest.mark.slow
def test_fit_score_model_writes_it_into_the_version_and_reports_validation(grader, tmp_path):
    import shutil

    from tests.ml.grader_fixture import PROJECT_DATA, mohler_sample
    from tutor.ml.data.asag import read_jsonl_gz, write_jsonl_gz

    version_dir = tmp_path / "scored"
    shutil.copytree(grader.path, version_dir)  # the shared test grader stays without a score model
    ml_registry.register_version(version="scored", path=version_dir, activate=True)
    data = tmp_path / "asag"  # small real copies: two SemEval and two SAF questions, 30 Mohler questions
    for name in ("semeval", "saf"):
        rows = [r for r in read_jsonl_gz(PROJECT_DATA / f"{name}.jsonl.gz") if r.split == "train"]
        first = list(dict.fromkeys(r.question_id for r in rows))[:2]
        write_jsonl_gz([r for r in rows if r.question_id in first], data / f"{name}.jsonl.gz")
    write_jsonl_gz(mohler_sample(30), data / "mohler.jsonl.gz")

    out = io.StringIO()
    call_command("fit_score_model", "--data-dir", str(data), stdout=out, stderr=io.StringIO())
    report = json.loads(out.getvalue())
    model = ScoreModel.load(version_dir)
    assert report["version"] == "scored" and model.report == {k: v for k, v in report.items() if k != "version"}
    validation = report["validation_pearson"]["mohler"]  # questions held out of both fits
    assert validation["questions"] >= 1 and -1 <= validation["score_model"] <= 1 and "grader" in validation
    assert report["fitted_on"]["questions"] == 30 - validation["questions"]
    # Verdict bands for new questions, from the SAF answers the regression never saw (here English only).
    assert set(model.bands) == set(report["verdict_bands"]) == {"en"}
    assert report["verdict_bands"]["en"]["answers"] == model.bands["en"].answers >= 30

    # evaluate_grader serves it: the answers to the validation questions are the ones it scores.
    evaluated = _evaluate("--format", "mohler", "--data", str(data / "mohler.jsonl.gz"), "--memory", "none")
    assert evaluated["score_model"] == {"present": True, "answers_scored": validation["answers"],
                                        "answers_banded": validation["answers"], "answers_stacked": 0,
                                        "band_languages": ["en"]}
    # SemEval's 3-way labels have no partial credit, and a verdict stack needs three validation questions
    # (here there are at most two): its answers to new questions keep the grader's verdict.
    assert report["verdict_stacks"] == {} and model.stacks == {}
    semeval = _evaluate("--format", "semeval", "--data", str(data / "semeval.jsonl.gz"), "--memory", "none")
    assert semeval["n"] > 0 and semeval["score_model"]["answers_banded"] == semeval["score_model"]["answers_stacked"] == 0

    with pytest.raises(CommandError, match="no semeval data under"):
        call_command("fit_score_model", "--data-dir", str(tmp_path / "empty"), stderr=io.StringIO())


@pytest.mark.slow
@needs_originals
def test_evaluate_grader_on_a_course_adapter_with_the_training_memory(grader, tmp_path):
    from tutor.ml.grading.adapters import AdapterConfig, train_adapter

    course = train_adapter(grader.path, grader.val_items[:16], tmp_path / "course-lora",
                           AdapterConfig(max_steps=4, batch_size=8, num_threads=1, seed=5)).output_dir
    data = str(SHARED_ASAG / "semeval2013-3way/testing/beetle/test-unseen-answers")
    result = _evaluate("--format", "semeval", "--data", data, "--model-dir", str(course))
    assert result["model"] == "course-lora" and result["memory"]["source"] == "training"
    assert result["n"] == 439 and 0 <= result["macro_f1"] <= 1

"""prepare_models: the shipped grader (split into parts) is installed, registered and activated."""

import io
import json

import pytest
from django.core.management import call_command

from student_model import ml_registry
from student_model.models import GraderVersion
from tests.ml.grader_fixture import fitted_score_model
from tutor.ml import weights_transfer
from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.onnx_backend import QUANTIZED_FILE
from tutor.ml.grading.predictor import get_predictor
from tutor.ml.grading.score_model import SCORE_MODEL_FILE

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _items(question, references, answers):
    return [
        GradedAnswer(dataset="", subset="", split="", question_id="q", question=question,
                     reference_answers=tuple(references), answer_id=str(i), answer=a)
        for i, a in enumerate(answers)
    ]


@pytest.fixture
def shipped(grader, tmp_path, settings):
    """The test grader packaged as the product ships it (ship_grader: fp16 weights in parts)."""
    settings.SHIPPED_MODEL_DIR = tmp_path / "shipped"
    ml_registry.register_version(version="grader-shipped", path=grader.path)
    call_command("ship_grader", "grader-shipped", stdout=io.StringIO())
    GraderVersion.objects.all().delete()  # a fresh installation knows nothing of it
    settings.MODEL_DIR = tmp_path / "models"
    return settings.SHIPPED_MODEL_DIR / "grader" / "grader-shipped"


def test_the_shipped_grader_is_installed_and_activated(grader, shipped, settings, monkeypatch):
    monkeypatch.setattr("student_model.tasks.grade_submission.delay", lambda _id: None)
    settings.GRADER_BACKEND, settings.GRADER_INT8 = "onnx", True
    out = io.StringIO()
    call_command("prepare_models", stdout=out)

    active = ml_registry.active_version()
    assert active.version == "grader-shipped"
    installed = settings.MODEL_DIR / "grader" / "grader-shipped"
    parts = sorted(shipped.glob("model.safetensors*"))
    assert [p.name for p in parts[:2]] == ["model.safetensors.part-00", "model.safetensors.part-01"]
    assert all(p.stat().st_size <= weights_transfer.PART_BYTES for p in parts)
    assert not (shipped / "checkpoint.pt").exists()
    assert not list(shipped.glob("*.onnx"))  # an export is rebuilt where the grader serves, never shipped
    assert (installed / "grader.onnx").exists()  # exported by prepare_models, not by the first answer graded
    assert (installed / QUANTIZED_FILE).exists()  # and quantised, as int8 is served
    question = "How did you separate the salt from the water?"
    references = ["The water was evaporated, leaving the salt."]
    answers = ["The water evaporated.", "I shook the vial."]
    original = get_predictor(grader.path).predict(_items(question, references, answers))
    restored = get_predictor(installed).predict(_items(question, references, answers))
    for a, b in zip(original, restored):
        assert a.verdict == b.verdict and abs(a.confidence - b.confidence) < 0.01  # fp16 rounding only
    assert "Active grader: grader-shipped" in out.getvalue()

    call_command("prepare_models", stdout=io.StringIO())  # idempotent
    assert GraderVersion.objects.count() == 1

    # An upgrade that changes only a shipped version's serving settings reaches the installed copy.
    config = json.loads((shipped / "config.json").read_text())
    config["predict_references"] = "mean"
    (shipped / "config.json").write_text(json.dumps(config))
    call_command("prepare_models", stdout=io.StringIO())
    assert json.loads((installed / "config.json").read_text())["predict_references"] == "mean"
    # ... and so does a score model for new questions added to it.
    fitted_score_model().save(shipped)
    call_command("prepare_models", stdout=io.StringIO())
    assert (installed / SCORE_MODEL_FILE).read_bytes() == (shipped / SCORE_MODEL_FILE).read_bytes()


def test_an_upgrade_activates_the_newer_shipped_grader(grader, shipped, settings, monkeypatch):
    monkeypatch.setattr("student_model.tasks.grade_submission.delay", lambda _id: None)
    old = ml_registry.register_version(version="grader-older", path=grader.path, activate=True,
                                       notes=ml_registry.SHIPPED_NOTE)

    call_command("prepare_models", stdout=io.StringIO())

    assert ml_registry.active_version().version == "grader-shipped"
    old.refresh_from_db()
    assert not old.is_active


def test_a_grader_chosen_by_an_admin_is_never_replaced(grader, shipped, settings, monkeypatch):
    monkeypatch.setattr("student_model.tasks.grade_submission.delay", lambda _id: None)
    ml_registry.register_version(version="grader-trained-here", path=grader.path, activate=True,
                                 notes="trained by train_grader")

    call_command("prepare_models", stdout=io.StringIO())

    assert ml_registry.active_version().version == "grader-trained-here"
    assert GraderVersion.objects.filter(version="grader-shipped").exists()


def test_a_version_unpacked_from_a_gpu_run_is_registered_when_shipped(grader, settings, tmp_path):
    import shutil

    settings.MODEL_DIR = tmp_path / "models"
    settings.SHIPPED_MODEL_DIR = tmp_path / "shipped"
    shutil.copytree(grader.path, settings.MODEL_DIR / "grader" / "grader-from-gpu")
    out = io.StringIO()

    call_command("ship_grader", "grader-from-gpu", stdout=out)

    registered = GraderVersion.objects.get(version="grader-from-gpu")
    assert registered.path == str(settings.MODEL_DIR / "grader" / "grader-from-gpu")
    assert (settings.SHIPPED_MODEL_DIR / "grader" / "grader-from-gpu" / "model.safetensors.part-00").exists()
    assert not GraderVersion.objects.get(version="grader-from-gpu").is_active

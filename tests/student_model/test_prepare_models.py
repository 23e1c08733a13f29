"""prepare_models: the shipped grader (split into parts) is installed, registered and activated."""

import io
import shutil

import pytest
from django.core.management import call_command

from student_model import ml_registry
from student_model.models import GraderVersion
from tutor.ml.grading.predictor import get_predictor

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def shipped(grader, tmp_path, settings):
    """The test grader as the product ships it: model.safetensors split into parts."""
    target = tmp_path / "shipped" / "grader" / "grader-shipped"
    shutil.copytree(grader.path, target, ignore=shutil.ignore_patterns("checkpoint.pt"))
    weights = (target / "model.safetensors").read_bytes()
    (target / "model.safetensors").unlink()
    half = len(weights) // 2
    (target / "model.safetensors.part-00").write_bytes(weights[:half])
    (target / "model.safetensors.part-01").write_bytes(weights[half:])
    settings.SHIPPED_MODEL_DIR = tmp_path / "shipped"
    settings.MODEL_DIR = tmp_path / "models"
    return weights


def test_the_shipped_grader_is_installed_and_activated(shipped, settings, monkeypatch):
    monkeypatch.setattr("student_model.tasks.grade_submission.delay", lambda _id: None)
    out = io.StringIO()
    call_command("prepare_models", stdout=out)

    active = ml_registry.active_version()
    assert active.version == "grader-shipped"
    installed = settings.MODEL_DIR / "grader" / "grader-shipped"
    assert (installed / "model.safetensors").read_bytes() == shipped
    assert get_predictor(installed).grade(
        question="How did you separate the salt from the water?",
        reference_answers=["The water was evaporated, leaving the salt."],
        answer="The water evaporated.",
    ).verdict
    assert "Active grader: grader-shipped" in out.getvalue()

    call_command("prepare_models", stdout=io.StringIO())  # idempotent
    assert GraderVersion.objects.count() == 1

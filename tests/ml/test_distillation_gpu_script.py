"""benchmarks/distillation_gpu.py as the GPU machine runs it: no Django, no Celery, weights from parts."""

import json
import subprocess
import sys

import pytest

from tests.ml.grader_fixture import semeval_train_sample
from tests.paths import REPO
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig

pytestmark = pytest.mark.slow

SCRIPT = REPO / "benchmarks" / "distillation_gpu.py"
# The GPU machine has PyTorch and transformers but not the web stack: make their imports fail here too.
WITHOUT_WEB_STACK = (
    "import runpy, sys; sys.modules['celery'] = None; sys.modules['django'] = None; "
    f"sys.argv = [{str(SCRIPT)!r}] + sys.argv[1:]; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
)


def _script(*args, cwd):
    return subprocess.run([sys.executable, "-c", WITHOUT_WEB_STACK, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})


def test_a_run_without_the_web_stack_trains_measures_and_hands_back_a_student_that_grades(tmp_path):
    packed = subprocess.run([sys.executable, str(SCRIPT), "pack", "--only", "minilm", "--out", tmp_path / "xfer"],
                            capture_output=True, text=True, timeout=300)
    assert packed.returncode == 0, packed.stderr
    out = tmp_path / "out"

    ran = _script("run", "--parts", tmp_path / "xfer0", "--out", out, "--work", tmp_path / "work", "--quick",
                  "--alphas", "0", "--datasets", "semeval,saf", "--student-references", "1",
                  "--polarity-flips", "0.5", "--truncation", "question_first", "--student-max-length", "256",
                  "--student-attention", "prefix", "--patience", "3", cwd=tmp_path)

    assert ran.returncode == 0, ran.stderr[-2000:]
    report = json.loads((out / "results.json").read_text())
    (name, model), = report["models"].items()
    assert report["shipped_student"] == name and model["config"]["datasets"] == ["semeval", "saf"]
    assert model["config"]["student_references"] == 1 and model["config"]["polarity_flips"] == 0.5
    assert model["config"]["truncation"] == "question_first" and model["config"]["max_length"] == 256
    assert model["config"]["attention"] == "prefix" and model["config"]["patience"] == 3
    assert model["steps"] == 2
    assert set(model["unseen_answers"]) >= {"sciEntsBank_unseen_answers", "beetle_unseen_answers"}
    assert all(0.0 <= row["macro_f1"] <= 1.0 for row in model["unseen_answers"].values())
    assert "mpnet" not in str(list((tmp_path / "work" / "base").iterdir()))  # no teacher when every alpha is 0

    unpacked = _script("unpack-student", "--parts", out, "--version-dir", tmp_path / "grader-back", cwd=tmp_path)
    assert unpacked.returncode == 0, unpacked.stderr[-2000:]
    predictions = GraderPredictor(ServeConfig(model_dir=tmp_path / "grader-back")).predict(semeval_train_sample(4))
    assert len(predictions) == 4 and all(p.verdict in p.probabilities for p in predictions)

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tutor.ml.tracing.bkt import BKT
from tutor.ml.tracing.data import StudentSequence
from tutor.ml.tracing.evaluate import score

DATA = Path(__file__).resolve().parents[3] / "data" / "kt"


def slice_file(src: Path, dst: Path, students: int) -> Path:
    with gzip.open(src, "rt") as fh:
        lines = [line for line in fh.read().splitlines() if line.strip()]
    dst.write_text("\n".join(lines[: 3 * students]) + "\n")
    return dst


@pytest.fixture
def small_split(tmp_path):
    folder = DATA / "assist2009_updated"
    train = slice_file(folder / "assist2009_updated_train1.csv.gz", tmp_path / "train.csv", 150)
    test = slice_file(folder / "assist2009_updated_valid1.csv.gz", tmp_path / "test.csv", 40)
    return train, test


@pytest.mark.parametrize("model, extra", [("bkt", []), ("transformer", ["--max-seconds", "3"])])
def test_evaluate_kt_prints_one_json_object(small_split, capsys, model, extra):
    train, test = small_split
    call_command(
        "evaluate_kt", "--format", "dkvmn", "--train", str(train), "--test", str(test), "--model", model, "--json", *extra
    )
    out = capsys.readouterr().out.strip()
    assert "\n" not in out
    result = json.loads(out)
    assert {"auc", "accuracy", "rmse", "n", "model", "train_seconds"} <= result.keys()
    assert result["model"] == model
    assert result["n"] == sum(int(n) for n in test.read_text().splitlines()[::3])
    assert 0.55 < result["auc"] <= 1 and 0 <= result["rmse"] < 0.6 and 0.5 < result["accuracy"] <= 1


def test_evaluate_kt_reports_bad_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("3\n1,2\n1,0\n")
    with pytest.raises(CommandError, match="header says 3"):
        call_command("evaluate_kt", "--format", "dkvmn", "--train", str(bad), "--test", str(bad), "--model", "bkt")


class _Peeking(BKT):
    """A broken tracer that returns the wrong number of predictions."""

    def predict(self, sequences):
        return [np.full(len(s) - 1, 0.5) for s in sequences]


def test_score_rejects_tracers_that_do_not_predict_every_interaction():
    seqs = [StudentSequence.from_pairs([(1, 1), (1, 0), (2, 1)])]
    tracer = _Peeking().fit(seqs)
    with pytest.raises(RuntimeError, match="one probability"):
        score(tracer, seqs)

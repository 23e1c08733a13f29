"""ONNX Runtime's int8 variants of one grader against its fp32 export, on the visible unseen-answers splits.

    .venv/bin/python benchmarks/int8_variants.py [--model DIR] [--threads 2]

ORT's dynamic quantisation multiplies uint8 activations by int8 weights. On CPUs without VNNI
(AVX2 only) its kernels add pairs of those products into 16-bit integers, which can saturate, so the
same int8 model grades a little differently on an AVX2-only machine and on one with AVX-512 VNNI.
ORT's remedies are 7-bit weights (``reduce_range``, served since session 21) or uint8 weights (uint8 x uint8
kernels). The served variant has every weight in int8; until session 21 two projections per layer stayed
in fp32, which runs slower. This measures each beside the served variant, at the served batch size: how
many verdicts agree with fp32, macro-F1 per split (the cross-encoder alone, no score model or memory),
and answers per second batched. Prints one JSON object.
"""

from __future__ import annotations

import json
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _grading_data import SPLITS as FORMATS, load_split, version_from_args  # noqa: E402
from tutor.ml.grading.onnx_backend import RESIDUAL_PROJECTIONS  # noqa: E402

SPLITS = ("sciEntsBank_unseen_answers", "beetle_unseen_answers", "saf_english_unseen_answers",
          "saf_german_unseen_answers")
VARIANTS = {  # name -> quantize() options; "served" is what the product serves (every weight 7-bit since session 21)
    "served": {},
    "full_range_weights": {"reduce_range": False},
    "uint8_weights": {"unsigned_weights": True, "reduce_range": False},
    # some projections kept in fp32: the residual pair (served from session 8 to 20, with 8-bit weights until
    # session 21), or one of the pair
    "residual_fp32": {"full_precision": RESIDUAL_PROJECTIONS},
    "residual_fp32_full_range": {"full_precision": RESIDUAL_PROJECTIONS, "reduce_range": False},
    "attention_output_fp32": {"full_precision": re.compile(r"attention/output/dense(_\d+)?/MatMul$")},
    "ffn_output_fp32": {"full_precision": re.compile(r"layer\.\d+/output/dense(_\d+)?/MatMul$")},
}


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(f for f in flags if f.startswith(("avx2", "avx512_vnni", "avx_vnni", "avx512f")))


def main() -> None:
    import torch
    from sklearn.metrics import f1_score

    from tutor.ml.grading.config import DATASET_LABELS, ServeConfig
    from tutor.ml.grading.onnx_backend import OnnxGrader, quantize
    from tutor.ml.grading.predictor import GraderPredictor

    path = version_from_args(__doc__)
    threads = torch.get_num_threads()  # --threads
    data = {name: load_split(name) for name in SPLITS}
    predictor = GraderPredictor(ServeConfig(model_dir=path, backend="onnx", score_model=False,
                                            num_threads=threads))
    if not isinstance(predictor.model, OnnxGrader):
        raise SystemExit(f"{path.name} is served as two graphs (prefix attention): this benchmark quantises one")
    fp32_file = predictor.model.path

    def grade_all() -> tuple[dict[str, list], float]:
        started = time.perf_counter()
        verdicts = {}
        for name, items in data.items():
            allowed = DATASET_LABELS[FORMATS[name][0]]
            verdicts[name] = [p.verdict for p in predictor.predict(items, allowed_labels=allowed)]
        return verdicts, time.perf_counter() - started

    def summary(verdicts: dict[str, list], seconds: float, reference: dict[str, list] | None) -> dict:
        n = sum(len(v) for v in verdicts.values())
        result = {"answers_per_s": round(n / seconds, 1), "macro_f1": {}}
        for name, predicted in verdicts.items():
            truth = [item.label for item in data[name]]
            result["macro_f1"][name] = round(f1_score(truth, predicted, average="macro", labels=sorted(set(truth))), 4)
        if reference is not None:
            same = sum(a == b for name in verdicts for a, b in zip(verdicts[name], reference[name]))
            result["agreement_with_fp32"] = round(same / n, 4)
        return result

    fp32, seconds = grade_all()
    report = {"model": path.name, "cpu_flags": cpu_flags(), "machine": platform.processor() or platform.machine(),
              "answers": sum(len(v) for v in data.values()), "batch_size": predictor.config.batch_size,
              "fp32": summary(fp32, seconds, None)}
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in VARIANTS.items():
            target = quantize(fp32_file, Path(tmp) / f"{name}.onnx", **options)
            predictor.model = OnnxGrader(target, num_threads=threads)
            verdicts, seconds = grade_all()
            report[name] = summary(verdicts, seconds, fp32)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

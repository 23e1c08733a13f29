"""Speed of the grader on this machine: answers/s batched and single-answer latency, fp32 vs int8,
served by PyTorch and by ONNX Runtime, plus training steps/s at batch 16 for the cross-encoder input layout.

    .venv/bin/python benchmarks/grading_speed.py [--model-dir DIR] [--threads 2] [--n 256] [--backends torch,onnx] \
        [--processes 2]

Uses the newest trained version under MODEL_DIR/grader (TUTOR_MODEL_DIR, default var/models);
with none, a fresh untrained copy of MiniLM (``"untrained": true`` in the output: speed only,
its verdicts mean nothing). Inputs are real SemEval unseen-answers items, whose questions the shipped
grader was fitted on; the ``*_new_questions`` rows time the same answers as answers to new questions,
scored by the version's score model (score_model.py). A version trained with prefix attention keeps
each question's segment A (prefix_cache.py): its main figures time questions it has not seen (about
four answers per question in the batched run, one in the single ones), the ``*_cached`` ones questions
it has graded before. ``worker_processes`` times the served grader (ONNX int8) as a Celery prefork worker
runs it: ``--processes`` processes grading their share of the answers at once, one answer per call as a
grading task sends them, each with its share of the ``--threads`` (tutor/ml/threads.py) and, for
comparison, each with all of them (ONNX Runtime's default). Prints one JSON object.
"""

import argparse
import dataclasses
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from _grading_data import load_split  # noqa: E402
from tutor.ml import registry  # noqa: E402
from tutor.ml.grading.config import TrainConfig  # noqa: E402
from tutor.ml.grading.model import build_model, save_model  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig  # noqa: E402


def pick_model(model_dir: str | None, tmp: str) -> tuple[Path, bool]:
    if model_dir:
        return Path(model_dir), False
    root = os.environ.get("TUTOR_MODEL_DIR", str(ROOT / "var" / "models"))
    latest = registry.latest_version(root, "grader")
    if latest is not None:
        return latest.path, False
    model, tokenizer = build_model(TrainConfig().base_model)
    path = Path(tmp) / "untrained"
    settings = {"max_length": 256, "predict_references": "max_score", "temperature": 1.0}
    save_model(model, tokenizer, path, config=settings)
    return path, True


def forget_questions(predictor) -> bool:
    """Empty a prefix-attention grader's kept questions (prefix_cache.py); False for other graders."""
    forget = getattr(predictor.model, "forget", None)
    if forget is None:
        return False
    forget()
    return True


def measure(predictor, items, singles: int) -> dict:
    predictor.predict(items[:8])  # warm-up
    # A prefix-attention grader keeps each question's segment A: the main figures time every question
    # new to it (the cache emptied first), the "_cached" ones questions it has graded before.
    keeps_questions = forget_questions(predictor)
    start = time.perf_counter()
    predictor.predict(items)
    batched = time.perf_counter() - start
    result = {"answers_per_s_batched": round(len(items) / batched, 1)}
    if keeps_questions:
        if predictor.score_model is not None:
            predictor.aligner().forget_recent()  # the run above encoded these answers already
        start = time.perf_counter()
        predictor.predict(items)
        result["answers_per_s_batched_cached"] = round(len(items) / (time.perf_counter() - start), 1)
    for cached in (False, True) if keeps_questions else (False,):
        if cached:
            predictor.predict(items[:singles])  # every question of the timed answers kept
        latencies = []
        for item in items[:singles]:
            if predictor.score_model is not None:
                predictor.aligner().forget_recent()  # the batched run above encoded these answers already
            if not cached:
                forget_questions(predictor)
            t = time.perf_counter()
            predictor.predict([item])
            latencies.append((time.perf_counter() - t) * 1000)
        latencies.sort()
        suffix = "_cached" if cached else ""
        result[f"single_latency_ms_p50{suffix}"] = round(statistics.median(latencies), 2)
        result[f"single_latency_ms_p95{suffix}"] = round(latencies[int(0.95 * (len(latencies) - 1))], 2)
    return result


def _worker_process(model_dir: str, threads: int, items, barrier, results) -> None:
    torch.set_num_threads(threads)
    predictor = GraderPredictor(ServeConfig(model_dir=model_dir, int8=True, backend="onnx", num_threads=threads))
    predictor.predict(items[:8])  # warm-up
    barrier.wait()
    start = time.perf_counter()
    for item in items:
        predictor.predict([item])
    results.put((start, time.perf_counter(), len(items)))


def measure_processes(model_dir: Path, items, processes: int, threads: int) -> dict:
    """Answers per second of ``processes`` processes grading their share of ``items`` at once."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_worker_process, args=(str(model_dir), threads, items[i::processes], barrier, results))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    timings = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = max(end for _, end, _ in timings) - min(start for start, _, _ in timings)
    return {"processes": processes, "threads_each": threads,
            "answers_per_s": round(sum(n for _, _, n in timings) / elapsed, 1)}


def train_speed(items, steps: int, batch_size: int, max_length: int) -> dict:
    from tutor.ml.grading.dataset import PairCollator, make_pairs
    from tutor.ml.grading.train import loss_fn

    model, tokenizer = build_model(TrainConfig().base_model)
    model.train()
    pairs = make_pairs(items, references="best_overlap", sep=tokenizer.sep_token)
    collate = PairCollator(tokenizer, max_length)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    times = []
    for step in range(steps + 1):
        batch = collate(pairs[step * batch_size : (step + 1) * batch_size])
        t = time.perf_counter()
        logits, scores = model(**{k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch})
        loss = loss_fn(logits, scores, batch, weights=None, score_weight=1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step:  # the first step warms up
            times.append(time.perf_counter() - t)
    return {"batch_size": batch_size, "steps": steps, "steps_per_s": round(len(times) / sum(times), 3),
            "max_length": max_length}


def cpu_description() -> dict:
    """The processor and its vector instructions: int8 kernels are much faster with AVX-512 VNNI than with
    AVX2 alone, so figures from two machines compare only where these match."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not model:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return {"model": model, "vector_flags": [f for f in wanted if f in flags]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n", type=int, default=256, help="answers in the batched run")
    parser.add_argument("--singles", type=int, default=60, help="answers timed one at a time")
    parser.add_argument("--batch-size", type=int, default=ServeConfig.batch_size)
    parser.add_argument("--train-steps", type=int, default=5, help="0 skips the training-speed probe")
    parser.add_argument("--processes", type=int, default=2,
                        help="worker processes sharing the --threads in the worker_processes rows; 0 skips them")
    parser.add_argument("--backends", default="torch,onnx", type=lambda s: s.split(","),
                        help="serving backends to time: torch, onnx (ONNX Runtime) or both")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    items = load_split("sciEntsBank_unseen_answers")[: args.n]
    with tempfile.TemporaryDirectory() as tmp:
        path, untrained = pick_model(args.model_dir, tmp)
        result = {
            "model": str(path), "untrained": untrained, "threads": args.threads, "n": len(items),
            "batch_size": args.batch_size, "device": "cpu", "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "cpu": cpu_description(), "load_average_before": [round(x, 2) for x in os.getloadavg()],
        }
        if untrained:
            result["note"] = "no trained grader version found: timing a fresh untrained MiniLM cross-encoder"
        for backend in args.backends:
            for precision, int8 in (("fp32", False), ("int8", True)):
                predictor = GraderPredictor(
                    ServeConfig(model_dir=path, int8=int8, batch_size=args.batch_size, backend=backend)
                )
                # PyTorch's rows keep their old names (fp32, int8) so earlier results still compare.
                result[precision if backend == "torch" else f"{backend}_{precision}"] = measure(
                    predictor, items, args.singles
                )
                if predictor.score_model is not None:
                    # Questions a teacher writes are new to the grader: their score also needs the alignment
                    # features (score_model.py), two more passes of the base MiniLM encoder per answer.
                    predictor.score_model = dataclasses.replace(predictor.score_model, fitted_questions=frozenset())
                    key = f"{precision}_new_questions" if backend == "torch" else f"{backend}_{precision}_new_questions"
                    result[key] = measure(predictor, items, args.singles)
        if args.processes and "onnx" in args.backends:
            shared = max(1, args.threads // args.processes)
            result["worker_processes"] = [measure_processes(path, items, args.processes, threads)
                                          for threads in (shared, args.threads)]
        if args.train_steps:
            result["training"] = train_speed(load_split("beetle_unseen_answers"), args.train_steps, 16, 256)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""The product's course tracers on the demo courses' real graded history: BKT vs the Transformer.

For each demo course with history (data/demo/*.history.jsonl.gz) the attempts are built as the
product builds them (released teacher grades; right = verdict ``correct``; the question's skills;
time order), then ``fit_course_tracer(kind="transformer")`` fits both tracers on the same students
and scores them on held-out students (one prediction per attempt from the earlier ones). Prints
one JSON object; no database needed.

    .venv/bin/python benchmarks/course_tracers.py
"""

from __future__ import annotations

import gzip
import json
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tutor.ml.tracing.course import Attempt, CourseTracerConfig, fit_course_tracer  # noqa: E402

DEMO = ROOT / "data" / "demo"


def histories(slug: str) -> list[list[Attempt]]:
    course = json.load(gzip.open(DEMO / f"{slug}.course.json.gz"))
    skill_ids = {s["slug"]: i for i, s in enumerate(course["skills"], start=1)}
    question_ids = {q["external_id"]: i for i, q in enumerate(course["questions"], start=1)}
    question_skills = {q["external_id"]: tuple(sorted(skill_ids[s] for s in q["skills"])) for q in course["questions"]}
    rows = [json.loads(line) for line in gzip.open(DEMO / f"{slug}.history.jsonl.gz", "rt")]
    per_student = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["submitted_at"], r["external_id"])):
        if question_skills.get(row["question"]):
            per_student[row["student"]].append(
                Attempt(question_ids[row["question"]], question_skills[row["question"]], row["verdict"] == "correct")
            )
    return [per_student[s] for s in sorted(per_student)]


def main() -> None:
    results = {}
    for path in sorted(DEMO.glob("*.history.jsonl.gz")):
        slug = path.name.split(".")[0]
        data = histories(slug)
        started = time.perf_counter()
        fit = fit_course_tracer(data, CourseTracerConfig(), kind="transformer")
        results[slug] = {
            "students": len(data),
            "interactions": fit.interactions,
            "bkt": fit.metrics["bkt"],
            "transformer": fit.metrics["transformer"],
            "auto_choice": "transformer" if fit.metrics["transformer"]["auc"] >= fit.metrics["bkt"]["auc"] else "bkt",
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"{slug}: BKT {fit.metrics['bkt']['auc']:.3f}, Transformer {fit.metrics['transformer']['auc']:.3f}",
              file=sys.stderr)
    print(json.dumps({"machine": platform.machine(), "python": platform.python_version(), "courses": results}))


if __name__ == "__main__":
    main()

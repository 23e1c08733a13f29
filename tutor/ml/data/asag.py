"""Readers of the short-answer grading datasets in their own published formats.

Every reader returns ``GradedAnswer`` rows. They are meant to read any split of the same
format (for example a held-back ``test-unseen-questions`` folder), so they rely only on the
file layout and on what the files themselves say, never on a fixed list of questions.

Choices worth knowing (also in ``data/README.md``):

* SemEval-2013: the split is taken from the folder names (``training`` -> ``train``,
  ``test-unseen-answers`` -> ``unseen_answers``) or the question's ``testSet`` attribute;
  the subset (``sciEntsBank``/``beetle``) from the path. Beetle questions list reference
  answers with a ``category``: BEST and GOOD ones are kept as references, MINIMAL and
  KEYWORD ones (fragments such as "a gap") are not; a question with neither keeps all.
  Student ids: SciEntsBank ``ME.65a.101.1`` -> ``ME-101`` (ids are numbered per module, so
  the module is kept); Beetle ``...sbj3-l1.qa193`` -> ``sbj3`` (``-l1``/``-l2`` is the lesson).
* SAF: line breaks inside reference answers, responses and feedback are kept (they carry
  structure such as lists); other whitespace is collapsed. Scores in the release are on 0..1 for every question (each "Correct" answer has 1.0
  and none is above), so ``max_score`` is 1.0 unless a file holds a larger score. The
  question id is taken from the file name (``4.2_LM_v1.0.xml`` -> ``4.2_LM``) because two
  files carry the same ``id`` attribute. German answers have no id: ``<question id>.<n>``.
* Mohler: ``score = score_avg`` (0..5, exam questions already normalised from 0..10 by the
  CSV); no label, because no score-to-label threshold is documented. The answer id is
  ``<question>.<z>`` with z the 0-based position within the question, as in the v2.0 notation.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from .types import GradedAnswer

FORMATS = ("semeval", "saf", "mohler")

SEMEVAL_LABELS = {
    "correct": "correct",
    "partially_correct_incomplete": "partially_correct",
    "partially_correct": "partially_correct",
    "contradictory": "contradictory",
    "incorrect": "incorrect",
    # 5-way labels that fold into "incorrect" in the official 3-way task.
    "irrelevant": "incorrect",
    "non_domain": "incorrect",
}
SAF_LABELS = {"correct": "correct", "partially correct": "partially_correct", "incorrect": "incorrect"}
BEETLE_REFERENCE_CATEGORIES = ("BEST", "GOOD")


class DatasetFormatError(ValueError):
    """A file does not look like the format it was read as."""


def _clean(text: str | None) -> str:
    """Collapse runs of whitespace (the XML files wrap text over indented lines)."""
    return re.sub(r"\s+", " ", text or "").strip()


def _element_text(element: ET.Element | None, *, keep_lines: bool = False) -> str:
    # itertext: a few SAF responses hold markup such as <p>...</p>.
    if element is None:
        return ""
    text = "".join(element.itertext())
    if not keep_lines:
        return _clean(text)
    lines = (_clean(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _xml_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"No such file or folder: {path}")
    files = sorted(p for p in path.rglob("*.xml") if p.is_file())
    if not files:
        raise DatasetFormatError(f"No .xml files under {path}")
    return files


def _split_from_path(path: Path, default: str) -> str:
    for part in reversed(path.parts):
        lowered = part.lower()
        if lowered in ("training", "train"):
            return "train"
        if lowered.startswith("test-") or lowered in ("unseen_answers", "unseen_questions", "unseen_domains"):
            return lowered.removeprefix("test-").replace("-", "_")
    return default


# ---------------------------------------------------------------- SemEval-2013


def _semeval_subset(path: Path, answer_ids: Iterable[str]) -> str:
    for part in reversed(path.parts):
        lowered = part.lower()
        if lowered == "beetle":
            return "beetle"
        if lowered == "scientsbank":
            return "sciEntsBank"
    # Not in the path: Beetle answer ids carry a ".sbjN-lN." subject part.
    return "beetle" if any(".sbj" in a for a in answer_ids) else "sciEntsBank"


def _semeval_student(subset: str, answer_id: str) -> str:
    if subset == "beetle":
        match = re.search(r"\.(sbj[a-z]*\d+)-l\d+\.", answer_id)
        return match.group(1) if match else ""
    parts = answer_id.split(".")
    return f"{parts[0]}-{parts[2]}" if len(parts) >= 4 else ""


def _semeval_references(question: ET.Element) -> tuple[list[str], list[str]]:
    references = [(r.get("category", ""), r.get("id", ""), _element_text(r)) for r in question.iter("referenceAnswer")]
    references = [r for r in references if r[2]]
    kept = [r for r in references if r[0].upper() in BEETLE_REFERENCE_CATEGORIES]
    if not kept:  # SciEntsBank (no categories), or a question with only minimal answers
        kept = references
    return [r[2] for r in kept], [r[1] for r in kept]


def read_semeval(path: str | Path) -> list[GradedAnswer]:
    """Read SemEval-2013 Task 7 question files (one file, or a folder searched recursively)."""
    rows: list[GradedAnswer] = []
    for file in _xml_files(Path(path)):
        root = ET.parse(file).getroot()
        if root.tag != "question":
            raise DatasetFormatError(f"{file}: root element is <{root.tag}>, expected <question>")
        answers = list(root.iter("studentAnswer"))
        subset = _semeval_subset(file, [a.get("id", "") for a in answers])
        test_set = root.get("testSet", "")
        split = _split_from_path(file.parent, default=test_set.replace("-", "_") if test_set else "unknown")
        references, reference_ids = _semeval_references(root)
        question_id = root.get("id", file.stem)
        question_text = _element_text(root.find("questionText"))
        for answer in answers:
            raw_label = answer.get("accuracy", "").strip().lower()
            if raw_label and raw_label not in SEMEVAL_LABELS:
                raise DatasetFormatError(f"{file}: unknown accuracy label {raw_label!r}")
            answer_id = answer.get("id", "")
            extra = {"module": root.get("module", ""), "reference_ids": reference_ids}
            if answer.get("answerMatch"):
                extra["answer_match"] = answer.get("answerMatch")
            if answer.get("count"):
                extra["count"] = int(answer.get("count"))
            if raw_label and SEMEVAL_LABELS[raw_label] != raw_label:
                extra["label_5way"] = raw_label
            label = SEMEVAL_LABELS.get(raw_label, "")
            rows.append(
                GradedAnswer(
                    dataset="semeval",
                    subset=subset,
                    split=split,
                    question_id=question_id,
                    question=question_text,
                    reference_answers=tuple(references),
                    answer_id=answer_id,
                    answer=_element_text(answer),
                    student_id=_semeval_student(subset, answer_id),
                    label=label,
                    extra=extra,
                )
            )
    return rows


# ---------------------------------------------------------------- SAF


def _saf_question_id(file: Path, root: ET.Element) -> str:
    # "4.2_LM_v1.0.xml" -> "4.2_LM"; German files are just "1.xml".
    stem = re.sub(r"_v\d+(\.\d+)*$", "", file.stem)
    return stem or root.get("id", "")


def _saf_language(file: Path) -> str:
    for part in reversed(file.parts):
        if part.lower() in ("english", "german"):
            return part.lower()
    return "unknown"


def read_saf(path: str | Path) -> list[GradedAnswer]:
    """Read Short Answer Feedback (SAF) question files (one file, or a folder searched recursively)."""
    rows: list[GradedAnswer] = []
    for file in _xml_files(Path(path)):
        root = ET.parse(file).getroot()
        if root.tag != "question":
            raise DatasetFormatError(f"{file}: root element is <{root.tag}>, expected <question>")
        question_id = _saf_question_id(file, root)
        references = tuple(t for t in (_element_text(r, keep_lines=True) for r in root.iter("referenceAnswer")) if t)
        answers = list(root.iter("studentAnswer"))
        scores = [float(_element_text(a.find("score"))) for a in answers if _element_text(a.find("score"))]
        max_score = max([1.0, *scores])
        for position, answer in enumerate(answers, start=1):
            score_text = _element_text(answer.find("score"))
            verification = _element_text(answer.find("verification_feedback"))
            label = SAF_LABELS.get(verification.lower())
            if verification and label is None:
                raise DatasetFormatError(f"{file}: unknown verification label {verification!r}")
            rows.append(
                GradedAnswer(
                    dataset="saf",
                    subset=_saf_language(file),
                    split=_split_from_path(file.parent, default="unknown"),
                    question_id=question_id,
                    question=_element_text(root.find("questionText")),
                    reference_answers=references,
                    answer_id=answer.get("id") or f"{root.get('id', question_id)}.{position}",
                    answer=_element_text(answer.find("response"), keep_lines=True),
                    label=label or "",
                    score=float(score_text) if score_text else None,
                    max_score=max_score,
                    feedback=_element_text(answer.find("response_feedback"), keep_lines=True),
                    extra={"module": root.get("module", ""), "xml_question_id": root.get("id", ""), "position": position},
                )
            )
    return rows


# ---------------------------------------------------------------- Mohler

MOHLER_COLUMNS = ("id", "question", "desired_answer", "student_answer", "score_me", "score_other", "score_avg")


def read_mohler(path: str | Path) -> list[GradedAnswer]:
    """Read the flat Mohler CSV (``mohler_dataset_edited.csv``; a folder holding it also works)."""
    path = Path(path)
    if path.is_dir():
        path = path / "mohler_dataset_edited.csv"
    rows: list[GradedAnswer] = []
    positions: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MOHLER_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetFormatError(f"{path}: missing columns {missing}")
        for record in reader:
            question_id = record["id"].strip()
            position = positions.get(question_id, 0)
            positions[question_id] = position + 1
            rows.append(
                GradedAnswer(
                    dataset="mohler",
                    subset="mohler",
                    split="all",
                    question_id=question_id,
                    question=_clean(record["question"]),
                    reference_answers=(_clean(record["desired_answer"]),),
                    answer_id=f"{question_id}.{position}",
                    answer=_clean(record["student_answer"]),
                    score=float(record["score_avg"]),
                    max_score=5.0,
                    extra={
                        "assignment": question_id.split(".")[0],
                        "score_me": float(record["score_me"]),
                        "score_other": float(record["score_other"]),
                    },
                )
            )
    return rows


READERS = {"semeval": read_semeval, "saf": read_saf, "mohler": read_mohler}


def read_dataset(fmt: str, path: str | Path) -> list[GradedAnswer]:
    """Read ``path`` as one of ``FORMATS`` ("semeval", "saf", "mohler")."""
    try:
        reader = READERS[fmt]
    except KeyError:
        raise ValueError(f"Unknown dataset format {fmt!r}; expected one of {', '.join(FORMATS)}") from None
    return reader(path)


# ---------------------------------------------------------------- compact copies


def write_jsonl_gz(rows: Iterable[GradedAnswer], path: str | Path) -> int:
    """Write rows as gzip-compressed JSON lines (deterministic bytes: no timestamp in the header)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as handle:
        for row in rows:
            record = asdict(row)
            record["reference_answers"] = list(row.reference_answers)
            handle.write((json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
            count += 1
    return count


def read_jsonl_gz(path: str | Path) -> list[GradedAnswer]:
    """Read rows written by ``write_jsonl_gz``."""
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                record["reference_answers"] = tuple(record["reference_answers"])
                rows.append(GradedAnswer(**record))
    return rows

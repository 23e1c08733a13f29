"""The four demo courses: built from the real data sets, loaded into the database.

``build_demo_data`` (run once by a maintainer, with ``../shared/data`` present) turns the
published datasets into the compact files committed under ``data/``; ``load_demo`` (run by
``make run`` on any machine) imports those files. Loading is idempotent: courses are matched
by slug (``import_course`` updates in place), people by username, historical answers by
(question, external id).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from tutor.ml.data import asag, openstax
from tutor.ml.data.types import GradedAnswer

from .course_io import import_course, load_document, write_document
from .models import Course, Enrollment

DATA_DIR = Path(settings.BASE_DIR) / "data"
DEMO_DIR = DATA_DIR / "demo"
ASAG_DIR = DATA_DIR / "asag"
SLUGS = ("intro-python", "physical-science", "computer-networks", "data-structures")

ADMIN = ("admin", "admin-demo-pass")
TEACHER_PASSWORD = "teacher-demo-pass"
STUDENT_PASSWORD = "student-demo-pass"
TEACHERS = {
    "intro-python": "teacher.python",
    "physical-science": "teacher.science",
    "computer-networks": "teacher.networks",
    "data-structures": "teacher.datastructures",
}
STUDENTS = ("alice", "bob", "chloe")

# Historical answers get dates in a past term: each unit one week after the previous one.
TERM_START = datetime(2025, 2, 3, 8, 0, tzinfo=UTC)


# =============================================================== building data/ from the originals


def _gz_jsonl_write(rows: Iterable[dict], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
            count += 1
    return count


def read_history(path: str | Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _submitted_at(unit_order: int, answer_id: str) -> str:
    """A deterministic time within the unit's week (weekdays, 08:00-22:00), from a hash of the id."""
    digest = int(hashlib.sha256(answer_id.encode()).hexdigest()[:12], 16)
    minutes = digest % (5 * 14 * 60)
    day, minute = divmod(minutes, 14 * 60)
    moment = TERM_START + timedelta(weeks=unit_order - 1, days=day, minutes=minute)
    return moment.isoformat().replace("+00:00", "Z")


def _document(course: dict, units: list, skills: list, questions: list, resources: list) -> dict:
    return {
        "format": "tutor-course",
        "version": 1,
        "course": course,
        "units": units,
        "skills": skills,
        "questions": questions,
        "resources": resources,
    }


def _question(
    *, external_id: str, unit: str, order: int, prompt: str, max_points: float, references: list[tuple[str, str]]
) -> dict:
    """A question of a course document whose single skill is its unit's; ``references`` are (id, text)."""
    return {
        "external_id": external_id,
        "unit": unit,
        "order": order,
        "prompt": prompt,
        "max_points": max_points,
        "skills": [unit],
        "reference_answers": [{"external_id": ref_id, "text": text} for ref_id, text in references],
        "rubric": [],
    }


def _history_row(
    row: GradedAnswer, *, student: str, unit_order: int, score: float, verdict: str, question_id: str | None = None
) -> dict:
    return {
        "question": question_id or row.question_id,
        "external_id": row.answer_id,
        "student": student,
        "answer": row.answer,
        "score": score,
        "verdict": verdict,
        "feedback": row.feedback,
        "submitted_at": _submitted_at(unit_order, row.answer_id),
    }


# --------------------------------------------------------------- intro-python (OpenStax)

OPENSTAX_TITLE = "Introduction to Python Programming"
OPENSTAX_URL = "https://openstax.org/details/books/introduction-python-programming"
OPENSTAX_ATTRIBUTION = (
    "Introduction to Python Programming by Udayan Das, Aubrey Lawson, Chris Mayfield and Narges Norouzi, "
    "published by OpenStax (Rice University), licensed under the Creative Commons Attribution 4.0 "
    "International licence (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/). "
    f"Access for free at {OPENSTAX_URL}. "
    "Changes: converted from CNXML to Markdown; the interactive exercises, animations and code runners "
    "(the OpenStax Python Code Runner is by Wiley, all rights reserved) are not included; "
    "skills and prerequisites were derived from the book's sections and their order."
)
_NOT_A_SKILL = re.compile(r"^(introduction|chapter summary|chapter review|preface)$", re.IGNORECASE)


def _definition_question(term: str, sentence: str) -> str:
    if re.search(rf"{re.escape(term)}\s+stands for", sentence):
        return f"What does {term} stand for, and what does it describe?"
    return f"In your own words, what is meant by \u201c{term}\u201d?"


def build_intro_python(book_dir: Path) -> dict:
    """The book as a course. Its exercises are not in the release, so the questions are built from
    the book's own definitions of key terms: the defining sentence is the reference answer."""
    book = openstax.read_book(book_dir)
    units, skills, resources, questions = [], [], [], []
    previous_skill: str | None = None
    for chapter in book.chapters:
        unit_id = f"ch{chapter.number}" if chapter.number else None
        if unit_id:
            units.append({"id": unit_id, "order": chapter.number, "title": chapter.title})
        chapter_skills: list[str] = []
        for position, module in enumerate(chapter.modules, start=1):
            section_number = f"{chapter.number}.{position - 1}" if chapter.number else ""
            module_skills: list[str] = []
            if unit_id and not _NOT_A_SKILL.match(module.title):
                slug = f"{unit_id}-{slugify(module.title)}"[:120]
                skills.append(
                    {
                        "slug": slug,
                        "name": module.title,
                        "description": " ".join(module.objectives),
                        "unit": unit_id,
                        # The book's order: each section builds on the one before it.
                        "prerequisites": [previous_skill] if previous_skill else [],
                    }
                )
                previous_skill = slug
                chapter_skills.append(slug)
                module_skills = [slug]
            elif unit_id and module.title.lower().startswith("chapter summary"):
                module_skills = list(chapter_skills)
            title = f"{section_number} {module.title}".strip() if position > 1 else module.title
            if unit_id and module_skills and not module.title.lower().startswith("chapter summary"):
                for n, (term, sentence) in enumerate(module.definitions[:2], start=1):
                    questions.append(
                        {
                            "external_id": f"{module.id}-def{n}",
                            "unit": unit_id,
                            "order": len(questions) + 1,
                            "prompt": _definition_question(term, sentence),
                            "max_points": 1.0,
                            "skills": module_skills,
                            "reference_answers": [{"external_id": f"{module.id}-def{n}-a1", "text": sentence}],
                            "rubric": [],
                        }
                    )
            resources.append(
                {
                    "external_id": module.id,
                    "unit": unit_id,
                    "kind": "reading",
                    "order": position,
                    "title": title,
                    "body": module.markdown,
                    "url": "",
                    "skills": module_skills,
                    "source": f"OpenStax, {OPENSTAX_TITLE}, module {module.id} ({module.title}). {OPENSTAX_URL}",
                    "licence": "CC BY 4.0",
                }
            )
    course = {
        "slug": "intro-python",
        "title": OPENSTAX_TITLE,
        "description": (
            "An introductory Python course built from the OpenStax textbook: one unit per chapter, "
            "one reading per book section, one skill per section in the book's order, and short-answer "
            "questions on the key terms the book defines."
        ),
        "source": (
            "OpenStax, Introduction to Python Programming (2024), CNXML source of the book "
            "(modules and collection XML); see data/README.md."
        ),
        "source_url": OPENSTAX_URL,
        "licence": "CC BY 4.0",
        "attribution": OPENSTAX_ATTRIBUTION,
    }
    return _document(course, units, skills, questions, resources)


# --------------------------------------------------------------- physical-science (SemEval-2013)

SCIENTSBANK_MODULES = {
    "EM": "Earth materials",
    "FN": "Food and nutrition",
    "II": "Ideas and inventions",
    "LF": "Landforms",
    "LP": "Levers and pulleys",
    "ME": "Magnetism and electricity",
    "MS": "Measurement",
    "MX": "Mixtures and solutions",
    "PS": "Physics of sound",
    "SE": "Solar energy",
    "ST": "Structures of life",
    "VB": "Variables",
}
SEMEVAL_VERDICT_SCORE = {"correct": 1.0, "partially_correct": 0.5, "contradictory": 0.0, "incorrect": 0.0}


def _split_words(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).capitalize()


def build_physical_science(semeval_dir: Path) -> tuple[dict, list[dict]]:
    train = [r for r in asag.read_semeval(semeval_dir / "training")]
    by_unit: dict[tuple[str, str], dict[str, list[GradedAnswer]]] = defaultdict(lambda: defaultdict(list))
    for row in train:
        by_unit[(row.subset, row.extra.get("module", ""))][row.question_id].append(row)
    # SciEntsBank modules first (alphabetical), then Beetle's.
    unit_keys = sorted(by_unit, key=lambda k: (k[0] != "sciEntsBank", k[1]))
    units, skills, questions, history = [], [], [], []
    ref_ids = _semeval_reference_ids(semeval_dir / "training")
    for order, (subset, module) in enumerate(unit_keys, start=1):
        unit_id = f"{'sci' if subset == 'sciEntsBank' else 'beetle'}-{module.lower()}"
        if subset == "sciEntsBank":
            title = f"SciEntsBank: {SCIENTSBANK_MODULES.get(module, module)} ({module})"
        else:
            title = f"Beetle: {_split_words(module)}"
        units.append({"id": unit_id, "order": order, "title": title})
        skills.append({"slug": unit_id, "name": title.split(": ", 1)[1], "description": "", "unit": unit_id, "prerequisites": []})
        for q_order, (question_id, rows) in enumerate(sorted(by_unit[(subset, module)].items()), start=1):
            first = rows[0]
            questions.append(
                _question(
                    external_id=question_id, unit=unit_id, order=q_order, prompt=first.question, max_points=1.0,
                    references=list(zip(ref_ids[question_id], first.reference_answers, strict=True)),
                )
            )
            for row in rows:
                prefix = "sci" if subset == "sciEntsBank" else "beetle"
                history.append(
                    _history_row(
                        row,
                        student=f"{prefix}-{row.student_id}".lower() if row.student_id else f"{prefix}-{row.answer_id}",
                        unit_order=order,
                        score=SEMEVAL_VERDICT_SCORE[row.label],
                        verdict=row.label,
                    )
                )
    course = {
        "slug": "physical-science",
        "title": "Physical Science",
        "description": (
            "Short-answer science questions with real student answers graded by their teachers: "
            "SciEntsBank (grades 3-6, FOSS science modules) and Beetle (basic electricity and "
            "electronics tutoring). Historical answers are the training split only."
        ),
        "source": (
            "SemEval-2013 Task 7, Student Response Analysis (Dzikovska et al. 2013), 3-way labels; "
            "files from SebOchs/bachelor-thesis @ d0bb31e6 : data/datasets. Unit titles of the "
            "SciEntsBank modules are ours (from the module codes)."
        ),
        "source_url": "https://www.cs.york.ac.uk/semeval-2013/task7/",
        "licence": "SciEntsBank: CC BY 4.0; Beetle: research release (check before redistribution)",
        "attribution": (
            "SciEntsBank: Nielsen, Ward, Martin and Palmer (2008), Annotating students' understanding of "
            "science concepts. Beetle: Dzikovska et al., BEETLE II tutorial dialogue corpus. "
            "Dzikovska et al. (2013), SemEval-2013 Task 7: The Joint Student Response Analysis and "
            "8th Recognizing Textual Entailment Challenge."
        ),
    }
    return _document(course, units, skills, questions, []), history


def _semeval_reference_ids(path: Path) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for row in asag.read_semeval(path):
        ids.setdefault(row.question_id, [i or f"{row.question_id}-a{n}" for n, i in enumerate(row.extra["reference_ids"], 1)])
    return ids


# --------------------------------------------------------------- computer-networks (SAF English)

SAF_MODULES = {
    "DLL": "Data link layer",
    "LM": "Local networks and medium access",
    "IPP": "Internet protocols",
    "MM": "Mobile, broadcast and multicast routing",
    "TC": "Transport layer and bridges",
    "PE": "Performance evaluation",
}


def _question_number(question_id: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", question_id))


def build_computer_networks(saf_dir: Path) -> tuple[dict, list[dict]]:
    rows = asag.read_saf(saf_dir / "training" / "english")
    by_question: dict[str, list[GradedAnswer]] = defaultdict(list)
    for row in rows:
        by_question[row.question_id].append(row)
    modules = sorted({r.extra["module"] for r in rows}, key=lambda m: min(_question_number(q) for q in by_question if q.endswith("_" + m)))
    units, skills, questions, history = [], [], [], []
    for order, module in enumerate(modules, start=1):
        unit_id = module.lower()
        title = f"{SAF_MODULES.get(module, module)} ({module})"
        units.append({"id": unit_id, "order": order, "title": title})
        skills.append({"slug": unit_id, "name": SAF_MODULES.get(module, module), "description": "", "unit": unit_id, "prerequisites": []})
        module_questions = sorted((q for q in by_question if q.endswith("_" + module)), key=_question_number)
        for q_order, question_id in enumerate(module_questions, start=1):
            answers = by_question[question_id]
            first = answers[0]
            questions.append(
                _question(
                    external_id=question_id, unit=unit_id, order=q_order, prompt=first.question,
                    max_points=first.max_score,
                    references=[(f"{question_id}-a{n}", t) for n, t in enumerate(first.reference_answers, start=1)],
                )
            )
            for row in answers:
                # No student ids in SAF: answers with the same number form one pseudonymous student.
                number = row.answer_id.rsplit(".", 1)[-1]
                history.append(
                    _history_row(row, student=f"net-{int(number):03d}", unit_order=order, score=row.score, verdict=row.label)
                )
    course = {
        "slug": "computer-networks",
        "title": "Computer Networks",
        "description": (
            "A university course on communication networks: short-answer questions with real "
            "answers, each scored and given written feedback by a tutor. Historical answers are "
            "the English training split only."
        ),
        "source": (
            "Short Answer Feedback dataset v2 (Filighera et al., ACL 2022), English communication "
            "networks part; files from SebOchs/SAF @ 09949e91 : data. Unit titles are ours (from "
            "the lecture codes)."
        ),
        "source_url": "https://github.com/SebOchs/SAF",
        "licence": "MIT",
        "attribution": (
            "Filighera, Parihar, Steuer, Meuser and Ochs (2022), Your Answer is Incorrect... Would you like "
            "to know why? Introducing a Bilingual Short Answer Feedback Dataset. ACL 2022. "
            "Copyright (c) 2021 Sebastian Ochs, Anna Filighera (MIT licence)."
        ),
    }
    return _document(course, units, skills, questions, []), history


# --------------------------------------------------------------- data-structures (Mohler)


def _mohler_verdict(score: float, max_score: float) -> str:
    # A demo mapping (the dataset documents no labels): full marks, nothing, or in between.
    if score >= max_score:
        return "correct"
    if score <= 0:
        return "incorrect"
    return "partially_correct"


def build_data_structures(mohler_csv: Path) -> tuple[dict, list[dict]]:
    rows = asag.read_mohler(mohler_csv)
    by_question: dict[str, list[GradedAnswer]] = defaultdict(list)
    for row in rows:
        by_question[row.question_id].append(row)
    assignments = sorted({int(r.extra["assignment"]) for r in rows})
    units, skills, questions, history = [], [], [], []
    for order, number in enumerate(assignments, start=1):
        unit_id = f"a{number}"
        title = f"Assignment {number}" if number <= 10 else f"Exam {number - 10}"
        units.append({"id": unit_id, "order": order, "title": title})
        skills.append({"slug": unit_id, "name": title, "description": "", "unit": unit_id, "prerequisites": []})
        ids = sorted((q for q in by_question if q.split(".")[0] == str(number)), key=_question_number)
        for q_order, question_id in enumerate(ids, start=1):
            answers = by_question[question_id]
            first = answers[0]
            questions.append(
                _question(
                    external_id=question_id, unit=unit_id, order=q_order, prompt=first.question, max_points=5.0,
                    references=[(f"{question_id}-a1", first.reference_answers[0])],
                )
            )
            for row in answers:
                # No student ids (removed for privacy): the z-th answers of an assignment form one pseudonym.
                position = int(row.answer_id.rsplit(".", 1)[-1])
                history.append(
                    _history_row(
                        row,
                        student=f"ds-a{number:02d}-s{position + 1:02d}",
                        unit_order=order,
                        score=row.score,
                        verdict=_mohler_verdict(row.score, 5.0),
                    )
                )
    course = {
        "slug": "data-structures",
        "title": "Data Structures",
        "description": (
            "An introductory computer science / data structures course at the University of North "
            "Texas: ten assignments and two exams of short-answer questions, each answer scored 0-5 "
            "(the average of two graders)."
        ),
        "source": (
            "UNT Computer Science Short Answer Dataset v2.0 (Mohler, Bunescu and Mihalcea 2011), flat CSV "
            "mohler_dataset_edited.csv from dbbrandt/short_answer_granding_capstone_project @ c240cee6 "
            "(questions marked # in docs/files dropped; the CSV numbers v2.0's 11.10 and 12.10 as 11.11 "
            "and 12.11)."
        ),
        "source_url": "http://lit.csci.unt.edu/index.php/Downloads",
        "licence": "Original UNT release terms (research use)",
        "attribution": (
            "Michael Mohler, Razvan Bunescu and Rada Mihalcea (2011), Learning to Grade Short Answer "
            "Questions using Semantic Similarity Measures and Dependency Graph Alignments. ACL HLT 2011."
        ),
    }
    return _document(course, units, skills, questions, []), history


# --------------------------------------------------------------- the whole data/ folder


@dataclass
class BuildReport:
    files: dict[str, int] = field(default_factory=dict)  # path -> rows or bytes

    def add(self, path: Path, count: int) -> None:
        self.files[str(path.relative_to(DATA_DIR))] = count


def build_demo_data(*, shared: Path, out: Path = DATA_DIR, log: Callable[[str], None] = print) -> BuildReport:
    """Regenerate everything under ``data/`` from the original datasets in ``shared``."""
    shared = Path(shared)
    report = BuildReport()
    asag_root = shared / "asag"
    semeval_dir = asag_root / "semeval2013-3way"
    saf_dir = asag_root / "saf"
    mohler_csv = asag_root / "mohler-v2.0" / "mohler_dataset_edited.csv"
    book_dir = shared / "content" / "openstax-intro-python"

    # Normalised copies of every visible split, for training the grader.
    semeval_rows = asag.read_semeval(semeval_dir / "training") + asag.read_semeval(semeval_dir / "testing")
    saf_rows = asag.read_saf(saf_dir / "training") + asag.read_saf(saf_dir / "unseen_answers")
    mohler_rows = asag.read_mohler(mohler_csv)
    for name, rows in (("semeval", semeval_rows), ("saf", saf_rows), ("mohler", mohler_rows)):
        path = out / "asag" / f"{name}.jsonl.gz"
        report.add(path, asag.write_jsonl_gz(rows, path))
        log(f"{path.relative_to(out)}: {len(rows)} answers")

    built = {
        "intro-python": (build_intro_python(book_dir), None),
        "physical-science": build_physical_science(semeval_dir),
        "computer-networks": build_computer_networks(saf_dir),
        "data-structures": build_data_structures(mohler_csv),
    }
    (out / "demo").mkdir(parents=True, exist_ok=True)
    for slug, (document, history) in built.items():
        path = out / "demo" / f"{slug}.course.json.gz"
        write_document(document, path)
        report.add(path, len(document["questions"]) + len(document["resources"]))
        log(f"{path.relative_to(out)}: {len(document['units'])} units, {len(document['skills'])} skills, "
            f"{len(document['questions'])} questions, {len(document['resources'])} resources")
        history_path = out / "demo" / f"{slug}.history.jsonl.gz"
        if history:
            report.add(history_path, _gz_jsonl_write(history, history_path))
            log(f"{history_path.relative_to(out)}: {len(history)} graded answers")
        elif history_path.exists():
            history_path.unlink()

    # Licence texts that come with the originals, kept beside the copies.
    licences = out / "licences"
    licences.mkdir(parents=True, exist_ok=True)
    for source, target in (
        (book_dir / "LICENSE", licences / "openstax-intro-python.LICENSE"),
        (book_dir / "README.md", licences / "openstax-intro-python.README.md"),
        (saf_dir / "LICENSE", licences / "saf.LICENSE"),
        (asag_root / "mohler-v2.0" / "README", licences / "mohler-v2.0.README"),
    ):
        if source.exists():
            shutil.copyfile(source, target)
            report.add(target, target.stat().st_size)
    return report


# =============================================================== loading data/ into the database


def _user_model():
    return get_user_model()


def _ensure_user(*, username: str, password: str, superuser: bool = False) -> tuple[object, bool]:
    User = _user_model()
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User(username=username, email=f"{username}@example.org", is_staff=superuser, is_superuser=superuser)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user, True


def _ensure_enrollment(*, user, course: Course, role: str) -> None:
    enrollment = Enrollment.objects.filter(user=user, course=course).first()
    if enrollment is None:
        enrollment = Enrollment(user=user, course=course, role=role)
        enrollment.full_clean()
        enrollment.save()


@dataclass
class LoadReport:
    courses: dict[str, dict] = field(default_factory=dict)
    credentials: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, role
    seconds: float = 0.0


@transaction.atomic
def load_demo(*, only: Iterable[str] | None = None, data_dir: Path = DATA_DIR) -> LoadReport:
    """Import the demo courses, their historical answers and the demo people (idempotent)."""
    from student_model.history import import_history  # the student model builds on the domain

    started = time.perf_counter()
    slugs = list(only) if only else list(SLUGS)
    unknown = [s for s in slugs if s not in SLUGS]
    if unknown:
        raise ValueError(f"Unknown demo course(s): {', '.join(unknown)}; choose from {', '.join(SLUGS)}")
    report = LoadReport()

    admin, _ = _ensure_user(username=ADMIN[0], password=ADMIN[1], superuser=True)
    report.credentials.append((ADMIN[0], ADMIN[1], "administrator"))
    students = [_ensure_user(username=name, password=STUDENT_PASSWORD)[0] for name in STUDENTS]

    for slug in slugs:
        document = load_document(Path(data_dir) / "demo" / f"{slug}.course.json.gz")
        course = import_course(document=document)
        teacher, _ = _ensure_user(username=TEACHERS[slug], password=TEACHER_PASSWORD)
        _ensure_enrollment(user=teacher, course=course, role=Enrollment.Role.TEACHER)
        report.credentials.append((TEACHERS[slug], TEACHER_PASSWORD, f"teacher of {slug}"))
        for student in students:
            _ensure_enrollment(user=student, course=course, role=Enrollment.Role.STUDENT)
        history_path = Path(data_dir) / "demo" / f"{slug}.history.jsonl.gz"
        imported = import_history(course=course, rows=read_history(history_path)) if history_path.exists() else None
        report.courses[slug] = {
            "title": course.title,
            "questions": course.questions.count(),
            "resources": course.resources.count(),
            "history": imported,
        }
    for name in STUDENTS:
        report.credentials.append((name, STUDENT_PASSWORD, "student in " + ", ".join(slugs)))
    report.seconds = time.perf_counter() - started
    return report

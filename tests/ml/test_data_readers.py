"""The dataset readers on the real files (skipped where ../shared/data is absent)."""

from collections import Counter

import pytest

from tutor.ml.data import asag, openstax

from tests.paths import SHARED_DATA as SHARED
ASAG = SHARED / "asag"
pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason="the original datasets (../shared/data) are not on this machine"
)


def _counts(rows):
    return Counter((r.subset, r.split) for r in rows), Counter((r.subset, r.split, r.question_id) for r in rows)


def test_semeval_counts_match_the_release():
    rows = asag.read_dataset("semeval", ASAG / "semeval2013-3way")
    answers, questions = _counts(rows)
    assert answers == {
        ("sciEntsBank", "train"): 4969,
        ("sciEntsBank", "unseen_answers"): 540,
        ("beetle", "train"): 3941,
        ("beetle", "unseen_answers"): 439,
    }
    per_split = Counter(key[:2] for key in questions)
    assert per_split[("sciEntsBank", "train")] == 135
    assert per_split[("beetle", "train")] == 47
    assert {r.label for r in rows} == {"correct", "contradictory", "incorrect"}
    assert all(r.answer and r.question and r.reference_answers for r in rows)


def test_semeval_details_of_one_question():
    rows = asag.read_semeval(ASAG / "semeval2013-3way/training/sciEntsBank/ME-post-65a.xml")
    first = rows[0]
    assert (first.subset, first.split, first.question_id) == ("sciEntsBank", "train", "ME_65a")
    assert first.answer_id == "ME.65a.101.1" and first.student_id == "ME-101"
    assert first.reference_answers == ("If the middle bulb burns out the other 2 bulbs will stay lit.",)
    assert first.label == "correct" and first.answer == "The other 2 will still light."


def test_beetle_keeps_best_and_good_references_and_subject_ids():
    rows = asag.read_semeval(ASAG / "semeval2013-3way/training/beetle/FaultFinding-BULB_C_VOLTAGE_EXPLAIN_WHY1.xml")
    assert rows[0].reference_answers == (
        "Terminal 1 and the positive terminal are separated by the gap",
        "Terminal 1 and the positive terminal are not connected",
    )
    assert rows[0].student_id == "sbj3"
    assert rows[0].split == "train" and rows[0].subset == "beetle"


def test_saf_counts_scores_labels_and_feedback():
    rows = asag.read_dataset("saf", ASAG / "saf")
    answers, questions = _counts(rows)
    assert answers[("english", "train")] == 1476
    assert answers[("english", "unseen_answers")] == 252
    assert answers[("german", "train")] == 1534
    assert answers[("german", "unseen_answers")] == 271
    assert Counter(k[:2] for k in questions)[("english", "train")] == 18
    assert {r.label for r in rows} == {"correct", "partially_correct", "incorrect"}
    assert all(r.max_score == 1.0 and 0 <= r.score <= 1.0 for r in rows)
    assert all(r.feedback for r in rows)
    # Two LM files carry the same id attribute: ids come from the file names instead.
    assert {"4.2_LM", "4.3_LM"} <= {r.question_id for r in rows}
    correct = [r for r in rows if r.label == "correct"]
    assert all(r.score == 1.0 for r in correct)


def test_saf_keeps_text_inside_markup():
    rows = asag.read_saf(ASAG / "saf/training/english/2.1_DLL.xml")
    assert any(r.answer.startswith("The three service classes are") for r in rows)


def test_mohler_counts_and_scores():
    rows = asag.read_dataset("mohler", ASAG / "mohler-v2.0/mohler_dataset_edited.csv")
    assert len(rows) == 2273
    assert len({r.question_id for r in rows}) == 81
    assert all(r.max_score == 5.0 and 0 <= r.score <= 5 for r in rows)
    assert {r.label for r in rows} == {""}
    assert rows[0].answer_id == "1.1.0" and rows[0].score == 3.5


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="semeval"):
        asag.read_dataset("csv", ASAG)


def test_jsonl_round_trip(tmp_path):
    rows = asag.read_saf(ASAG / "saf/unseen_answers/english/10.1_TC.xml")
    path = tmp_path / "rows.jsonl.gz"
    assert asag.write_jsonl_gz(rows, path) == len(rows)
    assert asag.read_jsonl_gz(path) == rows
    assert asag.read_jsonl_gz(path)[0].extra == rows[0].extra


def test_openstax_module_to_markdown():
    module = openstax.read_module(SHARED / "content/openstax-intro-python/modules/m00011")
    assert module.id == "m00011" and module.title == "The Python shell"
    assert [(s.id, s.title) for s in module.sections][:3] == [
        ("sect-00001", "Learning objectives"),
        ("sect-00002", "The interpreter"),
        ("sect-00003", "The arrow keys"),
    ]
    assert "## The interpreter" in module.markdown
    assert "The Python **interpreter** translates" in module.markdown
    assert "1. **R**ead/input some code" in module.markdown
    assert module.objectives[0].startswith("Use a Python shell")
    assert "os-embed" not in module.markdown and "<" not in module.markdown.replace("<=", "")


def test_openstax_code_blocks_and_book_order():
    module = openstax.read_module(SHARED / "content/openstax-intro-python/modules/m00002")
    assert '```python\nprint("Hello, World!")\n```' in module.markdown
    assert 'song = input()\nprint("Cool!' in module.markdown  # <newline/> gives one line break
    book = openstax.read_book(SHARED / "content/openstax-intro-python")
    chapters = [c for c in book.chapters if c.number]
    assert [c.title for c in chapters[:3]] == ["Statements", "Expressions", "Objects"]
    assert len(chapters) == 15
    assert chapters[1].modules[1].id == "m00011"

from pathlib import Path

import numpy as np
import pytest

from tutor.ml.tracing.data import KTFormatError, StudentSequence, parse_kt, read_kt, split_train_valid

DATA = Path(__file__).resolve().parents[3] / "data" / "kt"


def test_dkvmn_inline_with_blank_lines_and_trailing_commas():
    text = "3\n5,7,5\n1,0,1\n\n\n2\n7,7,\n0,1,\n"
    seqs = parse_kt(text, "dkvmn")
    assert [s.pairs() for s in seqs] == [[(5, 1), (7, 0), (5, 1)], [(7, 0), (7, 1)]]


def test_dkt_inline_zero_based_ids_and_trailing_commas():
    text = "1\n0,\n1,\n4\n82,82,3,0,\n0,0,1,1,\n"
    seqs = parse_kt(text, "dkt")
    assert seqs[0].pairs() == [(0, 1)]
    assert seqs[1].skills.tolist() == [82, 82, 3, 0]
    assert seqs[1].correct.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize(
    "text, message",
    [
        ("3\n1,2\n1,0\n", "header says 3 attempts"),
        ("2\n1,2\n1,2\n", "must be 0 or 1"),
        ("2\n1,x\n1,0\n", "comma-separated integers"),
        ("1,2\n1,2\n1,0\n", "number of attempts"),
        ("2\n1,2\n", "cut short"),
    ],
)
def test_malformed_input_says_where(text, message):
    with pytest.raises(KTFormatError, match=message):
        parse_kt(text, "dkvmn", source="x.csv")


def test_unknown_format_is_rejected():
    with pytest.raises(KTFormatError, match="unknown format"):
        parse_kt("1\n1\n1\n", "csv")


def test_real_gzipped_fold_file():
    seqs = read_kt(DATA / "STATICS" / "STATICS_valid1.csv.gz", "dkvmn")
    assert len(seqs) == 36  # 108 lines / 3
    assert all(len(s) == len(s.correct) > 0 for s in seqs)
    ids = np.concatenate([s.skills for s in seqs])
    assert ids.min() >= 1 and ids.max() <= 1223


def test_real_dkt_builder_file():
    seqs = read_kt(DATA / "assist2009-dkt-builder" / "builder_train.csv.gz", "dkt")
    assert len(seqs) == 3361
    assert sum(len(s) for s in seqs) == 407967
    assert min(int(s.skills.min()) for s in seqs) == 0


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_kt(tmp_path / "nope.csv")


def test_split_keeps_whole_students_apart():
    seqs = [StudentSequence.from_pairs([(i, 1)]) for i in range(10)]
    train, valid = split_train_valid(seqs, valid_fraction=0.3, seed=1)
    assert len(valid) == 3 and len(train) == 7
    assert not {id(s) for s in train} & {id(s) for s in valid}

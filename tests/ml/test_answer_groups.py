"""Grouping answers by meaning: synthetic vectors for the mechanics, real MiniLM for paraphrases."""

import numpy as np

from tutor.ml.answer_groups import GroupingConfig, group_answers


def test_near_vectors_group_together_and_an_outlier_stays_alone():
    vectors = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.99, 0.05, 0.0], [0.98, 0.0, 0.1], [0.0, 0.0, 1.0]])
    groups = group_answers(vectors, GroupingConfig(distance_threshold=0.1))
    assert set(groups[0].members) == {0, 2, 3}
    assert sorted(g.members for g in groups[1:]) == [(1,), (4,)]
    assert groups[0].representative == groups[0].members[0] and groups[0].size == 3


def test_threshold_controls_how_much_is_merged():
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    assert len(group_answers(vectors, GroupingConfig(distance_threshold=0.01))) == 3
    assert len(group_answers(vectors, GroupingConfig(distance_threshold=2.0))) == 1


def test_empty_and_single_inputs():
    assert group_answers(np.zeros((0, 4))) == []
    (only,) = group_answers(np.ones((1, 4)))
    assert only.members == (0,) and only.representative == 0


def test_real_paraphrases_share_a_group():
    from tutor.ml.retrieval.embedder import get_embedder

    answers = [
        "The water evaporates and the salt is left behind.",
        "Evaporate the water; the salt stays behind.",
        "I let the water evaporate so the salt was left.",
        "Use a magnet to pull out the iron filings.",
    ]
    groups = group_answers(get_embedder().encode(answers))
    by_member = {m: g for g in groups for m in g.members}
    assert by_member[0] is by_member[1] is by_member[2]
    assert by_member[3] is not by_member[0]

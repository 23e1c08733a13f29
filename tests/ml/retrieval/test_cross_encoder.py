"""The tutor's cross-encoder re-ranker, trained for real (a few steps) on real OpenStax readings."""

import json
from dataclasses import replace

import numpy as np
import pytest

from tests.ml.retrieval.book import SHELL
from tutor.ml.retrieval.cross_encoder import (
    CrossEncoderReranker,
    CrossEncoderScorer,
    RerankerConfig,
    is_reranker,
    train_reranker,
    train_reranker_if_better,
    training_examples,
)

TINY = RerankerConfig(epochs=3, max_queries=12, negatives=3, max_length=96, serve_max_length=96, rank=4, alpha=8, lr=2e-3, head_lr=5e-3)


def test_examples_come_from_the_readings_with_negatives_from_other_readings(small_engine, small_course):
    index = small_engine.index
    examples = training_examples(index, small_course, RerankerConfig())
    kinds = {e.kind for e in examples}
    assert kinds == {"objective", "heading", "term"}
    by_query = {e.query: e for e in examples}
    shell_positive = by_query["Explain the function of the up and down arrow keyboard shortcuts."].positive
    assert index.passages[shell_positive].external_id == SHELL
    assert index.passages[by_query["REPL"].positive].external_id == SHELL  # a bold term of the shell module
    for e in examples:
        own = index.passages[e.positive].external_id
        assert e.negatives and all(index.passages[n].external_id != own for n in e.negatives)
        assert not e.query.startswith("By the end of this section")


@pytest.fixture(scope="module")
def trained(small_engine, small_course, tmp_path_factory):
    directory = tmp_path_factory.mktemp("reranker")
    summary = train_reranker(small_engine.index, small_course, save_to=directory, config=TINY, progress=False)
    return directory, summary


@pytest.mark.slow
def test_training_lowers_the_loss_and_saves_a_small_adapter(trained):
    directory, summary = trained
    assert summary["examples"] == 12
    assert summary["loss_last_epoch"] < summary["loss_first_epoch"]
    assert is_reranker(directory)
    size = sum(f.stat().st_size for f in directory.iterdir())
    assert size < 3_000_000  # LoRA + head, not a copy of MiniLM
    assert json.loads((directory / "reranker.json").read_text())["config"]["rank"] == 4


@pytest.mark.slow
def test_the_trained_scorer_ranks_its_training_positives_first(trained, small_engine, small_course):
    directory, _ = trained
    index = small_engine.index
    examples = training_examples(index, small_course, TINY)
    assert len(examples) == 12

    def wins(scorer) -> int:  # chance: 1 in 4 (a positive and 3 negatives)
        return sum(
            int(np.argmax(scorer.score(e.query, [index.passages[i].embedding_text for i in (e.positive, *e.negatives)])) == 0)
            for e in examples
        )

    fp32 = wins(CrossEncoderScorer.load(directory, int8=False))
    assert fp32 >= 9
    assert abs(wins(CrossEncoderScorer.load(directory, int8=True)) - fp32) <= 2  # int8 serving ranks alike


@pytest.mark.slow
def test_reranker_rescores_only_the_top_candidates_when_it_can_change_the_first_reading(trained, small_engine):
    directory, _ = trained
    index = small_engine.index
    question = "What does REPL stand for?"
    close = [replace(h, score=1.0 - 0.001 * i) for i, h in enumerate(index.search(question, k=10))]
    scorer = CrossEncoderScorer.load(directory)
    reranked = CrossEncoderReranker(scorer, top_n=4, weight=1.0).rerank(question, None, close, index)
    assert [id(h.passage) for h in reranked[4:]] == [id(h.passage) for h in close[4:]]
    assert {id(h.passage) for h in reranked[:4]} == {id(h.passage) for h in close[:4]}
    for before in close[:4]:
        after = next(h for h in reranked if h.passage is before.passage)
        assert before.score < after.score <= before.score + 1.0

    # a first reading ahead of every other reading by the weight or more cannot be overtaken: no scoring
    calls = []
    scorer.score = lambda q, texts: calls.append(q) or np.zeros(len(texts))
    first = close[0]
    second = next(h for h in close if h.passage.external_id != first.passage.external_id)
    rest = [h for h in close if h is not first and h is not second]
    lead = [replace(first, score=1.2), replace(second, score=1.0)] + [replace(h, score=0.9 - 0.001 * i) for i, h in enumerate(rest)]
    assert CrossEncoderReranker(scorer, top_n=4, weight=0.1).rerank(question, None, lead, index) == lead
    assert calls == []
    CrossEncoderReranker(scorer, top_n=4, weight=0.5).rerank(question, None, lead, index)
    assert calls == [question]
    assert CrossEncoderReranker(scorer, top_n=4).rerank(question, None, close[:1], index) == close[:1]


@pytest.mark.slow
def test_a_reranker_is_kept_only_if_it_beats_the_engine_as_it_is(small_course, embedder, tmp_path):
    questions = [
        {"q": "What does REPL stand for?", "gold": [SHELL]},
        {"q": "how do the arrow keys work in the shell", "gold": [SHELL]},
        {"q": "how do i make a list", "gold": ["m00024"]},
    ]
    report = train_reranker_if_better(
        small_course, questions, save_to=tmp_path / "kept", embedder=embedder, config=TINY, progress=False
    )
    better = (report["with"]["mrr"], report["with"]["hit_at_1"]) > (report["before"]["mrr"], report["before"]["hit_at_1"])
    assert report["kept"] == better
    assert is_reranker(tmp_path / "kept") == better
    if better:
        meta = json.loads((tmp_path / "kept" / "reranker.json").read_text())
        assert meta["evaluation"]["with"] == report["with"]

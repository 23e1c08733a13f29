"""Is the argmax the grader's best decision rule for macro-F1? And does averaging its weights with an
earlier version's help?

    .venv/bin/python benchmarks/decision_bias.py [--model DIR] [--interpolate-with DIR] [--threads 2]

Macro-F1 rewards the rare verdict (SemEval's ``contradictory``) more than the argmax of calibrated
probabilities does, so a constant added to each verdict's log-probability can raise it. The biases
(``correct`` fixed at 0, the other two on a 0.1 grid in [-1.5, 1.5]) are fitted on the version's SemEval
validation questions, which it was never trained on, then applied to SciEntsBank and Beetle unseen
answers (PyTorch fp32, the cross-encoder alone). ``oracle`` is the best bias fitted on the split itself:
the ceiling of any such rule, not a result.

``--interpolate-with DIR`` also grades with the weights ``a·model + (1-a)·other`` (a model soup of two
versions of one lineage, e.g. grader-minilm-v3 and the v2 it was trained from; served with the first
version's config) for a = 1 (the version itself), 0, 0.5 and 1.3 (1.3 extrapolates along the last
epoch), by argmax macro-F1 on the validation questions and the unseen answers, SAF English included.
Prints one JSON object. Measured once (session 18): ``--model var/models/grader/grader-minilm-v3
--interpolate-with var/models/grader/grader-minilm-v2``, about 3.5 min on 2 cores.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _grading_data import load_split, version_dir  # noqa: E402

SPLITS = ("sciEntsBank_unseen_answers", "beetle_unseen_answers")
SOUP_SPLITS = SPLITS + ("saf_english_unseen_answers",)
GRID = [round(-1.5 + 0.1 * step, 1) for step in range(31)]
ALPHAS = (0.0, 0.5, 1.3)


def main() -> None:
    import numpy as np
    import torch
    from sklearn.metrics import f1_score

    from tutor.ml.grading.calibration import masked
    from tutor.ml.grading.config import DATASET_LABELS, LABELS, trained_truncation
    from tutor.ml.grading.dataset import label_mask, make_pairs
    from tutor.ml.grading.inference import forward_pairs
    from tutor.ml.grading.model import load_model, read_config
    from tutor.ml.grading.pipeline import version_split

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="version directory (default: the newest under MODEL_DIR/grader)")
    parser.add_argument("--interpolate-with", help="an earlier version's directory to average weights with")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = version_dir(args.model)
    config = read_config(path)
    model, tokenizer, _ = load_model(path)
    model.eval()

    def log_probs(items):
        """Calibrated log-probabilities over the items' source's verdicts (others at -inf)."""
        allowed = torch.tensor(label_mask(DATASET_LABELS[items[0].dataset]))
        pairs = make_pairs(items, references="best_overlap", sep=tokenizer.sep_token)
        logits, _ = forward_pairs(model, tokenizer, pairs, batch_size=32, max_length=config["max_length"],
                                  truncation=trained_truncation(config))
        return torch.log_softmax(masked(logits, allowed) / config.get("temperature", 1.0), dim=-1).numpy()

    semeval = [LABELS.index(label) for label in LABELS if label in DATASET_LABELS["semeval"]]

    def macro_f1(scores, truth, bias):
        predicted = np.array(semeval)[(scores[:, semeval] + bias).argmax(1)]
        return float(f1_score(truth, predicted, average="macro", labels=semeval))

    def best_bias(scores, truth):
        candidates = (np.array([0.0, a, b]) for a in GRID for b in GRID)
        return max(candidates, key=lambda bias: macro_f1(scores, truth, bias))

    _, validation = version_split(path, data_dir=ROOT / "data" / "asag")
    sets = {"validation_semeval": [item for item in validation if item.dataset == "semeval"],
            "validation_saf": [item for item in validation if item.dataset == "saf"],
            **{name: load_split(name) for name in SOUP_SPLITS}}
    truth_of = {name: [LABELS.index(item.label) for item in items] for name, items in sets.items()}
    own_scores = {}

    def scores_of(name):
        """The version's own log-probabilities on a set, computed once (the bias fit and the soup's a = 1)."""
        if name not in own_scores:
            own_scores[name] = log_probs(sets[name])
        return own_scores[name]

    validation_scores = scores_of("validation_semeval")
    truth = truth_of["validation_semeval"]
    bias = best_bias(validation_scores, truth)
    report = {"model": path.name, "verdicts": [LABELS[index] for index in semeval],
              "validation": {"n": len(truth), "argmax": round(macro_f1(validation_scores, truth, 0), 4),
                             "biased": round(macro_f1(validation_scores, truth, bias), 4),
                             "bias": bias.round(1).tolist()},
              "splits": {}}
    for name in SPLITS:
        scores, truth = scores_of(name), truth_of[name]
        oracle = best_bias(scores, truth)
        report["splits"][name] = {"n": len(truth), "argmax": round(macro_f1(scores, truth, 0), 4),
                                  "validation_bias": round(macro_f1(scores, truth, bias), 4),
                                  "oracle": round(macro_f1(scores, truth, oracle), 4), "oracle_bias": oracle.round(1).tolist()}

    if args.interpolate_with:
        own_weights = {key: value.clone() for key, value in model.state_dict().items()}
        other = load_model(Path(args.interpolate_with))[0].state_dict()
        report["interpolate_with"] = Path(args.interpolate_with).name
        report["soup"] = {}
        report["soup"]["1.0"] = {name: round(float(f1_score(truth_of[name], scores_of(name).argmax(1), average="macro")), 4)
                                 for name in sets}
        for alpha in ALPHAS:
            model.load_state_dict({key: alpha * value + (1 - alpha) * other[key] if value.is_floating_point() else value
                                   for key, value in own_weights.items()})
            report["soup"][str(alpha)] = {
                name: round(float(f1_score(truth_of[name], log_probs(items).argmax(1), average="macro")), 4)
                for name, items in sets.items()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

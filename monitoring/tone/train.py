"""Fit the learned layer on the dev split and write monitoring/tone/data/learned.json.

    python -m monitoring.tone.train            # fit on dev.jsonl, write the weights
    python -m monitoring.tone.train --cv       # also print 5-fold cross-validated accuracy on dev
    python -m monitoring.tone.train --check    # fit again and compare with the shipped file

Needs scikit-learn (requirements-dev.txt); the judge itself never imports it. Deterministic: the same
dev split gives the same file, byte for byte. Only the dev split is read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from monitoring.tone import learned as ln
from monitoring.tone.core import decide, rule_findings
from monitoring.tone.split import DEV

C = 0.05  # inverse regularisation strength, chosen by 5-fold cross-validation on dev (docs/tone.md)
CLASS_WEIGHT = {0: 1.3, 1: 1.0}  # a warm reply flagged costs more than a curt one missed
DIGITS = 5


def load_dev(path: Path = DEV) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def row_features(row: dict[str, Any]) -> dict[str, float]:
    f = rule_findings(row["customer"], row["reply"])
    return ln.features(f.info, f.reply, f.codes, len(f.unanswered))


def fit(rows: list[dict[str, Any]], c: float = C) -> tuple[Any, Any]:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer(sort=True)
    x = vec.fit_transform([row_features(r) for r in rows])
    y = [int(r["terse"]) for r in rows]
    model = LogisticRegression(C=c, solver="liblinear", class_weight=CLASS_WEIGHT, max_iter=1000, random_state=0)
    model.fit(x, y)
    return vec, model


def weights_document(rows: list[dict[str, Any]], dev_text: bytes, c: float = C) -> dict[str, Any]:
    vec, model = fit(rows, c)
    dense: dict[str, float] = {}
    grams: dict[str, float] = {}
    for name, w in zip(vec.feature_names_, model.coef_[0], strict=True):
        w = round(float(w), DIGITS)
        if w == 0.0:
            continue
        kind, key = name.split(":", 1)
        if kind == "d":
            dense[key] = round(float(w) * ln.DENSE_SCALE, DIGITS)
        else:
            grams[key] = w
    return {
        "feature_version": ln.FEATURE_VERSION,
        "bias": round(float(model.intercept_[0]), DIGITS),
        "meta": {
            "trained_on": "monitoring/tone/data/dev.jsonl",
            "dev_sha256": hashlib.sha256(dev_text).hexdigest(),
            "rows": len(rows),
            "C": c,
            "class_weight": {str(k): v for k, v in CLASS_WEIGHT.items()},
            "model": "sklearn LogisticRegression(solver=liblinear)",
        },
        "dense": dict(sorted(dense.items())),
        "grams": dict(sorted(grams.items())),
    }


def dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=0, sort_keys=False) + "\n"


def cross_validate(rows: list[dict[str, Any]], c: float = C, folds: int = 5) -> tuple[float, float]:
    """(accuracy, share of warm replies flagged) of the judge over stratified folds of dev, fixed seed."""
    from sklearn.model_selection import StratifiedKFold

    y = [int(r["terse"]) for r in rows]
    correct = fp = negatives = 0
    for train_idx, test_idx in StratifiedKFold(n_splits=folds, shuffle=True, random_state=16).split(rows, y):
        vec, model = fit([rows[i] for i in train_idx], c)
        x = vec.transform([row_features(rows[i]) for i in test_idx])
        for i, p in zip(test_idx, model.predict_proba(x)[:, 1], strict=True):
            # The judge's own decision: the layer's probability plus the rules' categorical cases.
            got = decide(rule_findings(rows[i]["customer"], rows[i]["reply"]), float(p))[1]
            correct += int(got == y[i])
            if not y[i]:
                negatives += 1
                fp += int(got)
    return correct / len(rows), fp / negatives


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cv", action="store_true", help="print 5-fold cross-validated figures on dev")
    parser.add_argument("--check", action="store_true", help="fit and compare with the shipped weights")
    parser.add_argument("-C", type=float, default=C, help="regularisation (default: the shipped value)")
    args = parser.parse_args()
    dev_text = DEV.read_bytes()
    rows = load_dev()
    if args.cv:
        acc, fpr = cross_validate(rows, args.C)
        print(f"5-fold CV on dev (C={args.C}): accuracy {acc:.3f}, warm flagged {fpr:.3f}")
    text = dump(weights_document(rows, dev_text, args.C))
    if args.check:
        same = ln.WEIGHTS_PATH.exists() and ln.WEIGHTS_PATH.read_text(encoding="utf-8") == text
        print("learned.json matches a fresh fit" if same else "learned.json differs from a fresh fit")
        sys.exit(0 if same else 1)
    ln.WEIGHTS_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {ln.WEIGHTS_PATH} from {len(rows)} dev rows")


if __name__ == "__main__":
    main()

"""Accuracy of the judge on the dev and holdout splits, with confusion matrices.

python -m monitoring.tone.evaluate              # both splits (and the holdout's new pairs on their own)
python -m monitoring.tone.evaluate --errors     # also list the misjudged DEV pairs
python -m monitoring.tone.evaluate --json       # the figures as JSON

Holdout rows are never printed: tune on dev, measure on holdout (monitoring/tone/data/README.md).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitoring.tone import judge
from monitoring.tone.split import DEV, HOLDOUT

SPLITS: dict[str, Path] = {"dev": DEV, "holdout": HOLDOUT}


@dataclass(frozen=True, slots=True)
class Metrics:
    n: int
    terse: int
    tp: int  # terse, flagged
    fn: int  # terse, missed
    fp: int  # not terse, flagged: a warm reply blamed wrongly
    tn: int  # not terse, passed
    errors: tuple[dict[str, Any], ...] = field(default=())

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0

    @property
    def false_positive_rate(self) -> float:
        """Share of warm (not terse) replies that are flagged."""
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else 0.0

    @property
    def false_negative_rate(self) -> float:
        positives = self.tp + self.fn
        return self.fn / positives if positives else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "terse": self.terse,
            "accuracy": round(self.accuracy, 3),
            "false_positive_rate": round(self.false_positive_rate, 3),
            "false_negative_rate": round(self.false_negative_rate, 3),
            "confusion": {"tp": self.tp, "fn": self.fn, "fp": self.fp, "tn": self.tn},
        }


def load(path: Path = DEV) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(rows: list[dict[str, Any]], *, keep_errors: bool = True) -> Metrics:
    """Score `rows`. With keep_errors=False (the holdout) no row is kept, so none can be shown."""
    tp = fn = fp = tn = 0
    errors: list[dict[str, Any]] = []
    for row in rows:
        got = judge(customer=row["customer"], reply=row["reply"]).terse
        if row["terse"]:
            tp += got
            fn += not got
        else:
            fp += got
            tn += not got
        if keep_errors and got != row["terse"]:
            codes = judge(customer=row["customer"], reply=row["reply"]).codes
            errors.append({**row, "got": got, "codes": list(codes)})
    return Metrics(n=len(rows), terse=tp + fn, tp=tp, fn=fn, fp=fp, tn=tn, errors=tuple(errors))


def report() -> dict[str, Metrics]:
    """The figures docs/tone.md quotes: dev, holdout, and the holdout's pairs written for issue 16."""
    dev = load(DEV)
    holdout = load(HOLDOUT)
    return {
        "dev": evaluate(dev),
        "holdout": evaluate(holdout, keep_errors=False),
        "holdout_new": evaluate([r for r in holdout if r["source"] == "i16"], keep_errors=False),
        "holdout_en": evaluate([r for r in holdout if r["lang"] == "en"], keep_errors=False),
    }


def format_table(results: dict[str, Metrics]) -> str:
    lines = [f"{'split':<12} {'n':>4} {'terse':>5} {'accuracy':>9} {'FPR':>6} {'FNR':>6}   TP  FN  FP  TN"]
    for name, m in results.items():
        lines.append(
            f"{name:<12} {m.n:>4} {m.terse:>5} {m.accuracy:>9.3f} {m.false_positive_rate:>6.3f} "
            f"{m.false_negative_rate:>6.3f}  {m.tp:>3} {m.fn:>3} {m.fp:>3} {m.tn:>3}"
        )
    return "\n".join(lines)


def format_errors(m: Metrics) -> str:
    lines = []
    for e in m.errors:
        label = "terse" if e["terse"] else "ok"
        lines.append(
            f"- [{e['id']}] expected {label}, got codes {e['codes']}: {e['customer']} -> {e['reply']!r} ({e['why']})"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--errors", action="store_true", help="list the misjudged dev pairs (never the holdout's)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = report()
    if args.json:
        print(json.dumps({name: m.as_dict() for name, m in results.items()}, indent=2))
    else:
        print(format_table(results))
    if args.errors:
        print(f"\ndev errors ({len(results['dev'].errors)}):")
        print(format_errors(results["dev"]))


if __name__ == "__main__":
    main()

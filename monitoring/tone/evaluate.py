"""Accuracy and false-positive rate of the judge on the labelled dev set.

python -m monitoring.tone.evaluate                 # both splits and the whole set
python -m monitoring.tone.evaluate --errors dev    # list the misjudged dev pairs (never tune on holdout)
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitoring.tone import judge

DEVSET = Path(__file__).resolve().parent / "data" / "devset.jsonl"


@dataclass(frozen=True, slots=True)
class Metrics:
    n: int
    terse: int
    accuracy: float
    false_positive_rate: float  # warm/adequate replies flagged terse, over all non-terse pairs
    false_negative_rate: float  # terse replies missed, over all terse pairs
    errors: tuple[dict[str, Any], ...]


def load(path: Path = DEVSET) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(rows: list[dict[str, Any]]) -> Metrics:
    correct = fp = fn = positives = 0
    errors: list[dict[str, Any]] = []
    for row in rows:
        verdict = judge(customer=row["customer"], reply=row["reply"])
        positives += row["terse"]
        if verdict.terse == row["terse"]:
            correct += 1
            continue
        if verdict.terse:
            fp += 1
        else:
            fn += 1
        errors.append({**row, "got": verdict.terse, "codes": list(verdict.codes)})
    negatives = len(rows) - positives
    return Metrics(
        n=len(rows),
        terse=positives,
        accuracy=correct / len(rows) if rows else 0.0,
        false_positive_rate=fp / negatives if negatives else 0.0,
        false_negative_rate=fn / positives if positives else 0.0,
        errors=tuple(errors),
    )


def split(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    if name == "all":
        return rows
    return [r for r in rows if r.get("split", "dev") == name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--errors", choices=["dev", "holdout", "all"], help="list misjudged pairs of a split")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    args = parser.parse_args()
    rows = load()
    result = {}
    for name in ("dev", "holdout", "all"):
        m = evaluate(split(rows, name))
        result[name] = {
            "n": m.n,
            "terse": m.terse,
            "accuracy": round(m.accuracy, 3),
            "false_positive_rate": round(m.false_positive_rate, 3),
            "false_negative_rate": round(m.false_negative_rate, 3),
        }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'split':<8} {'n':>4} {'terse':>5} {'accuracy':>9} {'FPR':>6} {'FNR':>6}")
        for name, r in result.items():
            print(
                f"{name:<8} {r['n']:>4} {r['terse']:>5} {r['accuracy']:>9.3f} "
                f"{r['false_positive_rate']:>6.3f} {r['false_negative_rate']:>6.3f}"
            )
    if args.errors:
        for e in evaluate(split(rows, args.errors)).errors:
            label = "terse" if e["terse"] else "ok"
            print(f"- expected {label}, got codes {e['codes']}: {e['customer']} -> {e['reply']!r} ({e['why']})")


if __name__ == "__main__":
    main()

"""Split the labelled pool ONCE into dev (tune on it) and holdout (measure only).

    python -m monitoring.tone.split            # refuses if the split files exist
    python -m monitoring.tone.split --check    # recomputes the split and compares it with the files

Random with a fixed seed, 70/30, stratified by source (first dev set or issue 16), language and label,
so each split has the same mix. The split was written and committed before any tuning on it; it is
never redrawn to get a better holdout figure.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from monitoring.tone.pool import DATA, POOL

SEED = 16_2026
HOLDOUT_SHARE = 0.3
DEV = DATA / "dev.jsonl"
HOLDOUT = DATA / "holdout.jsonl"


def load_pool(path: Path = POOL) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def split_rows(rows: list[dict[str, Any]], seed: int = SEED) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    strata: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
    for row in rows:
        strata.setdefault((row["source"], row["lang"], row["terse"]), []).append(row)
    holdout_ids: set[str] = set()
    for key in sorted(strata):
        members = sorted(strata[key], key=lambda r: r["id"])
        rng.shuffle(members)
        take = round(len(members) * HOLDOUT_SHARE)
        holdout_ids.update(r["id"] for r in members[:take])
    # Pool order is kept inside each split so diffs stay readable.
    dev = [r for r in rows if r["id"] not in holdout_ids]
    holdout = [r for r in rows if r["id"] in holdout_ids]
    return dev, holdout


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare the committed split with a recomputed one")
    args = parser.parse_args()
    dev, holdout = split_rows(load_pool())
    if args.check:
        same = DEV.read_text(encoding="utf-8") == "".join(
            json.dumps(r, ensure_ascii=False) + "\n" for r in dev
        ) and HOLDOUT.read_text(encoding="utf-8") == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in holdout)
        print("split matches the pool and seed" if same else "split differs from the pool and seed")
        sys.exit(0 if same else 1)
    if DEV.exists() or HOLDOUT.exists():
        sys.exit("the split exists already; it is made once (see data/README.md)")
    _write(DEV, dev)
    _write(HOLDOUT, holdout)
    print(f"dev {len(dev)}, holdout {len(holdout)} (seed {SEED})")


if __name__ == "__main__":
    main()

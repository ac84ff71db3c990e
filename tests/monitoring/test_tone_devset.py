"""The judge against the labelled dev set: accuracy and false-positive floors, and the set's own shape."""

from __future__ import annotations

from pathlib import Path

import monitoring.tone
from monitoring.tone.evaluate import DEVSET, evaluate, load, split

ROWS = load()


def test_the_devset_is_the_tone_modules_own_data() -> None:
    # Inside the package, so `python -m monitoring.tone.evaluate` works where tests/ is not
    # shipped (the Docker image leaves tests/ out).
    assert DEVSET.is_relative_to(Path(monitoring.tone.__file__).parent)
    assert DEVSET.is_file()


def test_devset_is_big_varied_and_well_formed() -> None:
    assert len(ROWS) >= 180
    for i, row in enumerate(ROWS):
        assert isinstance(row["customer"], list) and row["customer"], i
        assert all(isinstance(m, str) and m.strip() for m in row["customer"]), i
        assert isinstance(row["reply"], str), i
        assert isinstance(row["terse"], bool), i
        assert row["why"].strip(), i
        assert row["lang"] in {"id", "en"}, i
        # Every 5th line is held out from tuning.
        assert row["split"] == ("holdout" if i % 5 == 4 else "dev"), i
    terse_share = sum(r["terse"] for r in ROWS) / len(ROWS)
    english_share = sum(r["lang"] == "en" for r in ROWS) / len(ROWS)
    assert 0.45 <= terse_share <= 0.55
    assert 0.12 <= english_share <= 0.20


def test_accuracy_and_false_positive_rate_on_the_whole_set() -> None:
    m = evaluate(ROWS)
    print(f"\nwhole set: n={m.n} accuracy={m.accuracy:.3f} FPR={m.false_positive_rate:.3f}")
    assert m.accuracy >= 0.85
    assert m.false_positive_rate <= 0.10


def test_holdout_split_is_not_far_behind() -> None:
    m = evaluate(split(ROWS, "holdout"))
    print(f"\nholdout: n={m.n} accuracy={m.accuracy:.3f} FPR={m.false_positive_rate:.3f}")
    assert m.n >= 36
    assert m.accuracy >= 0.80
    assert m.false_positive_rate <= 0.15


def test_english_pairs_are_judged_too() -> None:
    m = evaluate([r for r in ROWS if r["lang"] == "en"])
    assert m.accuracy >= 0.80

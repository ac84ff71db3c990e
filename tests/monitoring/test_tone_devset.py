"""The tone judge's labelled data: the pool, the one split, the holdout figures, and holdout privacy."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import monitoring.tone
from monitoring.tone.evaluate import DEV, HOLDOUT, evaluate, format_errors, load
from monitoring.tone.pool import POOL, build
from monitoring.tone.split import load_pool, split_rows

ROOT = Path(__file__).resolve().parents[2]
POOL_ROWS = load_pool()
DEV_ROWS = load(DEV)
HOLDOUT_ROWS = load(HOLDOUT)

# The kinds issue 16 lists: the judge's misses, and the warm replies it used to flag.
ISSUE_KINDS = {
    "bare_ack_closing": True,
    "cold_complete": True,
    "redirect_open": True,
    "blame_defect": True,
    "template_ignores": True,
    "deflect_complaint_long": True,
    "safety_partial": True,
    "slang_warm": False,
    "closing_warm": False,
    "split_answer": False,
}


def test_the_data_is_the_tone_modules_own() -> None:
    # Inside the package, so `python -m monitoring.tone.evaluate` works where tests/ is not shipped.
    for path in (POOL, DEV, HOLDOUT):
        assert path.is_relative_to(Path(monitoring.tone.__file__).parent)
        assert path.is_file()


def test_pool_is_big_varied_and_well_formed() -> None:
    rows = POOL_ROWS
    assert len(rows) >= 800
    assert sum(r["lang"] == "en" for r in rows) >= 200
    assert 0.40 <= sum(r["terse"] for r in rows) / len(rows) <= 0.50
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        assert isinstance(r["customer"], list) and r["customer"], r["id"]
        assert all(isinstance(m, str) and m.strip() for m in r["customer"]), r["id"]
        assert isinstance(r["reply"], str) and r["reply"].strip(), r["id"]
        assert isinstance(r["terse"], bool) and r["why"].strip(), r["id"]
        assert r["lang"] in {"id", "en"} and r["source"] in {"v1", "i16"}, r["id"]
        if r["borderline"]:
            assert isinstance(r["label_pass2"], bool) and r["label_note"].strip(), r["id"]
            assert r["terse"] == r["label_pass2"], r["id"]
        else:
            assert r["label_pass2"] is None and r["terse"] == r["label_pass1"], r["id"]
        if "reply_parts" in r:
            assert len(r["reply_parts"]) > 1 and r["reply"] == "\n".join(r["reply_parts"]), r["id"]
    new = [r for r in rows if r["source"] == "i16"]
    assert {r["shop"] for r in new} >= {"fashion", "skincare", "food", "electronics", "services"}
    assert len({r["platform"] for r in new}) >= 6


def test_every_kind_the_issue_lists_is_covered_in_both_languages_and_labelled_its_way() -> None:
    by_kind = collections.defaultdict(list)
    for r in POOL_ROWS:
        by_kind[r["kind"]].append(r)
    for kind, terse in ISSUE_KINDS.items():
        rows = by_kind[kind]
        assert len(rows) >= 12, kind
        assert {r["lang"] for r in rows} == {"id", "en"}, kind
        # A kind is a kind of reply, so nearly all its pairs carry its label (borderline ones may not).
        assert sum(r["terse"] == terse for r in rows) >= 0.85 * len(rows), kind


def test_the_second_pass_was_done_and_its_agreement_is_what_the_readme_says() -> None:
    borderline = [r for r in POOL_ROWS if r["borderline"]]
    agree = sum(r["label_pass1"] == r["label_pass2"] for r in borderline)
    readme = (Path(monitoring.tone.__file__).parent / "data" / "README.md").read_text(encoding="utf-8")
    assert len(borderline) >= 60
    assert f"agreed on {agree} of {len(borderline)}" in readme


def test_the_pool_is_built_from_its_sources() -> None:
    assert build() == POOL_ROWS


def test_the_split_is_the_seeded_one_and_covers_the_pool_once() -> None:
    dev, holdout = split_rows(POOL_ROWS)
    assert dev == DEV_ROWS and holdout == HOLDOUT_ROWS
    dev_ids = {r["id"] for r in DEV_ROWS}
    holdout_ids = {r["id"] for r in HOLDOUT_ROWS}
    assert not dev_ids & holdout_ids
    assert dev_ids | holdout_ids == {r["id"] for r in POOL_ROWS}
    assert 0.28 <= len(HOLDOUT_ROWS) / len(POOL_ROWS) <= 0.32
    for rows in (DEV_ROWS, HOLDOUT_ROWS):
        assert 0.40 <= sum(r["terse"] for r in rows) / len(rows) <= 0.52
        assert 0.25 <= sum(r["lang"] == "en" for r in rows) / len(rows) <= 0.36


def test_the_split_is_made_once() -> None:
    before = HOLDOUT.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "monitoring.tone.split"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode != 0 and "made once" in done.stderr
    assert HOLDOUT.read_bytes() == before


def test_holdout_meets_the_goal() -> None:
    m = evaluate(HOLDOUT_ROWS, keep_errors=False)
    print(f"\nholdout: n={m.n} accuracy={m.accuracy:.3f} warm flagged={m.false_positive_rate:.3f}")
    assert m.n >= 240
    assert m.accuracy >= 0.95
    assert m.false_positive_rate <= 0.05


def test_holdout_english_pairs_are_judged_too() -> None:
    m = evaluate([r for r in HOLDOUT_ROWS if r["lang"] == "en"], keep_errors=False)
    assert m.accuracy >= 0.90


def test_dev_confusion_matrix_adds_up() -> None:
    m = evaluate(DEV_ROWS)
    assert m.tp + m.fn == m.terse == sum(r["terse"] for r in DEV_ROWS)
    assert m.tp + m.fn + m.fp + m.tn == m.n == len(DEV_ROWS)
    assert len(m.errors) == m.fn + m.fp


def test_holdout_metrics_keep_no_rows() -> None:
    assert evaluate(HOLDOUT_ROWS, keep_errors=False).errors == ()


def _run_evaluate(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "monitoring.tone.evaluate", *args], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout + done.stderr


def test_evaluate_never_prints_a_holdout_row() -> None:
    out = _run_evaluate("--errors") + _run_evaluate("--json") + _run_evaluate()
    # The check can see rows: the dev errors it lists are there by id.
    dev_errors = evaluate(DEV_ROWS).errors
    for e in dev_errors:
        assert f"[{e['id']}]" in out
    dev_texts = {r["reply"] for r in DEV_ROWS} | {m for r in DEV_ROWS for m in r["customer"]}
    for r in HOLDOUT_ROWS:
        assert f"[{r['id']}]" not in out and r["id"] not in out, r["id"]
        for text in (r["reply"], *r["customer"]):
            # Texts short or shared with a dev row ("ok") could appear for a dev row's sake.
            if len(text) >= 15 and text not in dev_texts:
                assert repr(text) not in out and json.dumps(text, ensure_ascii=False) not in out, r["id"]
                assert text not in out, r["id"]
    assert "holdout" in out  # its figures are printed, only its rows are not


def test_format_errors_names_each_dev_error() -> None:
    m = evaluate(DEV_ROWS)
    text = format_errors(m)
    assert text.count("\n") + 1 == len(m.errors) or not m.errors

"""The learned layer: the shipped weights load, match a fresh training run, and are summed as trained."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

from monitoring.tone import learned as ln
from monitoring.tone.core import LAYER, judge, rule_findings
from monitoring.tone.split import DEV, load_pool
from monitoring.tone.train import dump, fit, load_dev, row_features, weights_document

ROOT = Path(__file__).resolve().parents[2]


def test_the_weights_file_loads_and_was_trained_on_the_current_dev_split() -> None:
    weights = ln.load_weights()
    assert weights.dense and weights.grams
    assert weights.meta["trained_on"] == "monitoring/tone/data/dev.jsonl"
    assert weights.meta["dev_sha256"] == hashlib.sha256(DEV.read_bytes()).hexdigest()
    assert weights.meta["rows"] == len(load_dev())
    assert LAYER is not None  # the judge runs with it


def test_the_weights_file_matches_a_fresh_training_run() -> None:
    # Training is deterministic: the same dev split gives the same file, byte for byte.
    fresh = dump(weights_document(load_dev(), DEV.read_bytes()))
    assert ln.WEIGHTS_PATH.read_text(encoding="utf-8") == fresh


def test_the_run_time_sum_is_the_trained_models_decision_function() -> None:
    rows = load_dev()
    vec, model = fit(rows)
    decision = model.decision_function(vec.transform([row_features(r) for r in rows]))
    weights = ln.load_weights()
    for row, expected in zip(rows, decision, strict=True):
        f = rule_findings(row["customer"], row["reply"])
        got = ln.logit(weights, f.info, f.reply, f.codes, len(f.unanswered))
        # The shipped weights are rounded to 5 digits.
        assert math.isclose(got, float(expected), abs_tol=2e-3), row["id"]


def test_dense_sum_reads_the_same_flags_as_dense_flags() -> None:
    weights = ln.load_weights()
    for row in load_pool():
        f = rule_findings(row["customer"], row["reply"])
        flags = ln.dense_flags(f.info, f.reply, f.codes, len(f.unanswered))
        by_name = sum(weights.dense.get(name, 0.0) for name in flags)
        assert math.isclose(ln.dense_sum(weights, f.info, f.reply, f.codes, len(f.unanswered)), by_name, abs_tol=1e-9)
    named = {name for table in ln._DENSE_TABLES for name in table}
    assert {k for k in weights.dense if not k.startswith("code:")} <= named


def test_the_judge_never_imports_scikit_learn() -> None:
    script = (
        "import sys\nfrom monitoring.tone import judge\n"
        "judge(customer='kak ready?', reply='ready')\n"
        "print('sklearn' in sys.modules, 'numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_a_weights_file_of_another_feature_version_is_refused(tmp_path: Path) -> None:
    data = json.loads(ln.WEIGHTS_PATH.read_text(encoding="utf-8"))
    data["feature_version"] = ln.FEATURE_VERSION + 1
    path = tmp_path / "learned.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        ln.load_weights(path)
    except ValueError as exc:
        assert "feature version" in str(exc)
    else:
        raise AssertionError("an incompatible weights file was accepted")


def test_score_is_the_probability_and_terse_means_at_least_half() -> None:
    for customer, reply in (("kak ready?", "ready"), ("kak ready?", "Ready kak 😊 silakan diorder")):
        v = judge(customer=customer, reply=reply)
        assert 0.0 <= v.score <= 1.0
        assert v.terse == (v.score >= 0.5)


def test_a_verdict_of_the_layer_alone_still_has_a_stable_reason_code() -> None:
    v = judge(
        customer="Hi, did my payment go through?", reply="Payment confirmed. Shipping follows the queue.", language="en"
    )
    assert v.terse and v.codes == ("cold_tone",)
    assert v.reasons == ("a cold or stiff tone for what the customer wrote",)
    assert judge(
        customer="Hi, did my payment go through?", reply="Payment confirmed. Shipping follows the queue."
    ).reasons == ("nada dingin atau kaku untuk pesan pelanggan ini",)

"""Build the labelled pool (monitoring/tone/data/pool.jsonl) from its two sources.

    python -m monitoring.tone.pool

Sources: the 206 pairs of the first dev set (data/devset_v1.jsonl, labelled before the judge existed) and
the pairs written for issue 16 (data/written/*.tsv, one file per scenario). See data/README.md for the
format and how the labels and the second labelling pass were made. The pool is then split once by
`python -m monitoring.tone.split`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
V1 = DATA / "devset_v1.jsonl"
WRITTEN = DATA / "written"
POOL = DATA / "pool.jsonl"

SHOPS = frozenset({"fashion", "skincare", "food", "electronics", "services", "general"})
PLATFORMS = frozenset({"whatsapp", "instagram", "shopee", "tokopedia", "tiktok", "lazada", "messenger", "unknown"})
_LABELS = {"T": True, "N": False}

# The second pass over the first dev set's borderline pairs (line number -> final label, note). The
# first pass is the label the pair was written with. Issue 16 spells out that a bare "ok"/"k" to a
# thank-you or a "paying now" is terse; the first set had labelled some of those not terse.
V1_SECOND_PASS: dict[int, tuple[bool, str]] = {
    7: (True, "pass 2: bare 'ok' to 'ok makasih' is a bare token to a thank-you (issue 16's rule)"),
    131: (True, "pass 2: bare 'y' to a thank-you is a bare token without warmth"),
    175: (True, "pass 2: bare 'ok' to 'I'm checking out now' is like 'ok' to 'aku transfer sekarang'"),
    102: (False, "pass 2: mirrors the customer's own 'ok sip'; no thanks to answer; kept not terse"),
    88: (False, "pass 2: a thumbs-up to thanks is a friendly emoji, not a bare word; kept not terse"),
    66: (False, "pass 2: a 🙏 to a bare 'ok kak' is in proportion; kept"),
    40: (False, "pass 2: 'siap kak 🙏' to 'ditunggu ya' is short but warm; kept"),
    19: (True, "pass 2: 'iya?' to a bare 'kak' reads impatient; kept terse"),
    116: (True, "pass 2: 'ya' to 'kak?' is a bare token; kept terse"),
    146: (True, "pass 2: 'per pcs' answers but carries no warmth at all; kept terse"),
    167: (False, "pass 2: no greeting but answers fully with a friendly emoji; kept"),
    134: (False, "pass 2: the photo is the answer; warm; kept"),
    29: (False, "pass 2: apology for the wait and an offer to help; kept"),
}


def _parse_label(text: str) -> tuple[bool, bool | None, bool]:
    """(final, pass 2 or None, pass 1) from "T", "N" or "P1/P2" for a pair labelled twice."""
    if "/" in text:
        first, second = text.split("/")
        return _LABELS[second], _LABELS[second], _LABELS[first]
    return _LABELS[text], None, _LABELS[text]


def _parts(text: str) -> list[str]:
    return [p.strip() for p in text.split(" || ") if p.strip()]


def read_written(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    defaults: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            pairs = [w.split("=", 1) for w in line[1:].split() if "=" in w]
            if pairs:
                defaults.update({k: v for k, v in pairs})
            continue
        fields = line.split("\t")
        if len(fields) not in (5, 6):
            raise ValueError(f"{path.name}:{number}: expected 5 or 6 tab-separated fields, got {len(fields)}")
        label, kind, customer, reply, why = fields[:5]
        note = fields[5] if len(fields) == 6 else ""
        final, second, first = _parse_label(label)
        reply_parts = _parts(reply)
        row: dict[str, Any] = {
            "id": f"{path.stem}:{number}",
            "customer": _parts(customer),
            "reply": "\n".join(reply_parts),
            "terse": final,
            "why": why,
            "lang": defaults["lang"],
            "shop": defaults["shop"],
            "platform": defaults["plat"],
            "kind": kind,
            "source": "i16",
            "borderline": second is not None,
            "label_pass1": first,
            "label_pass2": second,
            "label_note": note,
        }
        if len(reply_parts) > 1:
            row["reply_parts"] = reply_parts
        if row["shop"] not in SHOPS or row["platform"] not in PLATFORMS:
            raise ValueError(f"{path.name}:{number}: unknown shop or platform")
        rows.append(row)
    return rows


def read_v1() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with V1.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            old = json.loads(line)
            second = V1_SECOND_PASS.get(i)
            rows.append(
                {
                    "id": f"v1:{i}",
                    "customer": old["customer"],
                    "reply": old["reply"],
                    "terse": second[0] if second else old["terse"],
                    "why": old["why"],
                    "lang": old["lang"],
                    "shop": "general",
                    "platform": "unknown",
                    "kind": "v1",
                    "source": "v1",
                    "borderline": second is not None,
                    "label_pass1": old["terse"],
                    "label_pass2": second[0] if second else None,
                    "label_note": second[1] if second else "",
                }
            )
    return rows


def build() -> list[dict[str, Any]]:
    rows = read_v1()
    for path in sorted(WRITTEN.glob("*.tsv")):
        rows.extend(read_written(path))
    seen: set[tuple[tuple[str, ...], str]] = set()
    for row in rows:
        key = (tuple(row["customer"]), row["reply"])
        if key in seen:
            raise ValueError(f"duplicate pair {row['id']}: {key}")
        seen.add(key)
    return rows


def main() -> None:
    rows = build()
    with POOL.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n = len(rows)
    terse = sum(r["terse"] for r in rows)
    english = sum(r["lang"] == "en" for r in rows)
    borderline = [r for r in rows if r["borderline"]]
    agree = sum(r["label_pass1"] == r["label_pass2"] for r in borderline)
    print(
        f"{n} pairs, {terse} terse ({terse / n:.0%}), {english} English, {len(borderline)} borderline, "
        f"pass agreement {agree}/{len(borderline)}"
    )


if __name__ == "__main__":
    main()

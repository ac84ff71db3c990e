"""Paths named in the docs, comments and docstrings exist in the repository.

Starting notes that lived outside it (ARCHITECTURE.md, platforms/README.md) were cited as if a
reader had them; this keeps every such reference pointing at something a clone contains.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED_SUFFIXES = {".md", ".py", ".sh", ".toml", ".yml", ".yaml", ".lua", ".txt", ".html"}
SCANNED_NAMES = {"Dockerfile", "Makefile", ".dockerignore", "run"}
# A path-like word: not inside a URL or another path (nothing word-like, '.', '/', ':' before it).
PATH_WORD = re.compile(r"(?<![\w./:@-])([\w.-]+(?:/[\w.*<>{}-]+)+/?|[\w-]+\.md)")
# Where a template name (inbox/partials/thread.html) resolves.
TEMPLATE_DIRS = ("templates",)


def tracked_files() -> list[str]:
    # Tracked and new (not ignored) files: a document added in this change counts before its commit.
    command = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    listing = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return listing.stdout.split()


def unresolved(text: str, *, where: str, files: list[str]) -> list[str]:
    """The path-like words of `text` (a file at `where`) that name nothing in `files`."""
    tops = {f.split("/")[0] for f in files if "/" in f}
    names = {f.rsplit("/", 1)[-1] for f in files}
    dirs = {d for f in files for d in _parents(f)}
    here = where.rsplit("/", 1)[0] if "/" in where else ""
    missing = []
    for match in PATH_WORD.finditer(text):
        word = match.group(1).rstrip(".")
        if any(c in word for c in "*<>{}"):
            continue  # a pattern or a placeholder, not a path
        parts = word.rstrip("/").split("/")
        if len(parts) == 1:
            # A bare document name ("benchmarks.md"): some tracked file must carry it.
            if word not in names:
                missing.append(word)
            continue
        if parts[0] not in tops and (len(parts) > 2 or not word.endswith(".md")):
            continue  # another project's path (owner/repo/file), a URL path, a module path
        candidates = [word.rstrip("/"), f"{here}/{word}".strip("/").rstrip("/")]
        candidates += [f"{d}/{word}".rstrip("/") for d in TEMPLATE_DIRS]
        if not any(c in files or c in dirs for c in candidates):
            missing.append(word)
    return missing


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def test_every_path_named_in_the_repository_exists():
    files = tracked_files()
    scanned = [
        f
        for f in files
        if (Path(f).suffix in SCANNED_SUFFIXES or Path(f).name in SCANNED_NAMES)
        and not f.startswith(("static/vendor/", "locale/", "tests/fixtures/"))
        and f != "tests/test_references.py"
    ]
    assert "docs/platforms.md" in scanned
    problems = {
        (f, word)
        for f in scanned
        for word in unresolved((ROOT / f).read_text(encoding="utf-8", errors="replace"), where=f, files=files)
    }
    assert problems == set()


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("see ARCHITECTURE.md for the numbers", ["ARCHITECTURE.md"]),
        ("TEXT: 2000 (platforms/README.md)", ["platforms/README.md"]),
        ("the service in inbox/services.py: message_ingest", ["inbox/services.py"]),
        ("`docs/benchmarks.md`, docs/platforms.md and benchmarks.md.", []),
        ("template inbox/partials/thread.html, folder inbox/adapters/", []),
        ("https://github.com/x/y/blob/HEAD/docs/a.md and hookdeck/webhook-skills/skills/x/SKILL.md", []),
        ("tests/fixtures/platforms/*.json, var/faults/<scenario>.json, /api/v1/channels/", []),
    ],
)
def test_the_scan_tells_a_missing_path_from_a_present_one(text, missing):
    files = [
        "docs/benchmarks.md",
        "docs/platforms.md",
        "inbox/adapters/base.py",
        "inbox/services/ingest.py",
        "templates/inbox/partials/thread.html",
        "tests/fixtures/platforms/whatsapp_text.json",
    ]
    assert unresolved(text, where="docs/x.md", files=files) == missing

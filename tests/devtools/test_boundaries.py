"""The dev-only package stays out of the apps that run in production."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def devtools_imports(source: str) -> list[int]:
    """Line numbers of the absolute imports of `devtools` (or its modules) in `source`."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name.split(".")[0] == "devtools" for name in names):
            lines.append(node.lineno)
    return lines


def test_no_module_of_inbox_monitoring_or_config_imports_devtools():
    modules = [p for app in ("inbox", "monitoring", "config") for p in sorted((ROOT / app).rglob("*.py"))]
    assert len(modules) > 50  # the walk really found the apps
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in modules for n in devtools_imports(p.read_text(encoding="utf-8"))]
    assert hits == []


def test_the_scan_sees_every_import_form():
    source = (
        "import devtools\n"
        "import json, devtools.demo as demo\n"
        "from devtools.simulator import signed\n"
        "def f():\n"
        "    from devtools import fake_platforms\n"
        "from inbox import devtools_like\n"
        "import devtoolsx\n"
    )
    assert devtools_imports(source) == [1, 2, 3, 5]

"""The import structure the architecture promises (docs/architecture.md, "The boundary").

Every import counts, wherever it stands: at the top, inside a function or under TYPE_CHECKING. An
import inside a function still makes one module need another; it only hides the arrow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "inbox", "monitoring", "devtools")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[module_name(path, root)] = path
    return modules


def imported(source: str, *, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The project modules `source` (the text of `module`) imports: `import a.b` names a.b, and
    `from a import b` names a.b when that is a module, else a. Names outside the project are left out."""
    known = set(known)
    found: set[str] = set()

    def nearest(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative: from the package this module is in (or is, for an __init__).
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            targets = [
                f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix for alias in node.names
            ]
        else:
            continue
        for target in targets:
            hit = nearest(target)
            if hit is not None and hit != module:
                found.add(hit)
    return found


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    modules = project_modules(root, packages)
    return {
        name: imported(
            path.read_text(encoding="utf-8"), module=name, is_package=path.name == "__init__.py", known=modules
        )
        for name, path in modules.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def edges_into(graph: Mapping[str, set[str]], *, source: str, target: str) -> list[str]:
    return sorted(
        f"{a} -> {b}"
        for a, deps in graph.items()
        if a == source or a.startswith(source + ".")
        for b in deps
        if b == target or b.startswith(target + ".")
    )


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = import_graph()
    assert len(found) > 80  # the walk really found the apps
    return found


def test_inbox_never_imports_monitoring(graph):
    assert edges_into(graph, source="inbox", target="monitoring") == []


@pytest.mark.parametrize("app", ["inbox", "monitoring", "config"])
def test_no_app_depends_on_the_devtools(graph, app):
    assert edges_into(graph, source=app, target="devtools") == []


def test_no_import_circle_inside_monitoring(graph):
    inside = {
        a: {b for b in deps if b.startswith("monitoring")} for a, deps in graph.items() if a.startswith("monitoring")
    }
    assert cycles(inside) == []


def test_no_import_circle_anywhere(graph):
    assert cycles(graph) == []


# --- the checks themselves ---------------------------------------------------------------------


def make_tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_every_import_form_counts(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/a.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from high import models\n"
                "def f():\n    import high.tasks\n"
                "def g():\n    from high.services import alerts\n"
                "from . import b\n"
                "import json\n"
            ),
            "low/b.py": "from .a import thing\n",
            "high/__init__.py": "",
            "high/models.py": "",
            "high/tasks.py": "",
            "high/services/__init__.py": "",
            "high/services/alerts.py": "",
        },
    )
    found = import_graph(root, ("low", "high"))
    assert found["low.a"] == {"high.models", "high.tasks", "high.services.alerts", "low.b"}
    assert edges_into(found, source="low", target="high") == [
        "low.a -> high.models",
        "low.a -> high.services.alerts",
        "low.a -> high.tasks",
    ]
    assert cycles(found) == [["low.a", "low.b"]]


def test_a_circle_held_together_by_function_imports_is_found(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/periods.py": "from app.alerts import raise_it\n",
            "app/alerts.py": "def raise_it():\n    from app.tasks import later\n",
            "app/tasks.py": "from app.periods import measure\n",
            "app/free.py": "from app.alerts import raise_it\n",
        },
    )
    assert cycles(import_graph(root, ("app",))) == [["app.alerts", "app.periods", "app.tasks"]]

"""The house rules of etl/, checked on the source (README "Code map"): which package may import
which, no import cycle, nothing below the CLI prints, no module over MAX_LINES lines."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "etl"
MAX_LINES = 300
# part of etl -> the parts of etl it must never import (a part is a subpackage or a top-level module)
FORBIDDEN = {
    "model": {"config", "errors", "costing", "source", "store", "run", "read", "demo", "cli", "render", "report"},
    "costing": {"config", "source", "store", "run", "read", "demo", "cli", "render", "report"},
    "source": {"store", "run", "read", "demo", "cli", "render", "report"},
    "store": {"source", "costing", "run", "read", "demo", "cli", "render", "report"},
    "run": {"read", "demo", "cli", "render", "report"},
    "read": {"run", "demo", "cli", "render", "report"},
    "render": {"demo", "cli"},
    "report": {"demo", "cli", "run"},
}


def modules() -> dict[str, ast.Module]:
    return {".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): ast.parse(path.read_text())
            for path in sorted(PACKAGE.rglob("*.py"))}


def part_of(module: str) -> str:
    """etl.costing.raw -> costing; etl.cli -> cli."""
    return module.split(".")[1] if module.count(".") else module


def imports(tree: ast.Module, top_level_only: bool = False) -> set[str]:
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("etl"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("etl"))
    return found


def test_no_part_imports_a_part_it_must_not() -> None:
    broken = []
    for name, tree in modules().items():
        forbidden = FORBIDDEN.get(part_of(name), set())
        broken += [f"{name} imports {target}" for target in imports(tree) if part_of(target) in forbidden]
    assert broken == []


def test_only_the_cli_opens_the_demo() -> None:
    openers = {part_of(name) for name, tree in modules().items()
               if part_of(name) != "demo" and any(part_of(target) == "demo" for target in imports(tree))}
    assert openers <= {"cli"}


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, tree in modules().items():
        graph[name] = {target for target in imports(tree, top_level_only=True) if target != name}
    visiting, done = set(), set()

    def visit(node: str, path: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(node):], node]))
        visiting.add(node)
        for target in graph.get(node, ()):
            visit(target, [*path, node])
        visiting.discard(node)
        done.add(node)

    for node in list(graph):
        visit(node, [])


def test_nothing_below_the_cli_prints() -> None:
    printers = {part_of(name) for name, tree in modules().items()
                if any(isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"
                       for node in ast.walk(tree))}
    assert printers <= {"cli"}


def test_no_module_is_over_the_line_limit() -> None:
    long = {str(path.relative_to(PACKAGE.parent)): lines for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}

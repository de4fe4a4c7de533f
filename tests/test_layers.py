"""The layers import one way: cli -> bot -> services -> index -> corpus/db, without circles.

`services` has no Telegram in it (the bot is one adapter among others: the command line uses the
same services), `bot` never imports the command line, and no module of bot/, services/ or cli/
imports itself back through others. Imports under `if TYPE_CHECKING:` do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "services", "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `path` imports (at the top or inside functions), by absolute name."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(path, known) for name, path in known.items()}


def _top(name: str) -> str:
    return name.split(".")[0]


def test_services_have_no_telegram_and_no_bot_or_cli(graph: dict[str, set[str]]) -> None:
    bad = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _top(module) == "services"
        for target in targets
        if _top(target) in ("telegram", "bot", "cli")
    }
    assert not bad, sorted(bad)


def test_bot_never_imports_the_command_line(graph: dict[str, set[str]]) -> None:
    bad = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _top(module) == "bot"
        for target in targets
        if _top(target) == "cli"
    }
    assert not bad, sorted(bad)


def test_no_import_circles(graph: dict[str, set[str]]) -> None:
    edges = {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            walk(module)
    assert not circles, [" -> ".join(c) for c in circles]

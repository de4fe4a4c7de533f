"""The house stays as drawn: no import circle, no module over the line limit, layers one way.

The import graph is read from the source (ast), module by module; imports under
`if TYPE_CHECKING:` are left out because they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("corpus", "db", "index", "services", "bot", "cli", "emulator")
MAX_LINES = 400

# What each package may import from the project (besides itself). Telegram belongs to bot/ and
# emulator/ is a test tool speaking the Bot API over HTTP; it imports nothing of the product.
MAY_IMPORT = {
    "db": set(),
    "corpus": {"db"},
    "index": {"corpus", "db"},
    "services": {"index", "corpus", "db"},
    "bot": {"services", "index", "corpus", "db"},
    "cli": {"bot", "services", "index", "corpus", "db", "emulator"},
    "emulator": set(),
}
NO_TELEGRAM = {"db", "corpus", "index", "services", "emulator"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules `name` imports (a `from pkg import sub` counts as pkg.sub)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                targets.add(sub if sub in known else module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for target in _imports(name, path, known):
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def _external(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_circle_between_modules() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a circle a reader must untangle.
    for name, edges in graph.items():
        if _modules()[name].name != "__init__.py":
            edges.difference_update(n for n in list(edges) if name.startswith(f"{n}."))
    assert _cycles(graph) == []


def test_layers_point_one_way() -> None:
    wrong = []
    for name, edges in _graph().items():
        package = name.split(".")[0]
        for target in edges:
            other = target.split(".")[0]
            if other != package and other not in MAY_IMPORT[package]:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_only_the_adapter_speaks_telegram() -> None:
    speaking = [
        name
        for name, path in _modules().items()
        if name.split(".")[0] in NO_TELEGRAM and "telegram" in _external(path)
    ]
    assert speaking == []


@pytest.mark.parametrize("package", [*PACKAGES, "benchmarks"])
def test_no_module_over_the_line_limit(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (limit {MAX_LINES} lines): {long}"

"""faceprint's modules import one another without a cycle.

The graph is read with ``ast`` from the source: only module-level imports count (not those inside a
function, nor under ``if TYPE_CHECKING:``), since those are what run when a module is first imported.
``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``; importing
``a.b.c`` also runs the packages ``a`` and ``a.b`` (unless the importer is inside them already), so
those are edges too.

A second check also follows imports inside functions: a registry that imported its built-ins from
inside a function (the old packs and index-spec registries) hid a cycle there; registries now name
built-ins by module path instead. The few deliberate deferred imports are listed in DEFERRED.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "faceprint"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT / PACKAGE) -> dict[str, Path]:
    return {module_name(p): p for p in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


# Cycles that exist only through an import inside a function, kept on purpose (with the reason).
DEFERRED = {
    frozenset({"faceprint.video.source", "faceprint.video.isolated"}): "open_video builds the isolated reader, which reads through the source",
}


def imports_in(tree: ast.Module, deferred: bool = False) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run at import time: top level, and inside top-level try/if/with blocks (never ``if TYPE_CHECKING``).

    ``deferred``: also those inside functions and classes, run when they are first called."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(reversed(node.orelse))
        elif isinstance(node, ast.If | ast.Try | ast.With) or (deferred and isinstance(node, ast.stmt)):
            stack.extend(reversed([c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt | ast.ExceptHandler)]))
        elif isinstance(node, ast.ExceptHandler):
            stack.extend(reversed(node.body))


def _base(name: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _packages(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def import_graph(mods: dict[str, Path], deferred: bool = False) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        edges: set[str] = set()
        for node in imports_in(ast.parse(path.read_text(), str(path)), deferred):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = _base(name, path, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            edges.update(t for t in targets if t in mods)
        inside = _packages(name) | {name}
        graph[name] = {m for t in edges for m in (_packages(t) | {t}) if m in mods and m not in inside}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan), as a path a -> ... -> a."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, comp) for comp in components]


def _cycle_in(graph: dict[str, set[str]], comp: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first back to it)."""
    start = min(comp)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component always has one


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph(modules()))
    assert not cycles, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)


def test_no_cycles_through_deferred_imports_but_the_listed_ones() -> None:
    cycles = [c for c in find_cycles(import_graph(modules(), deferred=True)) if frozenset(c) not in DEFERRED]
    assert not cycles, "import cycles through imports inside functions:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.py": "from . import b\n", "b.py": "from .a import x\n"}, [["pkg.a", "pkg.b", "pkg.a"]]),
        ({"a.py": "def f():\n    from . import b\n", "b.py": "from . import a\n"}, []),
        ({"a.py": "from .sub.b import g\n", "sub/__init__.py": "from .c import h\n", "sub/b.py": "", "sub/c.py": "from ..a import f\n"},
         [["pkg.a", "pkg.sub", "pkg.sub.c", "pkg.a"]]),  # importing pkg.sub.b runs pkg/sub/__init__.py first
        ({"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n", "b.py": "import pkg.a\n"}, []),
        ({"a.py": "try:\n    from .b import y\nexcept ImportError:\n    y = None\n", "b.py": "from .c import z\n", "c.py": "from .a import w\n"},
         [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]),
        ({"__init__.py": "from .a import f\n", "a.py": "from .sub.b import g\n", "sub/__init__.py": "", "sub/b.py": "from .. import a\n"},
         [["pkg.a", "pkg.sub.b", "pkg.a"]]),
    ],
)  # fmt: skip
def test_the_graph_sees_cycles_and_only_real_ones(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "pkg" / "__init__.py").touch()
    mods = {".".join(["pkg", *p.relative_to(tmp_path / "pkg").with_suffix("").parts]).removesuffix(".__init__"): p for p in (tmp_path / "pkg").rglob("*.py")}
    assert find_cycles(import_graph(mods)) == expected


def test_deferred_imports_are_followed_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for rel, text in {"__init__.py": "", "reg.py": "def load():\n    from . import plugin\n", "plugin.py": "from .reg import load\n"}.items():
        (tmp_path / "pkg" / rel).write_text(text)
    mods = {f"pkg.{p.stem}".removesuffix(".__init__"): p for p in (tmp_path / "pkg").glob("*.py")}
    assert find_cycles(import_graph(mods)) == []
    assert find_cycles(import_graph(mods, deferred=True)) == [["pkg.plugin", "pkg.reg", "pkg.plugin"]]


def test_index_backends_import_only_the_neutral_index_modules() -> None:
    graph = import_graph(modules(), deferred=True)
    backends = ("faceprint.index.faiss", "faceprint.index.milvus")
    for mine in backends:
        others = tuple(b for b in backends if b != mine)
        crossing = {m: sorted(t for t in ts if t.startswith(others)) for m, ts in graph.items() if m.startswith(mine)}
        assert not any(crossing.values()), f"{mine} imports another backend: {crossing}"
    neutral = [m for m in graph if m.startswith("faceprint.index") and not m.startswith(backends)]
    assert {"faceprint.index.types", "faceprint.index.specs", "faceprint.index.policy", "faceprint.index.backends"} <= set(neutral)
    assert not [(m, t) for m in neutral for t in graph[m] if t.startswith(backends)], "a neutral index module imports a backend"

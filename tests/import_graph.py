"""The package's import graph, read from the source (nothing is imported).

``edges()`` lists every import of one stylelab module by another as
``(importer, imported, lazy)``, where ``lazy`` means the import sits inside a function body.
``LAYERS`` is the order of DESIGN.md's map, from the bottom up; ``layer(module)`` gives a module's
place in it. ``python tests/import_graph.py`` prints the counts the structure tests hold.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "stylelab"

#: DESIGN.md's layers, bottom first: a module may import its own layer and the ones below it.
LAYERS = (
    ("errors", "config", "files", "arguments"),
    ("images", "assets"),
    ("video", "data"),
    ("weights",),
    ("encoders",),
    ("stats", "losses"),
    ("controls", "ops"),
    ("checkpoints",),
    ("methods",),
    ("train",),
    ("bench", "plots", "widgets"),
    ("cli", "__main__"),
)


def modules() -> dict[str, Path]:
    """``{"stylelab.methods.adain": path, ...}`` for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer(module: str) -> int:
    """The index in ``LAYERS`` of a module ``stylelab.<top>...`` (-1 for the package itself)."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    for i, names in enumerate(LAYERS):
        if parts[1] in names:
            return i
    raise KeyError(f"{module} is in no layer of LAYERS; add it to DESIGN.md's map and to LAYERS")


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom, known) -> list[str]:
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("stylelab"):
        return []
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        out.append(sub if sub in known else target)
    return out


def edges() -> list[tuple[str, str, bool]]:
    """``(importer, imported, lazy)`` for every stylelab-internal import."""
    known = modules()
    found = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        lazy_nodes = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                lazy_nodes.update(id(n) for n in ast.walk(node) if n is not node)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(name, is_package, node, known)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("stylelab")]
            for t in targets:
                if t != name:
                    found.append((name, t, id(node) in lazy_nodes))
    return found


def cycles(edge_list) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for a, b, _ in edge_list:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(1000, 10 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def upward(edge_list) -> list[tuple[str, str]]:
    """Edges from a module to one in a higher layer (the package ``stylelab`` itself is exempt:
    it only re-exports the errors)."""
    return sorted({(a, b) for a, b, _ in edge_list if layer(b) > layer(a) >= 0})


def lazy(edge_list) -> list[tuple[str, str]]:
    return sorted({(a, b) for a, b, is_lazy in edge_list if is_lazy})


def largest() -> tuple[str, int]:
    sizes = {n: len(p.read_text().splitlines()) for n, p in modules().items()}
    top = max(sizes, key=sizes.get)
    return top, sizes[top]


if __name__ == "__main__":
    e = edges()
    distinct = {(a, b) for a, b, _ in e}
    print(f"modules {len(modules())}, edges {len(distinct)}, lazy imports {sum(1 for *_, z in e if z)} "
          f"({len(lazy(e))} distinct), upward edges {len(upward(e))}, cycles {len(cycles(e))}")
    print("largest module: %s (%d lines)" % largest())
    for c in cycles(e):
        print("cycle:", " <-> ".join(c))
    for a, b in upward(e):
        print("upward:", a, "->", b)

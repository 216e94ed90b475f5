"""No import cycles: the graph of module-level imports between our modules (read with ast) has no cycle.

Imports inside functions count too: a function-level import that closes a cycle is the usual way around one.
"""

from __future__ import annotations

import ast
from pathlib import Path

from entropy_dynamics._moved import MOVED_MODULES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"entropy_dynamics": ROOT / "entropy_dynamics", "cli": ROOT / "cli"}


def _modules() -> dict[str, Path]:
    out = {}
    for name, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [name, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    """Our modules that ``module`` imports (``from pkg import mod`` counts as ``pkg.mod`` when that is a module)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known or
                     MOVED_MODULES.get(f"{base}.{alias.name}") else base for alias in node.names]
        else:
            continue
        for name in names:
            name = MOVED_MODULES.get(name, name)
            if name in known and name != module:
                found.add(name)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    known = _modules()
    graph = {module: _imports(path, module, known) for module, path in known.items()}
    # a package's __init__ re-exporting its own modules is not a cycle with them
    for module in graph:
        graph[module] = {m for m in graph[module] if not (known[module].name == "__init__.py"
                                                           and m.startswith(f"{module}."))}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_checker_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None

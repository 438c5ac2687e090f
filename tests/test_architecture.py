"""The layout is the architecture: the import graph of `attrlint` has no cycle, lazy imports
inside functions included, and no module imports a private name from another package.

Both are read from the source with `ast`, so an import hidden in a function counts."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "attrlint"

# Layers, lowest first: a module may import its own layer and the ones below, never above.
LAYERS = {
    "attrlint.core": 0,
    "attrlint.keys": 1,
    "attrlint.ledger": 1,
    "attrlint.lint": 2,
    "attrlint.runtime": 2,
    "attrlint.cli": 3,
    "attrlint.server": 3,  # the editor server: a front end beside the CLI
}
# Top-level modules that only re-export a documented name from its new home.
SHIMS = {"attrlint.otel", "attrlint.__main__", "attrlint"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import in the module, nested ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "attrlint":
                    found.append((alias.name, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "attrlint":
                continue
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                if sub in known:  # `from attrlint.lint import formats`: the submodule itself
                    found.append((sub, "", node.lineno))
                else:
                    found.append((module, alias.name, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for module, _, _ in _imports(name, path, known):
            while module not in known and "." in module:
                module = module.rpartition(".")[0]
            if module != name:
                edges.add(module)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> int | None:
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    # a package's __init__ importing its own submodules is not a cycle of the design
    for name in graph:
        graph[name] = {m for m in graph[name] if not (m.startswith(name + ".") and _modules()[name].name == "__init__.py")}
    assert _cycles(graph) == []


def test_dependencies_point_down_the_layers():
    graph = _graph()
    upward = []
    for module, imports in sorted(graph.items()):
        if module in SHIMS:
            continue
        here = _layer(module)
        for target in sorted(imports):
            there = _layer(target)
            if here is not None and there is not None and there > here:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_module_imports_a_private_name_from_another_package():
    modules = _modules()
    known = set(modules)
    private = []
    for name, path in modules.items():
        own_package = name.rpartition(".")[0] if path.name != "__init__.py" else name
        for module, imported, line in _imports(name, path, known):
            leaf = imported or module.rpartition(".")[2]
            if not leaf.startswith("_") or leaf.startswith("__"):
                continue
            target_package = module if imported else module.rpartition(".")[0]
            if imported and module in known and modules[module].name != "__init__.py":
                target_package = module.rpartition(".")[0]
            if target_package != own_package:
                private.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}.{leaf}")
    assert private == []


def test_the_checker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []

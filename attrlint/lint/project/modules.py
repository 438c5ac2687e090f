"""The names a project module can be imported by, and what a call site's callee resolves to."""

from __future__ import annotations

import functools
import os
from pathlib import Path


@functools.lru_cache(maxsize=4096)
def _package_parts(directory: Path) -> tuple[str, ...]:
    """The package a directory is (its dotted parts, from the first directory up without an
    `__init__.py`), cached: every file of a directory asks."""
    if directory.parent == directory or not (directory / "__init__.py").is_file():
        return ()
    return (*_package_parts(directory.parent), directory.name)


def module_names(path: str, root: Path) -> list[str]:
    """Names the module at `path` can be imported by: from its package root (the first
    directory up without `__init__.py`), and relative to the config root (with and without
    a leading `src.`)."""
    absolute = Path(os.path.abspath(path))
    stem = absolute.with_suffix("")
    parts = [*_package_parts(absolute.parent)] + ([] if stem.name == "__init__" else [stem.name])
    names = [".".join(parts)] if parts else []
    try:
        rel = stem.relative_to(root.resolve())
        rel_parts = [p for p in rel.parts if p != "__init__"] if rel.name == "__init__" else list(rel.parts)
        if rel.name == "__init__":
            rel_parts = list(rel.parts[:-1])
        if rel_parts:
            names.append(".".join(rel_parts))
            if rel_parts[0] == "src" and len(rel_parts) > 1:
                names.append(".".join(rel_parts[1:]))
    except ValueError:
        pass
    return list(dict.fromkeys(n for n in names if n))


def _package(path: str, module: str) -> str:
    return module if os.path.basename(path) == "__init__.py" else module.rpartition(".")[0]


def resolve_callee(callee: str, path: str, names: list[str]) -> list[str]:
    if callee.startswith(":"):
        return [f"{n}.{callee[1:]}" for n in names] or [callee[1:]]
    if callee.startswith("."):
        level = len(callee) - len(callee.lstrip("."))
        rest = callee[level:]
        out = []
        for n in names[:1]:
            package = _package(path, n)
            for _ in range(level - 1):
                package = package.rpartition(".")[0]
            out.append(f"{package}.{rest}" if package else rest)
        return out
    return [callee]

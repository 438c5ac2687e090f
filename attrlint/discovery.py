"""Which files to check: walk the paths given, honouring excludes and .gitignore."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Iterator

SOURCE_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIX = ".ipynb"


def _git_visible(directory: str) -> set[str] | None:
    """Files git does not ignore under `directory` (tracked or untracked), or None outside git."""
    try:
        top = subprocess.run(
            ["git", "-C", directory, "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=10,
        )
        if top.returncode != 0:
            return None
        listing = subprocess.run(
            ["git", "-C", directory, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            capture_output=True, timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listing.returncode != 0:
        return None
    base = Path(directory).resolve()
    return {str(base / rel) for rel in listing.stdout.decode("utf-8", "surrogateescape").split("\0") if rel}


def iter_files(
    paths: list[str],
    is_excluded: Callable[[str], bool],
    *,
    force_exclude: bool = False,
    respect_gitignore: bool = True,
    notebooks: bool = True,
    on_warning: Callable[[str], None] = lambda message: None,
) -> Iterator[str]:
    """Yield source files as displayed paths (relative to the cwd when given relative)."""
    suffixes = SOURCE_SUFFIXES + ((NOTEBOOK_SUFFIX,) if notebooks else ())
    seen: set[str] = set()
    for given in paths:
        if os.path.isfile(given) or (os.path.lexists(given) and not os.path.isdir(given)):
            if force_exclude and is_excluded(given):
                continue
            if not os.path.exists(given):
                on_warning(f"{given}: cannot read: broken symbolic link")
                continue
            real = os.path.realpath(given)
            if real not in seen:
                seen.add(real)
                yield given
            continue
        if not os.path.isdir(given):
            on_warning(f"{given}: no such file or directory")
            continue
        if is_excluded(given) and given not in (".", "./") and force_exclude:
            continue
        visible = _git_visible(given) if respect_gitignore else None
        visited_dirs: set[tuple[int, int]] = set()
        stack = [given]
        while stack:
            directory = stack.pop()
            try:
                st = os.stat(directory)
            except OSError as exc:
                on_warning(f"{directory}: cannot read directory: {exc.strerror}")
                continue
            ident = (st.st_dev, st.st_ino)
            if ident in visited_dirs:
                on_warning(f"{directory}: symbolic link loop, skipped")
                continue
            visited_dirs.add(ident)
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as exc:
                on_warning(f"{directory}: cannot read directory: {exc.strerror}")
                continue
            subdirs = []
            for entry in entries:
                path = entry.path if directory != "." else entry.name
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if is_dir:
                    if not is_excluded(path):
                        subdirs.append(path)
                    continue
                if not entry.name.endswith(suffixes) or is_excluded(path):
                    continue
                if visible is not None and os.path.abspath(path) not in visible:
                    if os.path.realpath(path) not in visible:
                        continue
                real = os.path.realpath(path)
                if real in seen:
                    continue
                seen.add(real)
                yield path
            stack.extend(reversed(subdirs))

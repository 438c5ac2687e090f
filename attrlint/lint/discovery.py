"""Which files to check: walk the paths given, honouring excludes and .gitignore."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attrlint.core.config import Config

SOURCE_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIX = ".ipynb"
# Files checked for committed keys (ATR101) when git tracks them: `.env*`, YAML, JSON, TOML, INI.
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".ini")


def is_data_file(path: str) -> bool:
    """`.env`, `.env.local`, `.envrc`, `prod.env`, and YAML, JSON, TOML and INI files."""
    name = os.path.basename(path)
    return name.startswith(".env") or name.endswith(".env") or name.lower().endswith(DATA_SUFFIXES)


# A checked-out repository's .git/config may name a program for core.fsmonitor, which
# `git ls-files` would run: never let it.
_SAFE_GIT = ("-c", "core.fsmonitor=false")


def _git_tracked(path: str) -> list[str] | None:
    """The files git tracks (in its index) at or under `path`, as paths joined to `path`;
    None when `path` is not inside a git work tree."""
    directory = path if os.path.isdir(path) else (os.path.dirname(path) or ".")
    try:
        listing = subprocess.run(
            ["git", *_SAFE_GIT, "--literal-pathspecs", "-C", directory, "ls-files", "-z", "--cached", "--",
             "." if directory == path else os.path.basename(path)],
            capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listing.returncode != 0:
        return None
    names = listing.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [name if directory == "." else os.path.join(directory, name) for name in names if name]


def iter_data_files(
    paths: list[str],
    is_excluded: Callable[[str], bool],
    *,
    force_exclude: bool = False,
    on_warning: Callable[[str], None] = lambda message: None,
) -> Iterator[str]:
    """Yield the data files (see `is_data_file`) git tracks under `paths`, as displayed paths.

    Only files in git's index are read: nothing untracked or ignored, nothing outside the
    paths given, and no symbolic link (its target may lie anywhere). Outside a git work
    tree there are none. A data file given by name that git does not track is skipped with
    a warning."""
    seen: set[str] = set()
    for given in paths:
        explicit = os.path.isfile(given)
        if explicit and not is_data_file(given):
            continue
        if explicit and force_exclude and is_excluded(given):
            continue
        tracked = _git_tracked(given)
        if explicit and not tracked:
            on_warning(f"{given}: not checked for keys: git does not track it (attrlint reads only tracked "
                       "data files)")
            continue
        for path in tracked or ():
            if not is_data_file(path) or path in seen:
                continue
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue  # a symbolic link, a submodule, a file deleted from the work tree
            except OSError:
                continue
            if not explicit and is_excluded(path):
                continue
            seen.add(path)
            yield path


def _git_visible(directory: str) -> set[str] | None:
    """Files git does not ignore under `directory` (tracked or untracked), or None outside git."""
    try:
        top = subprocess.run(
            ["git", *_SAFE_GIT, "-C", directory, "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=10, check=False, stdin=subprocess.DEVNULL,
        )
        if top.returncode != 0:
            return None
        listing = subprocess.run(
            ["git", *_SAFE_GIT, "-C", directory, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
             "--", "."],
            capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listing.returncode != 0:
        return None
    base = Path(directory).resolve()
    return {str(base / rel) for rel in listing.stdout.decode("utf-8", "surrogateescape").split("\0") if rel}


class Excluder:
    """`Config.is_excluded` for many paths: the same matcher (`Config.exclude_globs`), with
    each folder's path relative to the configuration resolved once and its answer cached."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.globs = config.exclude_globs()
        self._root = config.root.resolve()
        self._dirs: dict[str, tuple[str, bool, bool]] = {}  # abs folder -> (rel, inside root, excluded)

    def _directory(self, directory: str) -> tuple[str, bool, bool]:
        known = self._dirs.get(directory)
        if known is None:
            parent, name = os.path.split(directory)
            above = self._dirs.get(parent)
            if above is not None and above[1] and name and not os.path.islink(directory):
                rel = f"{above[0]}/{name}" if above[0] else name
                inside = True
            else:
                rel = self.config.relpath(directory)
                inside = Path(directory).resolve().is_relative_to(self._root)
            known = self._dirs[directory] = (rel, inside, bool(rel) and self.globs.prunes(rel))
        return known

    def __call__(self, path: str, *, link: bool | None = None, is_dir: bool | None = None) -> bool:
        if link is None:
            link = os.path.islink(path)
        if is_dir is None:
            is_dir = os.path.isdir(path)
        if link:
            return self.config.is_excluded(path, is_dir=is_dir)
        absolute = os.path.abspath(path)
        directory, name = os.path.split(absolute)
        rel, _, pruned = self._directory(directory)
        if pruned:
            return True
        rel = f"{rel}/{name}" if rel else name
        return self.globs.matches(rel, is_dir=is_dir)

    def prunes(self, path: str, *, link: bool | None = None) -> bool:
        """Whether the walk skips the folder `path` whole (see Globs.prunes)."""
        if link is None:
            link = os.path.islink(path)
        if link:
            return self.config.is_excluded(path, is_dir=True) and self.globs.prunes(self.config.relpath(path))
        return self._directory(os.path.abspath(path))[2]


def _not_regular(path: str, mode: int) -> str:
    """The warning for a path that is not a regular file: reading a FIFO or a device would block
    the run or never end."""
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"{path}: skipped: {kind}, not a regular file"


def iter_files(
    paths: list[str],
    is_excluded: Callable[[str], bool],
    *,
    force_exclude: bool = False,
    respect_gitignore: bool = True,
    notebooks: bool = True,
    on_warning: Callable[[str], None] = lambda message: None,
    on_error: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """Yield source files as displayed paths (relative to the cwd when given relative).

    `on_error` hears of what could not be checked (a path that does not exist, a broken
    link, a folder that cannot be read); `on_warning` of what was skipped on purpose (a
    symbolic link loop). Without `on_error`, both go to `on_warning`."""
    if on_error is None:
        on_error = on_warning
    suffixes = SOURCE_SUFFIXES + ((NOTEBOOK_SUFFIX,) if notebooks else ())
    seen_inodes: set[tuple[int, int]] = set()
    if isinstance(is_excluded, Excluder):
        def excluded(path: str, link: bool, is_dir: bool) -> bool:
            if is_dir:
                return is_excluded.prunes(path, link=link)
            return is_excluded(path, link=link, is_dir=False)
    else:
        def excluded(path: str, link: bool, is_dir: bool) -> bool:
            return is_excluded(path)
    for given in paths:
        if os.path.isfile(given) or (os.path.lexists(given) and not os.path.isdir(given)):
            if is_data_file(given) and not given.endswith(suffixes):
                continue  # checked for keys by iter_data_files, never parsed as Python
            if force_exclude and is_excluded(given):
                continue
            if not os.path.exists(given):
                on_error(f"{given}: cannot read: broken symbolic link; fix or remove the link")
                continue
            target = os.stat(given)
            if not stat.S_ISREG(target.st_mode):
                on_warning(_not_regular(given, target.st_mode))
                continue
            if (target.st_dev, target.st_ino) not in seen_inodes:
                seen_inodes.add((target.st_dev, target.st_ino))
                yield given
            continue
        if not os.path.isdir(given):
            on_error(f"{given}: no such file or directory; check the path (relative paths start at the "
                     "current directory)")
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
                on_error(f"{directory}: cannot read directory: {exc.strerror}; fix its permissions or exclude it")
                continue
            ident = (st.st_dev, st.st_ino)
            device = st.st_dev
            if ident in visited_dirs:
                on_warning(f"{directory}: symbolic link loop, skipped")
                continue
            visited_dirs.add(ident)
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as exc:
                on_error(f"{directory}: cannot read directory: {exc.strerror}; fix its permissions or exclude it")
                continue
            subdirs = []
            for entry in entries:
                path = entry.path if directory != "." else entry.name
                try:
                    is_dir = entry.is_dir()
                    link = entry.is_symlink()
                except OSError:
                    continue
                if is_dir:
                    if not excluded(path, link, True):
                        subdirs.append(path)
                    continue
                if not entry.name.endswith(suffixes) or excluded(path, link, False):
                    continue
                if visible is not None and os.path.abspath(path) not in visible \
                        and os.path.realpath(path) not in visible:
                    continue
                try:
                    if link:
                        target = os.stat(path)
                        inode = (target.st_dev, target.st_ino)
                        regular, mode = stat.S_ISREG(target.st_mode), target.st_mode
                    else:
                        inode = (device, entry.inode())
                        regular = entry.is_file(follow_symlinks=False)
                        mode = 0 if regular else entry.stat(follow_symlinks=False).st_mode
                except OSError:
                    on_error(f"{path}: cannot read: broken symbolic link; fix or remove the link, or exclude it")
                    continue
                if not regular:
                    on_warning(_not_regular(path, mode))
                    continue
                if inode in seen_inodes:
                    continue
                seen_inodes.add(inode)
                yield path
            stack.extend(reversed(subdirs))

"""Which files to check: walk the paths given, honouring excludes and .gitignore."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import subprocess
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from attrlint.core.config import Config

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


class Excluder:
    """`Config.is_excluded` for many paths: the same answers, with the directory part of each
    path resolved once and all patterns matched by one compiled regex."""

    def __init__(self, config: Config) -> None:
        self.config = config
        patterns = []
        for pattern in (*config.exclude, *config.extend_exclude):
            pattern = pattern.rstrip("/")
            patterns.append(pattern[2:] if pattern.startswith("./") else pattern)
        globs = [fnmatch.translate(p) for p in patterns]
        globs += [fnmatch.translate(p.replace("**/", "")) for p in patterns if "**/" in p]
        self.whole = re.compile("|".join(globs)) if globs else None
        parts = [fnmatch.translate(p) for p in patterns if "/" not in p]
        self.part = re.compile("|".join(parts)) if parts else None
        self.prefixes = tuple(p.rstrip("/") + "/" for p in patterns)
        self.trees = tuple((p[:-3], p[:-2]) for p in patterns if p.endswith("/**"))
        self._root = config.root.resolve()
        self._dirs: dict[str, tuple[str, bool]] = {}

    def _directory(self, directory: str) -> tuple[str, bool]:
        """(relative POSIX path of a directory, whether one of its parts is excluded)."""
        known = self._dirs.get(directory)
        if known is None:
            parent, name = os.path.split(directory)
            above = self._dirs.get(parent)
            if above is not None and name and not os.path.islink(directory):
                rel = f"{above[0]}/{name}" if above[0] else name
                hit = above[1] or bool(self.part and self.part.match(name))
                known = self._dirs[directory] = (rel, hit)
                return known
            resolved = Path(directory).resolve()
            try:
                rel = PurePosixPath(resolved.relative_to(self._root)).as_posix()
            except ValueError:
                rel = PurePosixPath(directory).as_posix()
            if rel == ".":
                rel = ""
            part = self.part
            hit = bool(part and any(part.match(p) for p in rel.split("/") if p))
            known = self._dirs[directory] = (rel, hit)
        return known

    def __call__(self, path: str, *, link: bool | None = None) -> bool:
        if link is None:
            link = os.path.islink(path)
        if link:
            return self.config.is_excluded(path)
        absolute = os.path.abspath(path)
        directory, name = os.path.split(absolute)
        rel, excluded_part = self._directory(directory)
        if excluded_part:
            return True
        rel = f"{rel}/{name}" if rel else name
        if self.part is not None and self.part.match(name):
            return True
        if self.whole is not None and self.whole.match(rel):
            return True
        if rel.startswith(self.prefixes):
            return True
        return any(rel == a or rel.startswith(b) for a, b in self.trees)


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
) -> Iterator[str]:
    """Yield source files as displayed paths (relative to the cwd when given relative)."""
    suffixes = SOURCE_SUFFIXES + ((NOTEBOOK_SUFFIX,) if notebooks else ())
    seen_inodes: set[tuple[int, int]] = set()
    if isinstance(is_excluded, Excluder):
        def excluded(path: str, link: bool) -> bool:
            return is_excluded(path, link=link)
    else:
        def excluded(path: str, link: bool) -> bool:
            return is_excluded(path)
    for given in paths:
        if os.path.isfile(given) or (os.path.lexists(given) and not os.path.isdir(given)):
            if force_exclude and is_excluded(given):
                continue
            if not os.path.exists(given):
                on_warning(f"{given}: cannot read: broken symbolic link")
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
            device = st.st_dev
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
                    link = entry.is_symlink()
                except OSError:
                    continue
                if is_dir:
                    if not excluded(path, link):
                        subdirs.append(path)
                    continue
                if not entry.name.endswith(suffixes) or excluded(path, link):
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
                    on_warning(f"{path}: cannot read: broken symbolic link")
                    continue
                if not regular:
                    on_warning(_not_regular(path, mode))
                    continue
                if inode in seen_inodes:
                    continue
                seen_inodes.add(inode)
                yield path
            stack.extend(reversed(subdirs))

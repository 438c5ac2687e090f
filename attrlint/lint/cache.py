"""The result cache: per-file results keyed by content hash, attrlint's code and the
configuration that affects the file.

Layout (under `.attrlint_cache/` or `--cache-dir` / `$ATTRLINT_CACHE_DIR`)::

    CACHEDIR.TAG  .gitignore
    v1/<fingerprint>/<shard>.pickle   # 64 shards per fingerprint, chosen by directory

A shard maps a displayed path to `(size, mtime_ns, inode, digest, day, FileResult, facts)`,
the facts pickled apart so that a run which needs no project phase does not load them.
A file whose `(size, mtime_ns, inode)` match is a hit without being read; otherwise it is
read and hashed, and a matching digest is still a hit (a fresh CI checkout changes every
mtime but no content). Whole `FileResult`s are stored, so project-wide rules run from
cached facts. Findings and key references hold only redacted snippets, so the cache never
holds a secret in clear.

Two runs may share a cache: a shard is rewritten through a temporary file and
`os.replace`, after merging what another run wrote meanwhile. Entries unused for
`MAX_AGE_DAYS` are dropped when their shard is written, and fingerprints (configurations,
attrlint versions) unused for as long are removed, so the cache does not grow without bound.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attrlint.lint.engine import Linter
    from attrlint.lint.analysis.summary import ModuleSummary
    from attrlint.lint.diagnostics import FileResult

LAYOUT = "v1"
SHARDS = 64
MAX_AGE_DAYS = 30
MAX_ENTRIES_PER_SHARD = 20_000
PROJECT_TREES = 4  # project-wide findings kept for this many trees (checkouts, path sets)
RACY_SECONDS = 2  # a file modified this recently may change again within the mtime granularity

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by attrlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)

Entry = tuple  # (size, mtime_ns, inode, digest, day, FileResult without facts, pickled facts | None)


def default_dir(cache_dir: str | None = None) -> Path:
    return Path(cache_dir or os.environ.get("ATTRLINT_CACHE_DIR") or ".attrlint_cache")


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


_CODE_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """attrlint's version and the path, size and mtime of every module and data file of the
    installed package, so that an upgrade or a local edit anywhere in attrlint never serves
    stale results."""
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is None:
        from attrlint import __version__

        h = hashlib.blake2b(__version__.encode(), digest_size=16)
        package = Path(__file__).resolve().parent.parent
        for directory, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".toml")):
                    path = os.path.join(directory, name)
                    try:
                        st = os.stat(path)
                    except OSError:
                        continue
                    rel = os.path.relpath(path, package)
                    h.update(f"{rel}:{st.st_size}:{st.st_mtime_ns};".encode())
        _CODE_FINGERPRINT = h.hexdigest()
    return _CODE_FINGERPRINT


def linter_fingerprint(linter: Linter) -> str:
    """Everything besides the content that decides a file's result."""
    config = linter.config
    parts = [
        code_fingerprint(),
        config.fingerprint(),
        ",".join(sorted(linter.codes)),
        f"strict={linter.strict}",
        f"data-files={linter.check_data_files}",
        repr(sorted(config.per_file_ignores.items())),
        repr(sorted(config.keys)),
        str(config.root.resolve()),
    ]
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=10).hexdigest()


def stable_repr(value: Any) -> str:
    """A representation that is the same in every process (sets sorted, no hash order)."""
    import dataclasses
    import json

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, dict):
            return sorted((str(k), plain(x)) for k, x in v.items())
        if isinstance(v, (set, frozenset)):
            return sorted((plain(x) for x in v), key=repr)
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        return str(v)

    return json.dumps(plain(value), default=str)


def shard_of(path: str) -> int:
    return zlib.crc32(os.path.dirname(path).encode("utf-8", "surrogateescape")) % SHARDS


def _today() -> int:
    return int(time.time() // 86400)


class Cache:
    """One configuration's view of the cache directory."""

    def __init__(self, root: Path, fingerprint: str) -> None:
        self.root = root
        self.dir = root / LAYOUT / fingerprint
        self.today = _today()
        self.started = time.time()
        self._shards: dict[int, dict[str, Entry]] = {}
        self._loaded_mtime: dict[int, int | None] = {}
        self._dirty: dict[int, dict[str, Entry]] = {}
        self.hits = self.misses = 0

    # -- reading -----------------------------------------------------------------------------

    def _shard(self, index: int) -> dict[str, Entry]:
        shard = self._shards.get(index)
        if shard is None:
            shard, mtime = self._read_shard(index)
            self._shards[index] = shard
            self._loaded_mtime[index] = mtime
        return shard

    def _read_shard(self, index: int) -> tuple[dict[str, Entry], int | None]:
        path = self.dir / f"{index:02d}.pickle"
        try:
            with open(path, "rb") as handle:
                mtime = os.fstat(handle.fileno()).st_mtime_ns
                data = pickle.load(handle)
            if isinstance(data, dict):
                return data, mtime
        except FileNotFoundError:
            return {}, None
        except Exception:  # noqa: BLE001 - a damaged or foreign shard is a miss, never an error
            pass
        return {}, None

    def lookup(self, path: str, st: os.stat_result | None) -> tuple[FileResult, bytes] | None:
        """(result, content digest) on a hit by stat alone, else None (then try `lookup_digest`)."""
        if st is None:
            return None
        entry = self._shard(shard_of(path)).get(path)
        if entry is not None and entry[0:3] == stat_key(st) and entry[2] != 0:
            self._touch(path, entry)
            self.hits += 1
            return entry[5], entry[3]
        return None

    def known(self, path: str) -> bool:
        return path in self._shard(shard_of(path))

    def lookup_digest(self, path: str, st: os.stat_result,
                      content_digest: bytes) -> tuple[FileResult, bytes] | None:
        entry = self._shard(shard_of(path)).get(path)
        if entry is not None and entry[3] == content_digest:
            self._put(path, (*stat_key(st)[:2], 0 if stat_key(st)[1] / 1e9 > self.started - RACY_SECONDS
                             else st.st_ino, content_digest, self.today, *entry[5:]))
            self.hits += 1
            return entry[5], content_digest
        return None

    # -- project-wide findings --------------------------------------------------------------
    #
    # Project-wide rules are a function of every file's content and the configuration: a
    # run over an unchanged tree reuses their findings instead of running them again.

    def tree_key(self, files: list[tuple[str, bytes]], today: Any, configuration: str) -> str:
        """The whole configuration (key registry included), the date and every file's content."""
        import datetime as dt

        h = hashlib.blake2b(f"{today or dt.date.today()}\n{configuration}".encode(), digest_size=16)
        for path, content_digest in sorted(files):
            h.update(path.encode("utf-8", "surrogateescape") + b"\0" + content_digest)
        return h.hexdigest()

    def project_lookup(self, key: str) -> list | None:
        try:
            with open(self.dir / "project.pickle", "rb") as handle:
                entries = pickle.load(handle)
            return entries[key][1]
        except Exception:  # noqa: BLE001 - missing, damaged or another tree's: a miss
            return None

    def project_store(self, key: str, findings: list) -> None:
        try:
            with open(self.dir / "project.pickle", "rb") as handle:
                entries = pickle.load(handle)
        except Exception:  # noqa: BLE001
            entries = {}
        entries[key] = (time.time(), findings)
        keep = sorted(entries.items(), key=lambda item: item[1][0], reverse=True)[:PROJECT_TREES]
        try:
            self._ensure_root()
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return
        self._write_atomic(self.dir / "project.pickle", pickle.dumps(dict(keep), protocol=pickle.HIGHEST_PROTOCOL))

    # -- writing -----------------------------------------------------------------------------

    def summary_for(self, path: str) -> ModuleSummary | None:
        """A cached file's module summary, decoded only when the project phase runs."""
        from attrlint.lint.analysis.summary import ModuleSummary, SummaryError

        entry = self._shard(shard_of(path)).get(path)
        if entry is None or len(entry) < 7 or entry[6] is None:
            return None
        try:
            return ModuleSummary.from_data(json.loads(entry[6]))
        except (ValueError, SummaryError):
            return None

    def _touch(self, path: str, entry: Entry) -> None:
        if entry[4] != self.today:
            self._put(path, (*entry[:4], self.today, *entry[5:]))

    def _store(self, path: str, st: os.stat_result, content_digest: bytes, result: FileResult) -> None:
        size, mtime_ns, inode = stat_key(st)
        if mtime_ns / 1e9 > self.started - RACY_SECONDS:
            inode = 0  # racily clean: never trust the stat of this entry, always re-hash
        facts = None
        if result.summary:  # kept apart, as text, so a warm run does not pay to decode it
            facts = json.dumps(result.summary.to_data(), separators=(",", ":"))
            result = dataclasses.replace(result, summary=None)
        self._put(path, (size, mtime_ns, inode, content_digest, self.today, result, facts))

    def store(self, path: str, st: os.stat_result, content_digest: bytes, result: FileResult) -> None:
        if result.warning is not None:
            return  # reading failed: nothing content-derived to keep
        self.misses += 1
        self._store(path, st, content_digest, result)

    def _put(self, path: str, entry: Entry) -> None:
        index = shard_of(path)
        self._shard(index)[path] = entry
        self._dirty.setdefault(index, {})[path] = entry

    def flush(self) -> None:
        """Write the shards this run changed; merge with other runs' writes; prune."""
        if not self._dirty:
            self._prune_fingerprints()
            return
        try:
            self._ensure_root()
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return
        oldest = self.today - MAX_AGE_DAYS
        for index, changes in self._dirty.items():
            path = self.dir / f"{index:02d}.pickle"
            shard = self._shards[index]
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                mtime = None
            if mtime is not None and mtime != self._loaded_mtime.get(index):
                shard, _ = self._read_shard(index)  # another run wrote it meanwhile
                shard.update(changes)
            shard = {p: e for p, e in shard.items() if e[4] >= oldest}
            if len(shard) > MAX_ENTRIES_PER_SHARD:
                keep = sorted(shard.items(), key=lambda item: item[1][4], reverse=True)[:MAX_ENTRIES_PER_SHARD]
                shard = dict(keep)
            self._write_atomic(path, pickle.dumps(shard, protocol=pickle.HIGHEST_PROTOCOL))
        self._dirty.clear()
        self._prune_fingerprints()

    def _write_atomic(self, path: Path, data: bytes) -> None:
        try:
            fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        except OSError:
            try:
                os.unlink(temp)
            except OSError:
                pass

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            self._write_atomic(tag, CACHEDIR_TAG.encode())
            self._write_atomic(self.root / ".gitignore", b"# Created by attrlint\n*\n")

    def _prune_fingerprints(self) -> None:
        """Remove other configurations' and versions' shards unused for MAX_AGE_DAYS."""
        layout = self.root / LAYOUT
        marker = self.dir / ".used"
        try:
            if not self.dir.is_dir():
                return
            st = os.stat(marker) if marker.exists() else None
            if st is not None and st.st_mtime // 86400 == self.today:
                return  # pruned already today
            marker.touch()
            limit = time.time() - MAX_AGE_DAYS * 86400
            for other in layout.iterdir():
                if other == self.dir or not other.is_dir():
                    continue
                used = other / ".used"
                when = used.stat().st_mtime if used.exists() else other.stat().st_mtime
                if when < limit:
                    shutil.rmtree(other, ignore_errors=True)
        except OSError:
            return


def open_caches(linters: dict[int, Any], cache_dir: str | None) -> dict[int, Cache]:
    root = default_dir(cache_dir)
    return {index: Cache(root, linter_fingerprint(linter)) for index, linter in linters.items()}

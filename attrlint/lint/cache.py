"""The result cache: per-file results keyed by content hash, attrlint's code and the
configuration that affects the file.

Where: `--cache-dir`, else `$ATTRLINT_CACHE_DIR`, else `.attrlint_cache/` at the project
root, next to the configuration file (`pyproject.toml` with `[tool.attrlint]`), or in the
current directory when there is none. Layout::

    CACHEDIR.TAG  .gitignore
    v2/<fingerprint>/NN.json         # 64 shards of per-file results, chosen by directory
    v2/<fingerprint>/NN.facts.json   # the same files' module summaries, read only by the project phase
    v2/<fingerprint>/project.json    # project-wide findings of the last few trees

Every file is data only (JSON) and sealed: a first line naming the format, a second with a
keyed BLAKE2b tag of the rest, made with this user's secret key, which lives outside the
project (see `attrlint.lint.cache_auth`). A file whose tag does not verify, that is not
valid JSON, or whose entry is not of the expected shape is a cache miss, never an error, so
a cache committed to a repository or planted in a checkout never changes a result and never
runs anything. The cache never follows a symbolic link in its own tree, so a committed link
cannot make attrlint read, write or prune files elsewhere.

A shard maps a displayed path to `[size, mtime_ns, inode, digest, day, result, has facts]`.
A file whose `(size, mtime_ns, inode)` match is a hit without being read; otherwise it is read
and hashed, and a matching digest is still a hit (a fresh CI checkout changes every mtime but
no content). Findings and key references hold only redacted snippets, so the cache never
holds a secret in clear.

Two runs may share a cache: a shard is rewritten through a temporary file and `os.replace`,
after merging what another run wrote meanwhile. Entries unused for `MAX_AGE_DAYS` are
dropped when their shard is written, and fingerprints (configurations, attrlint versions)
unused for as long are removed, so the cache does not grow without bound.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrlint.lint.cache_auth import TAG_BYTES, tag, verify
from attrlint.lint.cache_data import (
    DataError,
    decode_findings,
    decode_result,
    encode_findings,
    encode_result,
)

if TYPE_CHECKING:
    from attrlint.core.config import Config
    from attrlint.lint.analysis.summary import ModuleSummary
    from attrlint.lint.diagnostics import FileResult, Finding
    from attrlint.lint.engine import Linter

DIR_NAME = ".attrlint_cache"
LAYOUT = "v2"
SHARDS = 64
MAX_AGE_DAYS = 30
MAX_ENTRIES_PER_SHARD = 20_000
MAX_FILE_BYTES = 512 * 1024 * 1024  # a larger file is not one attrlint wrote: a miss, not a memory blow-up
PROJECT_TREES = 4  # project-wide findings kept for this many trees (checkouts, path sets)
RACY_SECONDS = 2  # a file modified this recently may change again within the mtime granularity

MAGIC = b"attrlint-cache 2\n"
_HEADER = len(MAGIC) + 2 * TAG_BYTES + 1  # the magic line, then the tag in hex and a newline
_FINGERPRINT = re.compile(r"[0-9a-f]{20}\Z")
_MALFORMED = (DataError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by attrlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)

# An entry: [size, mtime_ns, inode (0: never trust the stat), content digest (hex), day last
# used, result (cache_data.encode_result), whether the facts shard holds its module summary].
Entry = list
_ENTRY_FIELDS = 7


class FactsLost(LookupError):
    """A cached result's module summary is gone (a damaged or foreign facts shard, or a race
    between two runs writing one shard): the file must be analysed again for its facts."""


def cache_root(config: Config | None, cache_dir: str | None = None) -> tuple[Path, bool]:
    """(the cache directory for a configuration, whether the user chose it): `cache_dir`, else
    $ATTRLINT_CACHE_DIR, else `.attrlint_cache` next to the configuration file (the current
    directory when there is none), as ruff places `.ruff_cache` at the project root."""
    explicit = cache_dir or os.environ.get("ATTRLINT_CACHE_DIR")
    if explicit:
        return Path(explicit), True
    if config is not None and config.path is not None:
        return Path(config.path).resolve().parent / DIR_NAME, False
    return Path.cwd() / DIR_NAME, False


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


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _read_nofollow(path: Path) -> tuple[bytes, int] | None:
    """(content, mtime_ns) of a regular file, never through a symbolic link; None otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: a FIFO in the way cannot hang the run
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_FILE_BYTES + 1), st.st_mtime_ns
    except OSError:
        return None
    finally:
        os.close(fd)


def _valid_entry(entry: Any) -> bool:
    return (type(entry) is list and len(entry) == _ENTRY_FIELDS and type(entry[3]) is str
            and type(entry[4]) is int)


class Cache:
    """One configuration's view of its cache directory."""

    def __init__(self, root: Path, fingerprint: str, *, usable: bool = True) -> None:
        self.root = root
        self.fingerprint = fingerprint
        self.dir = root / LAYOUT / fingerprint
        self.usable = usable and not any(_is_link(p) for p in (root / LAYOUT, self.dir))
        self.today = _today()
        self.started = time.time()
        self._shards: dict[int, dict[str, Entry]] = {}
        self._loaded_mtime: dict[int, int | None] = {}
        self._dirty: dict[int, dict[str, Entry]] = {}
        self._facts: dict[int, dict[str, Any]] = {}
        self._facts_mtime: dict[int, int | None] = {}
        self._facts_dirty: dict[int, dict[str, Any]] = {}
        self.hits = self.misses = 0

    # -- sealed files ------------------------------------------------------------------------

    def _context(self, name: str) -> bytes:
        return f"{LAYOUT}/{self.fingerprint}/{name}".encode()

    def _read_sealed(self, name: str) -> tuple[Any, int | None]:
        """(the data of a file this user's attrlint wrote, its mtime), or (None, mtime) for a
        file that is missing, foreign, forged or damaged."""
        if not self.usable:
            return None, None
        read = _read_nofollow(self.dir / name)
        if read is None:
            return None, None
        raw, mtime = read
        if not raw.startswith(MAGIC) or len(raw) < _HEADER or raw[_HEADER - 1:_HEADER] != b"\n":
            return None, mtime
        body = raw[_HEADER:]
        try:
            expected = bytes.fromhex(raw[len(MAGIC):_HEADER - 1].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return None, mtime
        if not verify(self._context(name), body, expected):
            return None, mtime
        try:
            return json.loads(body), mtime
        except _MALFORMED:
            return None, mtime

    def _write_sealed(self, name: str, data: Any) -> None:
        body = json.dumps(data, separators=(",", ":"), check_circular=False).encode("ascii")
        header = MAGIC + tag(self._context(name), body).hex().encode() + b"\n"
        self._write_atomic(self.dir / name, header + body)

    def _prepare(self) -> bool:
        """Create the directories to write into; False when they cannot be (or are links)."""
        if not self.usable:
            return False
        try:
            self._ensure_root()
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return not any(_is_link(p) for p in (self.root / LAYOUT, self.dir))

    # -- reading -----------------------------------------------------------------------------

    def _shard(self, index: int) -> dict[str, Entry]:
        shard = self._shards.get(index)
        if shard is None:
            shard, mtime = self._read_shard(index)
            self._shards[index] = shard
            self._loaded_mtime[index] = mtime
        return shard

    def _read_shard(self, index: int) -> tuple[dict[str, Entry], int | None]:
        data, mtime = self._read_sealed(f"{index:02d}.json")
        return (data if type(data) is dict else {}), mtime

    def _entry(self, path: str) -> Entry | None:
        entry = self._shard(shard_of(path)).get(path)
        return entry if _valid_entry(entry) else None

    def _decode(self, path: str, entry: Entry) -> FileResult | None:
        try:
            return decode_result(entry[5], path)
        except _MALFORMED:
            return None

    def lookup(self, path: str, st: os.stat_result | None) -> tuple[FileResult, bytes] | None:
        """(result, content digest) on a hit by stat alone, else None (then try `lookup_digest`)."""
        if st is None:
            return None
        entry = self._entry(path)
        if (entry is None or entry[2] == 0 or entry[0] != st.st_size or entry[1] != st.st_mtime_ns
                or entry[2] != st.st_ino):
            return None
        result = self._decode(path, entry)
        if result is None:
            return None
        try:
            content_digest = bytes.fromhex(entry[3])
        except ValueError:
            return None
        self._touch(path, entry)
        self.hits += 1
        return result, content_digest

    def known(self, path: str) -> bool:
        return self._entry(path) is not None

    def lookup_digest(self, path: str, st: os.stat_result,
                      content_digest: bytes) -> tuple[FileResult, bytes] | None:
        entry = self._entry(path)
        if entry is None or entry[3] != content_digest.hex():
            return None
        result = self._decode(path, entry)
        if result is None:
            return None
        size, mtime_ns, inode = stat_key(st)
        if mtime_ns / 1e9 > self.started - RACY_SECONDS:
            inode = 0
        self._put(path, [size, mtime_ns, inode, entry[3], self.today, entry[5], entry[6]])
        self.hits += 1
        return result, content_digest

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

    def _project_entries(self) -> dict[str, Any]:
        data, _ = self._read_sealed("project.json")
        return data if type(data) is dict else {}

    def project_lookup(self, key: str) -> list[Finding] | None:
        entry = self._project_entries().get(key)
        try:
            return decode_findings(entry[1]) if type(entry) is list and len(entry) == 2 else None
        except _MALFORMED:
            return None

    def project_store(self, key: str, findings: list[Finding]) -> None:
        if not self._prepare():
            return
        entries = {k: e for k, e in self._project_entries().items()
                   if type(e) is list and len(e) == 2 and isinstance(e[0], (int, float))}
        entries[key] = [time.time(), encode_findings(findings)]
        keep = sorted(entries.items(), key=lambda item: item[1][0], reverse=True)[:PROJECT_TREES]
        self._write_sealed("project.json", dict(keep))

    # -- module summaries (facts) ---------------------------------------------------------

    def _facts_shard(self, index: int) -> dict[str, Any]:
        facts = self._facts.get(index)
        if facts is None:
            data, mtime = self._read_sealed(f"{index:02d}.facts.json")
            facts = self._facts[index] = data if type(data) is dict else {}
            self._facts_mtime[index] = mtime
        return facts

    def summary_for(self, path: str) -> ModuleSummary | None:
        """A cached file's module summary (None when it has none), decoded only when the project
        phase runs. Raises FactsLost when the summary should be there and is not."""
        from attrlint.lint.analysis.summary import ModuleSummary

        entry = self._entry(path)
        if entry is None:
            raise FactsLost(path)
        if entry[6] is not True:
            return None
        stored = self._facts_shard(shard_of(path)).get(path)
        if type(stored) is not list or len(stored) != 2 or stored[0] != entry[3]:
            raise FactsLost(path)  # no facts, or another content's
        try:
            return ModuleSummary.from_data(stored[1])
        except _MALFORMED:
            raise FactsLost(path) from None

    # -- writing -----------------------------------------------------------------------------

    def _touch(self, path: str, entry: Entry) -> None:
        if entry[4] != self.today:
            self._put(path, [*entry[:4], self.today, *entry[5:]])

    def _store(self, path: str, st: os.stat_result, content_digest: bytes, result: FileResult) -> None:
        size, mtime_ns, inode = stat_key(st)
        if mtime_ns / 1e9 > self.started - RACY_SECONDS:
            inode = 0  # racily clean: never trust the stat of this entry, always re-hash
        hexdigest = content_digest.hex()
        has_facts = bool(result.summary)
        if has_facts:
            index = shard_of(path)
            self._facts_dirty.setdefault(index, {})[path] = [hexdigest, result.summary.to_data()]
        self._put(path, [size, mtime_ns, inode, hexdigest, self.today, encode_result(result), has_facts])

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
        if not self._prepare():
            return
        oldest = self.today - MAX_AGE_DAYS
        for index, changes in self._dirty.items():
            name = f"{index:02d}.json"
            shard = self._shards[index]
            if self._changed_since_read(name, self._loaded_mtime.get(index)):
                shard, _ = self._read_shard(index)  # another run wrote it meanwhile
                shard.update(changes)
            shard = {p: e for p, e in shard.items() if _valid_entry(e) and e[4] >= oldest}
            if len(shard) > MAX_ENTRIES_PER_SHARD:
                keep = sorted(shard.items(), key=lambda item: item[1][4], reverse=True)[:MAX_ENTRIES_PER_SHARD]
                shard = dict(keep)
            self._write_sealed(name, shard)
            self._shards[index] = shard
            self._flush_facts(index, shard)
        self._dirty.clear()
        self._prune_fingerprints()

    def _flush_facts(self, index: int, shard: dict[str, Entry]) -> None:
        """Write the facts of one shard when this run added some, keeping only the facts of
        entries still in the shard, for the content they were made from."""
        changes = self._facts_dirty.pop(index, None)
        if not changes:
            return
        name = f"{index:02d}.facts.json"
        facts = self._facts_shard(index)
        if self._changed_since_read(name, self._facts_mtime.get(index)):
            data, _ = self._read_sealed(name)
            facts = data if type(data) is dict else {}
        facts.update(changes)
        facts = {p: f for p, f in facts.items()
                 if p in shard and shard[p][6] is True and type(f) is list and len(f) == 2 and f[0] == shard[p][3]}
        self._facts[index] = facts
        self._write_sealed(name, facts)

    def _changed_since_read(self, name: str, loaded: int | None) -> bool:
        try:
            mtime = os.lstat(self.dir / name).st_mtime_ns
        except OSError:
            return False
        return mtime != loaded

    def _write_atomic(self, path: Path, data: bytes) -> None:
        try:
            fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)  # replaces a link in the way, never writes through it
        except OSError:
            try:
                os.unlink(temp)
            except OSError:
                pass

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tag_file = self.root / "CACHEDIR.TAG"
        if not os.path.lexists(tag_file):
            self._write_atomic(tag_file, CACHEDIR_TAG.encode())
            self._write_atomic(self.root / ".gitignore", b"# Created by attrlint\n*\n")

    def _prune_fingerprints(self) -> None:
        """Remove other configurations' and versions' shards unused for MAX_AGE_DAYS. Only
        real directories named like a fingerprint are removed, never through a link."""
        layout = self.root / LAYOUT
        marker = self.dir / ".used"
        if not self.usable:
            return
        try:
            if _is_link(layout) or _is_link(self.dir) or not self.dir.is_dir():
                return
            st = os.lstat(marker) if os.path.lexists(marker) else None
            if st is not None and stat.S_ISREG(st.st_mode) and st.st_mtime // 86400 == self.today:
                return  # pruned already today
            if st is not None:
                os.unlink(marker)  # recreated below as a plain file, whatever it was
            os.close(os.open(marker, os.O_CREAT | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o644))
            limit = time.time() - MAX_AGE_DAYS * 86400
            for other in layout.iterdir():
                if other == self.dir or not _FINGERPRINT.match(other.name):
                    continue
                info = os.lstat(other)
                if not stat.S_ISDIR(info.st_mode):
                    continue
                used = other / ".used"
                when = os.lstat(used).st_mtime if os.path.lexists(used) else info.st_mtime
                if when < limit:
                    shutil.rmtree(other, ignore_errors=True)
        except OSError:
            return


def open_caches(linters: dict[int, Any], cache_dir: str | None) -> dict[int, Cache]:
    """Each configuration's cache, at its project root unless a directory is given. The
    default place is inside the project, so it is not used when it is a symbolic link."""
    caches = {}
    for index, linter in linters.items():
        root, chosen = cache_root(linter.config, cache_dir)
        caches[index] = Cache(root, linter_fingerprint(linter), usable=chosen or not _is_link(root))
    return caches

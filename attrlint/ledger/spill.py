"""Spill files: where rows wait when the database cannot take them, until it can.

Each ledger URL has one spill folder, whatever the current directory: `ATTRLINT_SPILL_DIR`/TAG,
else the user's state directory (`$XDG_STATE_HOME/attrlint/spill/TAG`, `~/.local/state/...` on
Linux; `~/Library/Application Support/attrlint/spill/TAG` on macOS; `%LOCALAPPDATA%\\attrlint\\
spill\\TAG` on Windows). TAG is a hash of the URL without its password, so no path holds a
credential; the folder's LEDGER file names the ledger (password redacted).

A spill file is append-only, one record a line: eight hex digits of the CRC-32 of the JSON that
follows, a space, the JSON (ASCII-escaped, so lossless), a newline. A torn or damaged line (a
crash mid-write, a bad sector) fails its checksum: it is skipped, counted, and copied to a
`damaged-*` file beside it; every complete line is replayed.

The process writing a file holds an exclusive lock on it (`flock`; `msvcrt.locking` on Windows)
for as long as it may append. Whoever replays takes the same lock first, so a file is replayed by
one process at a time, and never while its writer lives. The operating system drops the lock
when a process dies, even by `kill -9`, so a crash during a replay leaves the file for the next
one; rows already written then are skipped by id, never duplicated.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import secrets
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrlint.ledger.records import jsonable
from attrlint.ledger.stores.base import Quarantined

SUFFIX = ".spill"
INFO_FILE = "LEDGER"
Entry = tuple[str, Any]  # ("r", row) or ("q", Quarantined)

try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False
except ImportError:  # pragma: no cover - Windows
    try:
        import msvcrt

        def _try_lock(fd: int) -> bool:
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
                return True
            except OSError:
                return False
    except ImportError:
        def _try_lock(fd: int) -> bool:
            return True


def state_home() -> Path:
    """Where attrlint keeps state for this user (not the project's folder)."""
    home = Path.home()
    if sys.platform == "win32":  # pragma: no cover
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "attrlint"
    if sys.platform == "darwin":  # pragma: no cover
        return home / "Library" / "Application Support" / "attrlint"
    return Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state") / "attrlint"


def spill_root() -> Path:
    """`ATTRLINT_SPILL_DIR`, else the state directory's `spill` folder."""
    configured = os.environ.get("ATTRLINT_SPILL_DIR")
    return Path(configured) if configured else state_home() / "spill"


def folder_for(identity: str) -> Path:
    """The spill folder of the ledger whose credential-free identity is `identity`."""
    kind = identity.split(":", 1)[0]
    return spill_root() / f"{kind}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def _encode(entry: Entry) -> bytes:
    kind, value = entry
    body = ["r", list(value)] if kind == "r" else ["q", *value]
    payload = json.dumps(body, ensure_ascii=True, separators=(",", ":"), default=jsonable).encode("ascii")
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def _decode(line: bytes) -> Entry | None:
    """The entry of one complete line, or None when it fails its checksum or does not parse."""
    if len(line) < 11 or line[8:9] != b" " or not line.endswith(b"\n"):
        return None
    payload = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        body = json.loads(payload)
        if body[0] == "r":
            return "r", tuple(body[1])
        if body[0] == "q":
            return "q", Quarantined(*body[1:])
    except (ValueError, TypeError, IndexError, UnicodeDecodeError):
        return None
    return None


class SpillWriter:
    """This process's spill file for one ledger: opened on first use, locked while open, each
    append flushed and fsynced before it returns."""

    def __init__(self, directory: Path, label: str) -> None:
        self.directory = directory
        self.label = label
        self.path: Path | None = None
        self._fd: int | None = None

    def append(self, entries: list[Entry]) -> None:
        """Append entries; raises OSError when the folder cannot take them (nothing is half
        written that a replay would take for a record)."""
        data = b"".join(_encode(e) for e in entries)
        if self._fd is None:
            self._open()
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = self.directory / INFO_FILE
        if not info.exists():
            with contextlib.suppress(OSError):
                info.write_text(self.label + "\n", encoding="utf-8")
        path = self.directory / f"{os.getpid()}-{secrets.token_hex(6)}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o600)
        _try_lock(fd)
        self.path, self._fd = path, fd

    @property
    def active(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        """Stop appending (the lock goes; the file stays for a replay)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd, self.path = None, None

    def forget(self) -> None:
        """In a forked child: let go of the parent's file without touching its lock."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # the parent's descriptor keeps the lock
        self._fd, self.path = None, None


@dataclass
class Claimed:
    """A spill file this process holds the lock of, to replay it."""

    path: Path
    fd: int
    legacy: bool = False
    damaged: int = 0
    entries_read: int = 0
    _damaged_out: Path | None = field(default=None, repr=False)

    def chunks(self, size: int) -> Iterator[list[Entry]]:
        """Its complete entries, `size` at a time; damaged lines are counted and set aside."""
        chunk: list[Entry] = []
        with os.fdopen(os.dup(self.fd), "rb") as fh:
            fh.seek(0)
            for line in fh:
                entry = _decode_legacy(line) if self.legacy else _decode(line)
                if entry is None:
                    if line.strip():
                        self._set_aside(line)
                    continue
                self.entries_read += 1
                chunk.append(entry)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def _set_aside(self, line: bytes) -> None:
        self.damaged += 1
        if self._damaged_out is None:
            self._damaged_out = self.path.with_name(f"damaged-{self.path.name}.txt")
        with contextlib.suppress(OSError), open(self._damaged_out, "ab") as out:
            out.write(line if line.endswith(b"\n") else line + b"\n")

    def done(self) -> None:
        """Every entry is written: remove the file, then let go of it."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self.release()

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _decode_legacy(line: bytes) -> Entry | None:
    """A line of an attrlint 0.1.0 spill file: a JSON array of the row's values."""
    try:
        row = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return ("r", tuple(row)) if isinstance(row, list) and line.endswith(b"\n") else None


def pending_files(directory: Path) -> list[Path]:
    """Spill files in `directory` (each may be in use by the process writing it)."""
    return sorted(Path(p) for p in glob.glob(str(directory / f"*{SUFFIX}")))


def damaged_files(directory: Path) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(directory / f"damaged-*{SUFFIX}.txt")))


def count_entries(paths: list[Path]) -> int:
    """Lines in the files (what a replay would write, before checksums)."""
    total = 0
    for path in paths:
        with contextlib.suppress(OSError), open(path, "rb") as fh:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return total


def claim(path: Path, *, legacy: bool = False) -> Claimed | None:
    """Lock a spill file to replay it; None when its writer (or another replay) holds it, or it
    is gone."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    if legacy:
        if not _legacy_owner_gone(path) or not _try_lock(fd):
            os.close(fd)
            return None
    elif not _try_lock(fd):
        os.close(fd)
        return None
    try:  # the file may have been replayed and removed between our open and our lock
        same = os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        same = False
    if not same:
        os.close(fd)
        return None
    return Claimed(path, fd, legacy=legacy)


# -- spill files of attrlint 0.1.0 (`.attrlint/spill/` under the directory it ran in) -------------

def legacy_files(directory: Path, url: str) -> list[Path]:
    """0.1.0 spill files of `url` in `directory`: `TAG-PID-THREAD.jsonl`, and the
    `.replaying-PID` files a replay that died left behind."""
    tag = hashlib.sha256(url.encode()).hexdigest()[:12]
    found = glob.glob(str(directory / f"{tag}-*.jsonl")) + glob.glob(str(directory / f"{tag}-*.replaying-*"))
    return sorted(Path(p) for p in found)


def _legacy_owner_gone(path: Path) -> bool:
    """Whether the process named in a 0.1.0 file name (its writer, or the replay that claimed
    it) is gone, so the file is no one's."""
    name = path.name
    try:
        pid = int(name.rsplit(".replaying-", 1)[1]) if ".replaying-" in name else int(name.split("-")[1])
    except (IndexError, ValueError):
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False

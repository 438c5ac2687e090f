"""The secret that authenticates the result cache, and the seal made with it.

The cache lives in the project (next to its configuration), where a pull request can commit
files. Every cache file therefore carries a keyed BLAKE2b tag over its content, made with a
random 32-byte key that lives outside any project, in the user's cache directory:

    $XDG_CACHE_HOME/attrlint/cache.key    (else ~/.cache/attrlint/cache.key)
    %LOCALAPPDATA%\\attrlint\\cache.key    (Windows)

A file whose tag does not verify was not written by this user's attrlint: it is a cache miss.

The key file is created with mode 0600 in a 0700 directory. On POSIX a key file that is not a
regular file owned by the current user, or that group or others may read or write, is not
trusted and is replaced (git checks files out 0644 or 0755, so a key committed to a repository
that happens to hold the cache directory is never used). When no key can be read or created
(no home directory, a read-only file system), a random key held in memory serves this process
only: nothing written before is trusted, and the run's results are the same.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from pathlib import Path

KEY_NAME = "cache.key"
KEY_BYTES = 32
TAG_BYTES = 32
_PERSON = b"attrlint-cache"  # BLAKE2b personalisation: a tag made for anything else never verifies here

_KEY: bytes | None = None
_KEY_IS_EPHEMERAL = False


def user_cache_dir() -> Path | None:
    """attrlint's directory in the user's cache directory, or None when there is no home."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "attrlint" if base and os.path.isabs(base) else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return Path(xdg) / "attrlint"
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        return None
    return home / ".cache" / "attrlint"


def _trusted(st: os.stat_result) -> bool:
    if not stat.S_ISREG(st.st_mode) or st.st_size != KEY_BYTES:
        return False
    if os.name == "nt":
        return True
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


def _read_key(path: Path) -> bytes | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not _trusted(os.fstat(fd)):
            return None
        data = os.read(fd, KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) == KEY_BYTES else None


def _create_key(directory: Path) -> bytes | None:
    """A new key, written to `directory/cache.key` atomically; the key another process wrote
    first when two race; None when the directory cannot take it."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".key-", dir=directory)  # mkstemp creates it 0600
    except OSError:
        return None
    key = secrets.token_bytes(KEY_BYTES)
    target = directory / KEY_NAME
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, target)  # fails if another process created it meanwhile
        except FileExistsError:
            existing = _read_key(target)
            if existing is not None:
                return existing
            os.replace(temp, target)  # an untrusted file is in the way: replace it
            return key
        except OSError:  # no hard links here (some file systems): last writer wins
            os.replace(temp, target)
            return key
        return key
    except OSError:
        return None
    finally:
        try:
            os.unlink(temp)
        except OSError:
            pass


def user_key() -> bytes:
    """This user's cache key (read once per process), created on first use."""
    global _KEY, _KEY_IS_EPHEMERAL
    if _KEY is None:
        directory = user_cache_dir()
        key = None
        if directory is not None:
            key = _read_key(directory / KEY_NAME) or _create_key(directory)
        if key is None:
            key, _KEY_IS_EPHEMERAL = secrets.token_bytes(KEY_BYTES), True
        _KEY = key
    return _KEY


def key_is_ephemeral() -> bool:
    """True when no key file could be used and this process's key lives in memory only."""
    user_key()
    return _KEY_IS_EPHEMERAL


def forget_key() -> None:
    """Read the key again on next use (after the environment that locates it changed)."""
    global _KEY, _KEY_IS_EPHEMERAL
    _KEY, _KEY_IS_EPHEMERAL = None, False


def tag(context: bytes, body: bytes, key: bytes | None = None) -> bytes:
    """The keyed BLAKE2b tag of `body` bound to `context` (which file of which cache it is), so
    that a genuine file copied to another place in the cache does not verify there either."""
    h = hashlib.blake2b(key=key if key is not None else user_key(), digest_size=TAG_BYTES, person=_PERSON)
    h.update(len(context).to_bytes(4, "big"))
    h.update(context)
    h.update(body)
    return h.digest()


def verify(context: bytes, body: bytes, expected: bytes, key: bytes | None = None) -> bool:
    return hmac.compare_digest(tag(context, body, key), expected)

"""Provider keys in text, told apart from the fixtures that look like them.

A match of one of the catalogue's key formats (`sk-proj-…`, `AIza…`, `gsk_…`) is a key
unless its random part shows it was written by a person, the way detect-secrets' entropy
plugins and gitleaks' per-rule entropy thresholds decide. The random part (the *body*) is
what follows the format's literal prefix (`sk-proj-`, `sk-ant-api03-`, `AIza`, `AKIA`). A
body is a fixture when any of these holds:

- it repeats a unit (at least twice): `000…0`, `abc123abc123…`, `DEADBEEFDEADBEEF`;
- its Shannon entropy is below `min(3.0, log2(len) - 2)` bits per character (2.0 for the
  16 characters of an AWS key id, 3.0 from 32 characters on): `0…01`, `test` + `x` × 40;
- at least half of it (three quarters, below 24 characters) is runs of three or more
  sequential or repeated characters (`abcdefghijklmnopqrstuvwxyz1234567890`, `AAAABBBB…`),
  also counted over every other character (`A1B2C3D4…`);
- it holds a test marker (`test`, `fake`, `dummy`, `example`, `sample`, `mock`, `demo`,
  `placeholder`, `invalid`, `redacted`, `changeme`, `notreal`, `secret`, `your`) as a word of
  its own (`-test-`, `_fake_`, at either end before `-`/`_`), or a marker of five letters or
  more at either end (`…7EXAMPLE`);
- at least half of it is common English words (`thisisnotarealkey…`).

Randomly generated keys in every format of the catalogue pass all five. Drawn uniformly from
each format (`benchmarks/key_fixtures.py`: 20,000 per format, and 200,000 AWS key ids, whose 16
characters leave the least room), none was taken for a fixture; the closest came to a run
share of 0.44 and a word share of 0.38, both on AWS key ids. The suite checks both sides
(tests/lint/test_key_fixtures.py).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from attrlint.core.catalogue import Catalogue, literal_prefixes

ENTROPY_CEILING = 3.0  # bits per character a body of 32 characters or more must reach
RUN_SHARE = 0.5  # share of a body in sequential or repeated runs that makes it a fixture...
SHORT_RUN_SHARE = 0.75  # ... or of a body shorter than LONG_BODY, where chance runs are likelier
LONG_BODY = 24
RUN_LENGTH = 3  # the shortest run that counts
WORD_SHARE = 0.5  # share of a body in common English words that makes it a fixture
SHORTEST = 16  # the word and every-other-character tests apply from this length on (every format's)

MARKERS = ("test", "fake", "dummy", "example", "sample", "mock", "demo", "placeholder", "invalid",
           "redacted", "changeme", "notreal", "secret", "your")
_ALL_MARKERS = "|".join(MARKERS)
_LONG_MARKERS = "|".join(m for m in MARKERS if len(m) >= 5)
_DELIMITED_MARKER = re.compile(rf"(?i)(?<![A-Za-z0-9])(?:{_ALL_MARKERS})(?![A-Za-z0-9])")
_END_MARKER = re.compile(rf"(?i)^(?:{_LONG_MARKERS})|(?:{_LONG_MARKERS})$")
# Words people put in made-up keys; three letters or more.
_WORDS = tuple(sorted({
    "this", "that", "your", "here", "key", "keys", "api", "secret", "token", "test", "fake", "dummy",
    "example", "sample", "mock", "placeholder", "insert", "replace", "change", "real", "not", "valid",
    "invalid", "openai", "anthropic", "google", "gemini", "claude", "project", "demo", "value", "string",
    "something", "abcd", "abcdef", "qwerty", "password", "pass", "word", "hello", "world", "foo", "bar",
    "baz", "lorem", "ipsum", "proj", "account", "access", "private", "public", "default", "just", "only",
    "some", "none", "null", "empty", "unused", "local", "dev", "prod", "staging", "development",
    "production", "goes", "put", "own", "use", "the", "and", "for", "with", "from", "docs",
}, key=len, reverse=True))
# what may follow the literal prefix before the random part: `-`, `03-` of `sk-ant-api03-`, `v1-` of `sk-or-v1-`
_VERSION_PART = re.compile(r"^[-_]?(?:[A-Za-z]{0,4}\d{1,2}[-_])?")


@dataclass(frozen=True)
class KeyMatch:
    """A key-format match in some text: where it is, which format, and the key itself."""

    start: int
    end: int
    format_name: str
    key: str


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(text)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _period(text: str) -> int:
    n = len(text)
    for p in range(1, n // 2 + 1):
        if text[:n - p] == text[p:]:
            return p
    return 0


def run_share(text: str) -> float:
    """The share of `text` in runs of `RUN_LENGTH` or more characters that step by -1, 0 or
    +1 (`abc`, `321`, `aaa`, case-folded; digits and letters apart)."""
    low = text.lower()
    n = len(low)
    if not n:
        return 0.0
    covered = i = 0
    while i < n - RUN_LENGTH + 1:
        a = low[i]
        step = ord(low[i + 1]) - ord(a)
        if step in (-1, 0, 1) and a.isalnum() and low[i + 1].isalnum() and a.isdigit() == low[i + 1].isdigit():
            j = i + 1
            while (j + 1 < n and ord(low[j + 1]) - ord(low[j]) == step and low[j + 1].isalnum()
                   and low[j + 1].isdigit() == a.isdigit()):
                j += 1
            if j - i + 1 >= RUN_LENGTH:
                covered += j - i + 1
                i = j + 1
                continue
        i += 1
    return covered / n


def word_share(text: str) -> float:
    """The share of `text` covered by common English words (case-insensitive)."""
    low = text.lower()
    covered = bytearray(len(low))
    for word in _WORDS:
        at = low.find(word)
        while at >= 0:
            covered[at:at + len(word)] = b"\1" * len(word)
            at = low.find(word, at + 1)
    return sum(covered) / max(len(low), 1)


def fixture_reason(body: str) -> str | None:
    """Why a key's random part was written by a person, or None when it looks generated."""
    n = len(body)
    if n == 0:
        return "empty"
    unit = _period(body)
    if unit:
        return f"repeats {body[:min(unit, 8)]!r}"
    if entropy(body) < min(ENTROPY_CEILING, math.log2(n) - 2):
        return "too few distinct characters"
    share = run_share(body)
    if n >= SHORTEST:
        share = max(share, (run_share(body[0::2]) + run_share(body[1::2])) / 2)
    if share >= (RUN_SHARE if n >= LONG_BODY else SHORT_RUN_SHARE):
        return "sequential or repeated characters"
    marker = _DELIMITED_MARKER.search(body) or _END_MARKER.search(body)
    if marker:
        return f"test marker {marker.group(0)!r}"
    if n >= SHORTEST and word_share(body) >= WORD_SHARE:
        return "dictionary words"
    return None


@functools.lru_cache(maxsize=8)
def _prefixes(catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    """Each format's literal prefixes, longest first (`sk-proj-`, `sk-svcacct-`, ...)."""
    found: dict[str, tuple[str, ...]] = {}
    for vendor in catalogue.vendors.values():
        for name, pattern in vendor.key_formats:
            found[name] = tuple(sorted(literal_prefixes(pattern.pattern) or (), key=len, reverse=True))
    return found


def key_body(key: str, format_name: str, catalogue: Catalogue) -> str:
    """The random part of a key: without its format's literal prefix and a version part."""
    for prefix in _prefixes(catalogue).get(format_name, ()):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    return _VERSION_PART.sub("", key, count=1)


def is_fixture(key: str, format_name: str, catalogue: Catalogue) -> bool:
    return fixture_reason(key_body(key, format_name, catalogue)) is not None


def find_keys(text: str, catalogue: Catalogue) -> Iterator[KeyMatch]:
    """The real keys in `text` (fixtures skipped), in order."""
    for match in catalogue.key_matches(text):
        key = match.group(0)
        name = catalogue.format_of(match)
        if not is_fixture(key, name, catalogue):
            yield KeyMatch(match.start(), match.end(), name, key)


def find_keys_by_line(text: str, catalogue: Catalogue) -> Iterator[tuple[int, int, KeyMatch]]:
    """(1-based line, 1-based column, match) of every real key in `text`."""
    if catalogue.key_format(text) is None:  # cheap rejection of the whole text
        return
    line_starts = [0]
    for at, ch in enumerate(text):
        if ch == "\n":
            line_starts.append(at + 1)
    import bisect

    for found in find_keys(text, catalogue):
        index = bisect.bisect_right(line_starts, found.start) - 1
        yield index + 1, found.start - line_starts[index] + 1, found

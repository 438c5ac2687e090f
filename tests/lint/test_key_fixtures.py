"""ATR101 tells generated keys from fixtures: every randomly generated key in every provider
format is found, in any file; the strings people write as stand-ins are not.

Keys are drawn at run time (tests/support/keys.py); no key-shaped literal is in this file.
"""

from __future__ import annotations

import math
import random

import pytest
from support.keys import key_matching, provider_formats, redacted

from attrlint.core.catalogue import load_catalogue
from attrlint.core.keyscan import (
    ENTROPY_CEILING,
    RUN_SHARE,
    WORD_SHARE,
    entropy,
    find_keys,
    fixture_reason,
    key_body,
    run_share,
    word_share,
)

FORMATS = provider_formats()
CATALOGUE = load_catalogue()


def _prefix(name: str, regex: str, rng: random.Random) -> str:
    """A key of the format with its random part cut off: the literal text it starts with."""
    key = key_matching(regex, rng, extra=0)
    return key[:len(key) - len(key_body(key, name, CATALOGUE))]


def test_every_format_is_covered():
    names = {name for name, _ in FORMATS}
    assert {"OpenAI project key", "OpenAI key", "Anthropic key", "Google API key", "AWS access key id",
            "Groq key", "xAI key", "OpenRouter key", "Perplexity key", "Hugging Face token",
            "Replicate token"} <= names


@pytest.mark.parametrize(("name", "regex"), FORMATS, ids=[n for n, _ in FORMATS])
def test_generated_keys_are_always_found(name, regex):
    """Recall 1.0: 400 keys per format drawn fresh on every run, at the format's shortest
    length and longer (benchmarks/key_fixtures.py draws hundreds of thousands)."""
    rng = random.SystemRandom()
    for i in range(400):
        key = key_matching(regex, rng, extra=0 if i % 2 else 64)
        found = list(find_keys(key, CATALOGUE))
        assert [f.key for f in found] == [key], (name, redacted(key), fixture_reason(key_body(key, name, CATALOGUE)))


def _fixtures(name: str, regex: str) -> list[str]:
    """Stand-ins people write in the shape of a format, built from its literal prefix."""
    prefix = _prefix(name, regex, random.Random(0))
    minimum = len(key_matching(regex, random.Random(0), extra=0)) - len(prefix)
    hexadecimal = "[a-f0-9]" in regex
    upper = "[0-9A-Z]" in regex
    bodies = [
        "0" * minimum,
        "0" * (minimum - 1) + "1",
        ("1234567890abcdef" * 8)[:minimum],
        ("abc123" * 20)[:minimum],
        ("deadbeef" * 10)[:minimum],
    ]
    if not hexadecimal:
        bodies += [
            ("abcdefghijklmnopqrstuvwxyz1234567890" * 3)[:minimum],
            ("aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789" * 3)[:minimum],
            ("x" * 80)[:minimum],
            ("a1b2c3d4e5f6g7h8i9j0" * 5)[:minimum],
            ("thisisnotarealkeyjustforthedocsandtests" * 3)[:minimum],
            ("testkeytestkeytestkey" * 5)[:minimum],
        ]
    if upper:
        bodies = [b.upper() for b in bodies] + ["IOSFODNN7EXAMPLE", "ABCDEFGHIJKLMNOP", "AAAABBBBCCCCDDDD"]
    if "_" in regex and not upper:  # formats whose body may hold `-` and `_`
        bodies += [("test-key-" + "0" * 80)[:minimum], ("my_fake_key_" + "1234567890" * 9)[:minimum]]
    return [prefix + body for body in bodies]


@pytest.mark.parametrize(("name", "regex"), FORMATS, ids=[n for n, _ in FORMATS])
def test_fixtures_are_not_keys(name, regex):
    compiled = __import__("re").compile(regex)
    for fixture in _fixtures(name, regex):
        if not compiled.fullmatch(fixture):
            continue  # a stand-in this format cannot hold
        assert list(find_keys(fixture, CATALOGUE)) == [], (name, fixture)


def test_the_fixture_corpus_reaches_every_format():
    import re

    for name, regex in FORMATS:
        matching = [f for f in _fixtures(name, regex) if re.fullmatch(regex, f)]
        assert len(matching) >= 4, name


# -- each threshold, from both sides ---------------------------------------------------------

SCATTERED = "KQ7ZP3XW9MR5TD2XK8QZ"  # letters and digits in no sequence: passes every test alone


def _random_body(n: int) -> str:
    rng = random.SystemRandom()
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    while True:
        body = "".join(rng.choice(alphabet) for _ in range(n))
        if fixture_reason(body) is None:
            return body


def test_entropy_threshold_both_sides():
    # 16 characters: the threshold is log2(16) - 2 = 2.0 bits per character
    below = "ABABABABABABABAC"  # three distinct characters, no repeating unit, no run of three
    assert entropy(below) < 2.0 and fixture_reason(below) == "too few distinct characters"
    above = "AKQZ7PB3XW2MR9TD"
    assert entropy(above) > 2.0 and fixture_reason(above) is None
    # from 32 characters on, the threshold is ENTROPY_CEILING
    assert min(ENTROPY_CEILING, math.log2(32) - 2) == ENTROPY_CEILING
    few = "q8" * 14 + "zq8Kq8" + "q8" * 13 + "Zq8kq8z"  # no unit repeats, few distinct characters
    assert entropy(few) < ENTROPY_CEILING and fixture_reason(few) == "too few distinct characters"
    assert fixture_reason(_random_body(64)) is None


def test_run_share_threshold_both_sides():
    half = SCATTERED + "abcdefghijklmnopqrst"  # 20 of 40 characters in one run: the threshold
    assert run_share(half) == RUN_SHARE and fixture_reason(half) == "sequential or repeated characters"
    less = SCATTERED + "abcdefghijklmno" + "Q7Z2X"  # 15 of 40
    assert run_share(less) < RUN_SHARE and fixture_reason(less) is None


def test_word_share_threshold_both_sides():
    many = "thisisnotarealkeyforthedocs" + "QXZ7395KWP9Q3Z7X"  # 24 of 43 characters are words
    assert word_share(many) >= WORD_SHARE and fixture_reason(many) == "dictionary words"
    few = "realkey" + "QXZ7395KWP9Q3Z7XQ5Z3K7W9PX3"  # 7 of 34
    assert word_share(few) < WORD_SHARE and fixture_reason(few) is None


def test_markers_count_only_as_words_of_their_own():
    body = _random_body(40)
    assert fixture_reason("test-" + body) is not None
    assert fixture_reason(body[:20] + "_fake_" + body[20:]) is not None
    assert fixture_reason(body[:24] + "EXAMPLE") is not None
    # a marker's letters inside random text are chance, not a marker
    assert fixture_reason(body[:20] + "Test" + body[20:]) is None


def test_a_key_inside_a_sentence_is_shown_alone(lint_findings):
    rng = random.SystemRandom()
    key = key_matching(dict(FORMATS)["OpenAI project key"], rng)
    findings = lint_findings(f'HELP = "Run `export OPENAI_KEY_SUPPORT={key}` before you start"\n')
    assert [f.code for f in findings] == ["ATR101"]
    assert f"'{redacted(key)}'" in findings[0].message
    assert "Run" not in findings[0].message and key not in findings[0].message + findings[0].snippet


def test_the_first_real_key_of_a_literal_is_reported(lint_findings):
    rng = random.SystemRandom()
    key = key_matching(dict(FORMATS)["Groq key"], rng)
    fixture = "sk-" + "0" * 48
    findings = lint_findings(f'EXAMPLES = "{fixture} and {key}"\n')
    assert len(findings) == 1 and redacted(key) in findings[0].message


@pytest.fixture
def lint_findings():
    from support.source import lint

    return lambda source: [f for f in lint(source) if f.code == "ATR101"]


def test_short_bodies_need_longer_runs():
    """Below 24 characters (an AWS key id's 16) chance runs are likelier: three quarters count."""
    chance = "PXPEYQYXWVHHHHBG"  # drawn at random: `YXWV` and `HHHH`, half of it
    assert run_share(chance) == 0.5 and fixture_reason(chance) is None
    written = "PXABCDEFGHIJKLMQ"  # 13 of 16
    assert run_share(written) >= 0.75 and fixture_reason(written) == "sequential or repeated characters"

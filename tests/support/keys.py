"""Fake API keys in the providers' real formats, built at run time.

No key-shaped literal is written in any source of the suite: each key is made here from a
split prefix and random characters, so a secret scanner has nothing to find and no test can
come to depend on one particular key.
"""

from __future__ import annotations

import random
import secrets
import string

BASE62 = string.ascii_letters + string.digits


def random_base62(n: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(n))


def fake_key(prefix: str, length: int) -> str:
    """`prefix` followed by `length` random base62 characters."""
    return prefix + random_base62(length)


def fake_openai_key() -> str:
    return fake_key("sk-" + "proj-", 56)


def fake_anthropic_key() -> str:
    return fake_key("sk-" + "ant-api03-", 80) + "AA"


def fake_google_key() -> str:
    return fake_key("AI" + "za", 35)


def fake_azure_key() -> str:
    """Azure OpenAI's 32 hexadecimal characters."""
    return secrets.token_hex(16)


def fake_aws_access_key() -> str:
    """An AWS access key id: AKIA and 16 upper-case letters or digits."""
    return "AK" + "IA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def redacted(key: str) -> str:
    """How attrlint shows a key of ordinary length: its first six and last four characters."""
    return f"{key[:6]}…{key[-4:]}"


def key_matching(pattern: str, rng: random.Random, *, extra: int = 32) -> str:
    """A key drawn uniformly from a key format: each character class position picks one of
    its characters at random, an open-ended repeat runs to its minimum plus up to `extra`."""
    from re import _parser  # type: ignore[attr-defined]

    out: list[str] = []

    def emit(items: list) -> None:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "IN":
                chars: list[str] = []
                for kind, value in arg:
                    if str(kind) == "LITERAL":
                        chars.append(chr(value))
                    elif str(kind) == "RANGE":
                        chars.extend(chr(c) for c in range(value[0], value[1] + 1))
                    else:
                        raise ValueError(f"unsupported class item {kind} in {pattern!r}")
                out.append(rng.choice(chars))
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, high, sub = arg
                high = low + extra if high == _parser.MAXREPEAT else high
                for _ in range(rng.randint(low, high)):
                    emit(list(sub))
            elif name == "SUBPATTERN":
                emit(list(arg[-1]))
            elif name == "BRANCH":
                emit(list(rng.choice(arg[1])))
            else:
                raise ValueError(f"unsupported regex element {name} in {pattern!r}")

    emit(list(_parser.parse(pattern)))
    return "".join(out)


def provider_formats() -> list[tuple[str, str]]:
    """(format name, regex) of every key format in the provider catalogue."""
    from attrlint.core.catalogue import load_catalogue

    return [(name, regex.pattern) for vendor in load_catalogue().vendors.values()
            for name, regex in vendor.key_formats]

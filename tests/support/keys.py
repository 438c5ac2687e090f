"""Fake API keys in the providers' real formats, built at run time.

No key-shaped literal is written in any source of the suite: each key is made here from a
split prefix and random characters, so a secret scanner has nothing to find and no test can
come to depend on one particular key.
"""

from __future__ import annotations

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

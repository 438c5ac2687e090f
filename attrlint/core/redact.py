"""Secrets never leave redacted form: every text attrlint writes passes through here."""

from __future__ import annotations

import re

from attrlint.core.catalogue import Catalogue, key_prefixes


def redact(secret: str) -> str:
    """First 6 and last 4 characters at most; short values keep less."""
    if len(secret) >= 20:
        return f"{secret[:6]}…{secret[-4:]}"
    if len(secret) >= 8:
        return f"{secret[:2]}…{secret[-2:]}"
    return "…"


def redact_text(text: str, catalogue: Catalogue) -> str:
    """Replace every key-format match in `text` by its redacted form."""
    prefixes = key_prefixes(catalogue.key_regex)
    if prefixes is not None and not any(p in text for p in prefixes):
        return text  # substring tests are far cheaper than the regex
    if not catalogue.key_regex.search(text):
        return text
    return catalogue.key_regex.sub(lambda m: redact(m.group(0)), text)


_USERINFO = re.compile(r"(^|[/:])([^/:@\s]*):([^@/\s]+)@")


def redact_url(url: str) -> str:
    """A URL without its password, for messages; malformed ones too (`postgresql:/user:pw@host`)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        password = None
    if password:
        netloc = parts.netloc.replace(f":{password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", url)

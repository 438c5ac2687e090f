"""Local token estimates for calls whose usage the provider never reported (a stream the caller
closed, or a connection that dropped, before the usage event).

OpenAI models are counted with tiktoken (the `estimate` extra) when the model's encoding is
already on this machine (tiktoken's cache: `TIKTOKEN_CACHE_DIR`, else its temp-dir cache):
attrlint never downloads one on the caller's thread. Otherwise, and for other providers,
Anthropic's published rule of thumb applies: about 3.5 characters of English per token.
Chat messages add OpenAI's per-message overhead (3 tokens each, 3 to prime the reply).

Rows priced from an estimate say so (`estimated = 1`), and reports show them apart."""

from __future__ import annotations

import functools
import hashlib
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

CHARS_PER_TOKEN = 3.5  # Anthropic: "a token approximately represents 3.5 English characters"
_PER_MESSAGE = 3
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding", "davinci", "babbage", "ft:gpt")
_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def count_text(model: str | None, text: str) -> int:
    """Tokens in `text` for `model`: tiktoken's exact count for OpenAI models when available,
    else the 3.5-characters-per-token estimate."""
    if not text:
        return 0
    encoding = _encoding(model) if model else None
    if encoding is not None:
        return len(encoding.encode(text, disallowed_special=()))
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(model: str | None, body: Mapping[str, Any]) -> int:
    """Estimated prompt tokens of a request body (chat, responses, completions or messages)."""
    texts: list[str] = []
    messages = 0
    for key in ("system", "instructions", "prompt", "input", "messages", "contents"):
        value = body.get(key)
        if value is None:
            continue
        if key in ("messages", "input", "contents") and isinstance(value, list):
            messages += len(value)
        _texts(value, texts)
    overhead = _PER_MESSAGE * messages + (_PER_MESSAGE if messages else 0)
    return count_text(model, "\n".join(texts)) + overhead


def content_tokens(model: str | None, value: Any) -> int:
    """Estimated tokens of the text in `value` (a string, parts, contents...): an embedding's input."""
    texts: list[str] = []
    _texts(value, texts)
    return count_text(model, "\n".join(texts))


def _texts(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):
        for key in ("content", "text", "parts", "input", "system"):
            if key in value:
                _texts(value[key], out)
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)):
        for item in value:
            _texts(item, out)


@functools.lru_cache(maxsize=64)
def _encoding(model: str) -> Any:
    if not model.lower().startswith(_OPENAI_PREFIXES):
        return None
    try:
        import tiktoken
        from tiktoken.model import encoding_name_for_model
    except ImportError:
        return None
    try:
        name = encoding_name_for_model(model)
    except KeyError:
        name = "o200k_base"
    if not _cached(name):
        return None  # loading it would download it: estimate instead
    try:
        return tiktoken.get_encoding(name)
    except Exception:  # noqa: BLE001 - an estimate must never fail the recording
        return None


def _cached(name: str) -> bool:
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        return False
    key = hashlib.sha1(_BLOB.format(name).encode()).hexdigest()  # tiktoken's cache key
    return os.path.exists(os.path.join(cache_dir, key))

"""Who a request went to, from where it went: the ledger's provider label for a base URL or
host (`openai`, `azure`, `deepseek`, `openrouter`, `google`, `bedrock/eu-west-1`,
`vertex/us-east5`, ... or `self-hosted`), from the `[[hosts]]` table of runtime.toml.

Only the host is ever kept: never the path, the query string or credentials in the URL."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from attrlint.core import toml as _toml
from attrlint.core.data import data_path

SELF_HOSTED = "self-hosted"


@dataclass(frozen=True)
class HostRule:
    pattern: re.Pattern[str]
    provider: str


@dataclass(frozen=True)
class RuntimeData:
    hosts: tuple[HostRule, ...]
    sdks: dict[str, dict[str, Any]]


@functools.lru_cache(maxsize=1)
def runtime_data() -> RuntimeData:
    """runtime.toml, read once and checked."""
    path = data_path("runtime.toml")
    raw = _toml.loads(path.read_text(encoding="utf-8"))
    hosts = []
    for i, entry in enumerate(raw.get("hosts", [])):
        try:
            hosts.append(HostRule(re.compile(entry["pattern"]), entry["provider"]))
        except (KeyError, re.error) as exc:
            raise ValueError(f"{path.name}: hosts[{i}]: {exc}; expected pattern (a regex) and provider") from None
    return RuntimeData(tuple(hosts), raw.get("sdks", {}))


def host_of(url: Any) -> str | None:
    """The host of a URL (`https://user:pw@Example.com:8443/v1?x=1` -> `example.com:8443`);
    None when there is none. Credentials, path and query are dropped."""
    if url is None:
        return None
    text = str(url)
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    default = port is None or (parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)
    return host if default else f"{host}:{port}"


@functools.lru_cache(maxsize=256)
def provider_for_host(host: str | None) -> str:
    """The provider label for a request host; `self-hosted` when no rule matches."""
    if not host:
        return SELF_HOSTED
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    for rule in runtime_data().hosts:
        match = rule.pattern.search(name.lower())
        if match:
            region = match.groupdict().get("region")
            return rule.provider.replace("{region}", region or "")
    return SELF_HOSTED


def provider_for_url(url: Any) -> tuple[str, str | None]:
    """(provider label, host) for a base URL."""
    host = host_of(url)
    return provider_for_host(host), host

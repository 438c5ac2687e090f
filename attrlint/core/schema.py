"""The attribution schema (`attrlint/core/data/schema.toml`): canonical fields, aliases, placeholders.

Shared by the linter and the runtime so both halves agree on what a field is called.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from attrlint.core import toml as _toml
from attrlint.core.data import data_path


_NORMALISE = re.compile(r"[-.\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def normalise_key(key: str) -> str:
    """`ticketId`, `Ticket-ID`, `ticket.id` -> `ticket_id`; used to match aliases and PII keys."""
    key = _CAMEL.sub("_", key.strip())
    return _NORMALISE.sub("_", key).lower()


@dataclass(frozen=True)
class Schema:
    required: tuple[str, ...]
    canonical: frozenset[str]
    aliases: dict[str, str] = field(hash=False)  # normalised alias -> canonical
    placeholders: frozenset[str] = frozenset()
    pii_keys: frozenset[str] = frozenset()
    max_fields: int = 8

    def canonical_name(self, key: str) -> str | None:
        """The canonical field a metadata key stands for, or None when it is no schema field."""
        if key in self.canonical:
            return key
        norm = normalise_key(key)
        if norm in self.aliases:
            return self.aliases[norm]
        if norm in self.canonical:
            return norm
        return None

    def is_placeholder(self, value: str | None) -> bool:
        return value is None or value.strip().lower() in self.placeholders

    def is_pii(self, key: str) -> bool:
        return normalise_key(key) in self.pii_keys

    def extended(
        self,
        *,
        required: tuple[str, ...] | None = None,
        aliases: dict[str, str] | None = None,
        placeholders: tuple[str, ...] | None = None,
        max_fields: int | None = None,
    ) -> Schema:
        merged = dict(self.aliases)
        for alias, target in (aliases or {}).items():
            merged[normalise_key(alias)] = target
        req = tuple(required) if required is not None else self.required
        return Schema(
            required=req,
            canonical=self.canonical | frozenset(req) | frozenset(merged.values()),
            aliases=merged,
            placeholders=self.placeholders
            | frozenset(p.strip().lower() for p in (placeholders or ())),
            pii_keys=self.pii_keys,
            max_fields=max_fields if max_fields is not None else self.max_fields,
        )


@functools.lru_cache(maxsize=1)
def default_schema() -> Schema:
    raw = _toml.loads(data_path("schema.toml").read_text(encoding="utf-8"))
    aliases = {normalise_key(k): v for k, v in raw["aliases"].items()}
    required = tuple(raw["fields"]["required"])
    return Schema(
        required=required,
        canonical=frozenset(raw["fields"]["canonical"]) | frozenset(required),
        aliases=aliases,
        placeholders=frozenset(v.strip().lower() for v in raw["placeholders"]["values"]),
        pii_keys=frozenset(normalise_key(k) for k in raw["metadata"]["pii_keys"]),
        max_fields=int(raw["metadata"]["max_fields"]),
    )

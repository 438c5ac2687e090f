"""The key registry joined with what the code does: which agent uses which key variable.

The linter reports `KeyRef`s (where code reads a key variable); the project-wide rules
(ATR103-ATR105) and the `attrlint keys` commands judge them here against the registry.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field

from attrlint.core.catalogue import Catalogue
from attrlint.core.config import Config, KeyConfig

@dataclass(frozen=True)
class KeyRef:
    """A reference in code to an environment variable that may hold an LLM key; the linter finds them."""

    env: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    vendor: str | None  # from the constructor it flows into, else from its name
    flows_into_client: bool  # passed to a recognised client's key parameter
    generic: bool  # the SDK's shared default variable (ATR102)
    snippet: str = ""
    cell: int | None = None
    noqa: str = ""  # codes suppressed on the reference's line: "" none, "*" all, else "ATR103,ATR105"


_ENV_SUFFIX = re.compile(r"_(DEV|DEVELOPMENT|PROD|PRODUCTION|STAGING|STAGE|TEST|TESTING|QA|LOCAL|SANDBOX)$")
_ENV_NAMES = {"DEVELOPMENT": "dev", "PRODUCTION": "prod", "STAGE": "staging", "TESTING": "test"}


def environment_of(env: str, registered: KeyConfig | None) -> str:
    if registered is not None and registered.environment:
        return registered.environment
    match = _ENV_SUFFIX.search(env.upper())
    if match:
        word = match.group(1)
        return _ENV_NAMES.get(word, word.lower())
    return "prod"


@dataclass
class KeyUse:
    """One key variable: its registry entry (if any) and every reference in the code."""

    env: str
    registered: KeyConfig | None
    refs: list[KeyRef] = field(default_factory=list)
    agents_by_ref: list[str | None] = field(default_factory=list)
    vendor: str | None = None

    @property
    def agents(self) -> set[str]:
        return {a for a in self.agents_by_ref if a}

    @property
    def provider(self) -> str | None:
        if self.registered is not None and self.registered.provider:
            return self.registered.provider
        return self.vendor

    @property
    def environment(self) -> str:
        return environment_of(self.env, self.registered)

    @property
    def generic(self) -> bool:
        return any(r.generic for r in self.refs)


def collect(config: Config, refs: list[KeyRef], catalogue: Catalogue) -> dict[str, KeyUse]:
    """Key variables by name: every referenced one, and every registered one."""
    uses: dict[str, KeyUse] = {}
    for ref in sorted(refs, key=lambda r: (r.path, r.cell or 0, r.line, r.column)):
        use = uses.get(ref.env)
        if use is None:
            use = uses[ref.env] = KeyUse(ref.env, config.keys.get(ref.env))
        use.refs.append(ref)
        use.agents_by_ref.append(config.agent_for(ref.path))
        if ref.flows_into_client and ref.vendor:
            use.vendor = ref.vendor  # the constructor it flows into beats the name
        elif use.vendor is None:
            use.vendor = ref.vendor or catalogue.vendor_of_env(ref.env)
    for env, registered in config.keys.items():
        if env not in uses:
            uses[env] = KeyUse(env, registered, vendor=catalogue.vendor_of_env(env))
    return uses


def days_left(expires: dt.date | None, today: dt.date) -> int | None:
    return None if expires is None else (expires - today).days


def config_display_path(config: Config) -> str:
    if config.path is None:
        return "pyproject.toml"
    try:
        rel = os.path.relpath(config.path)
    except ValueError:
        return str(config.path)
    return str(config.path) if rel.startswith("..") else rel


def registry_problems(config: Config) -> list[tuple[KeyConfig, str]]:
    """Registry entries that cannot be governed: no owner, no expiry, or an undeclared agent."""
    problems = []
    for entry in config.keys.values():
        missing = [name for name, value in (("owner", entry.owner), ("expires", entry.expires)) if not value]
        if missing:
            problems.append((entry, f"key `{entry.env}` has no {' and no '.join(missing)}: every key needs "
                                    f"an owner to call and an expiry date to rotate by"))
        if entry.agent and entry.agent not in config.agents:
            declared = ", ".join(sorted(config.agents)) or "none declared"
            problems.append((entry, f"key `{entry.env}` names agent `{entry.agent}`, which is not declared in "
                                    f"[tool.attrlint.agents] ({declared})"))
    return problems

"""What attribution reaches a call: the one question the attribution rules (ATR001, ATR002,
ATR004, ATR008) ask, whether the call is an LLM call in a file or a call to a project
wrapper checked in the project phase. The rules decide and word their findings from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from attrlint.core.catalogue import Sdk
from attrlint.lint.analysis.facts import LLMCall


@dataclass(frozen=True)
class AttributionCheck:
    subject: str  # "openai `chat.completions.create`" or "call to wrapper `pkg.mod:ask` (...)"
    required: tuple[str, ...]
    missing: tuple[str, ...]  # required fields nothing supplies
    remedy: str  # how to add the missing fields
    responsible: tuple[str, ...] = ()  # required fields this call must supply (default: all)
    placeholders: tuple[tuple[str, str], ...] = ()  # (field, value as written) given a placeholder
    unverifiable: str = ""  # why what is passed cannot be read statically ("" when it can)
    supplied: tuple[str, ...] = field(default=())
    other_keys: tuple[str, ...] = ()  # keys of its metadata that are no required field

    @property
    def found(self) -> str:
        """What the call's metadata does carry, when none of it counts: " (its metadata has
        `session_id`, `user`)"."""
        if not self.other_keys:
            return ""
        keys = ", ".join(f"`{k}`" for k in self.other_keys[:4]) + (", ..." if len(self.other_keys) > 4 else "")
        return f" (its metadata has {keys}: no required field)"

    @property
    def none_supplied(self) -> bool:
        """Every field this call is responsible for is missing, and none is a placeholder."""
        responsible = self.responsible or self.required
        return bool(self.missing) and len(self.missing) == len(responsible) and not self.placeholders


def where_to_put(call: LLMCall | Sdk) -> str:
    """Where attribution goes for a call of this SDK (method), in words."""
    spec = call.metadata if isinstance(call, Sdk) else call.sdk.metadata
    if spec is None or spec.allowed_keys is not None:
        return "an enclosing `with attribution(...)` (or `instrument(client, agent_id=...)`)"
    where = f"`{spec.param}=`"
    if spec.path:
        where = f"`{spec.param}=` under {'/'.join(repr(p) for p in spec.path)}"
    return f"{where} or an enclosing `with attribution(...)`"


def call_label(call: LLMCall) -> str:
    return f"{call.sdk.name} `{call.method}`"


def check_call(call: LLMCall, required: tuple[str, ...]) -> AttributionCheck:
    """The attribution of an LLM call as written in its file."""
    supplied = call.fields
    missing = tuple(f for f in required if f not in supplied)
    counted = {s.key for s in call.sources if s.origin == "metadata" and s.field in required}
    return AttributionCheck(
        subject=call_label(call), required=required, missing=missing,
        remedy=f"add {', '.join(missing)} in {where_to_put(call)}",
        unverifiable=call.unresolved[0] if call.unresolved else "",
        supplied=tuple(f for f in required if f in supplied),
        other_keys=tuple(dict.fromkeys(e.key for e in call.metadata.entries if e.key not in counted)),
    )

"""LLM calls that only the whole project can recognise or judge.

A call whose receiver one file cannot resolve (`self.client.messages.create(...)` where the
client is set from a constructor parameter, `get_client().models.generate_content(...)` with
the factory in another module, `litellm.completion(...)` through a project re-export) is
resolved here with `Project`; so is the attribution of a call whose `**arguments` or
`metadata=` come from a project function. Each such call is then either a wrapper's own call
(attribution comes from the enclosing function's parameters: its call sites are judged
instead) or judged here, by the same rules and words as a call judged in its file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from attrlint.core.catalogue import Sdk, carries_fields
from attrlint.core.schema import Schema
from attrlint.lint.analysis.attribution import AttributionCheck, where_to_put
from attrlint.lint.analysis.summary import DICT, NONE, PARAM, PLACEHOLDER, CallFact, ValueFact
from attrlint.lint.project.inference import Client, DictOf, Module, Project, SdkName

VIA_PARAM = "param"


@dataclass
class ProjectLLMCall:
    module: Module
    call: CallFact
    sdk: Sdk
    operation: str
    method: str
    client: Client | None

    @property
    def label(self) -> str:
        return f"{self.sdk.name} `{self.method}`"


@dataclass
class Reading:
    """What attribution reaches one call, field by field."""

    statuses: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (status, detail)
    metadata_param: str | None = None  # the enclosing function's parameter passed as metadata
    forwards: bool = False  # the enclosing function's **kwargs reach the call
    unverifiable: str = ""
    keys: list[tuple[str, str | None]] = field(default_factory=list)  # its metadata's keys, with canonical names


def classify(project: Project, module: Module, call: CallFact) -> ProjectLLMCall | None:
    """The LLM call `call` is, if its callee resolves to a billable SDK method or function."""
    cat = project.cat
    if call.llm is not None and call.llm[0] in cat.sdks:  # recognised in its file; judged here
        sdk_name, method = call.llm
        sdk = cat.sdks[sdk_name]
        operation = sdk.methods.get(method) or next(
            (op for name, (s, op) in cat.functions.items() if s == sdk_name and name.endswith("." + method)), "chat")
        client = next((v for v in _ordered(project.resolve(module, call.callee)) if isinstance(v, Client)), None)
        return ProjectLLMCall(module, call, sdk.for_method(method), operation, method, client)
    for value in _ordered(project.resolve(module, call.callee)):
        if isinstance(value, Client):
            method = ".".join(value.path) if value.path else "__call__"
            operation = value.sdk.methods.get(method)
            if operation is not None:
                return ProjectLLMCall(module, call, value.sdk.for_method(method), operation, method, value)
        elif isinstance(value, SdkName):
            name = value.name
            hit = cat.functions.get(name)
            if hit is not None:
                sdk = cat.sdks[hit[0]]
                method = next((name[len(m) + 1:] for m in sdk.modules if name.startswith(m + ".")),
                              name.rsplit(".", 1)[-1])
                return ProjectLLMCall(module, call, sdk.for_method(method), hit[1], method, None)
            for prefix, sdk_name in cat.module_receivers.items():
                if name.startswith(prefix + "."):
                    sdk = cat.sdks[sdk_name]
                    method = name[len(prefix) + 1:]
                    operation = sdk.methods.get(method)
                    if operation is not None:
                        return ProjectLLMCall(module, call, sdk.for_method(method), operation, method, None)
    return None


def _ordered(values: frozenset) -> list:
    """Resolved values in the same order in every run (a set's order changes with the hash seed)."""
    return sorted(values, key=repr)


def read_attribution(project: Project, found: ProjectLLMCall, schema: Schema) -> Reading:
    """Each attribution field the call gets: from its metadata argument (wherever its dict was
    built), an enclosing `attribution(...)`, or `instrument(...)`; or through a parameter of the
    enclosing function."""
    call, module = found.call, found.module
    reading = Reading()
    spec = found.sdk.metadata
    carries = carries_fields(spec)  # else no argument can carry attribution: none needs reading
    if call.star and carries:
        reading.unverifiable = "arguments are passed through ** or * and cannot be read statically"
    arguments: dict[str, tuple[ValueFact, Module]] = {k: (v, module) for k, v in call.kwargs.items()}
    for spread in call.spreads:
        dicts = [v for v in project.resolve(module, spread) if isinstance(v, DictOf)]
        if carries and (not dicts or not all(d.complete for d in dicts)):
            reading.unverifiable = "arguments are passed through ** and cannot be read statically"
        for d in dicts:
            for key, value, path in d.entries:
                arguments.setdefault(key, (value, project.modules[path]))
    reading.forwards = call.forwards and carries
    if spec is not None:
        meta = arguments.get(spec.param)
        if meta is None and spec.position is not None and len(call.args) > spec.position:
            meta = (call.args[spec.position], module)
        if meta is not None:
            value, where = meta
            if value.kind == PARAM:
                reading.metadata_param = value.text
            else:
                entries = _entries(project, where, value, spec.path)
                if entries is None:
                    reading.unverifiable = f"`{spec.param}=` cannot be read statically"
                else:
                    for key, entry in entries:
                        canonical = schema.canonical_name(key)
                        reading.keys.append((key, canonical))
                        if canonical is not None:
                            reading.statuses.setdefault(canonical, _status(entry))
    for name, value in call.context.items():
        reading.statuses[name] = _status(value)
    if call.context_unresolved:
        reading.unverifiable = reading.unverifiable or "attribution(**...) cannot be read statically"
    if found.client is not None:
        for name in found.client.supplied:
            reading.statuses.setdefault(name, ("supplied", ""))
    return reading


def _entries(project: Project, module: Module, value: ValueFact,
             path: tuple[str, ...]) -> list[tuple[str, ValueFact]] | None:
    """The entries of a metadata argument (after `path`), or None when they cannot be read."""
    current: list[tuple[str, ValueFact]] | None = None
    values: list[tuple[ValueFact, Module]] = [(value, module)]
    for step in (*path, None):
        found: list[tuple[str, ValueFact]] = []
        complete = True
        for fact, where in values:
            if fact.kind == DICT and not fact.members:
                found.extend(fact.entries or ())
                complete = complete and fact.complete
                continue
            dicts = [d for d in project.resolve(where, fact) if isinstance(d, DictOf)]
            if not dicts:
                return None
            for d in dicts:
                found.extend((k, v) for k, v, _ in d.entries)
                complete = complete and d.complete
        if not complete:
            return None
        if step is None:
            current = found
            break
        nxt = [(v, module) for k, v in found if k == step]
        if not nxt:
            return []
        values = nxt
    return current


def _status(value: ValueFact) -> tuple[str, str]:
    if value.kind == NONE:
        return "placeholder", "None"
    if value.kind == PLACEHOLDER:
        return "placeholder", value.text or "''"
    if value.kind == PARAM:
        return VIA_PARAM, value.text
    return "supplied", ""


def check(found: ProjectLLMCall, reading: Reading, required: tuple[str, ...]) -> AttributionCheck:
    missing = tuple(f for f in required if f not in reading.statuses)
    return AttributionCheck(
        subject=found.label, required=required, missing=missing,
        remedy=f"add {', '.join(missing)} in {where_to_put(found.sdk)}",
        placeholders=tuple((f, s[1]) for f, s in reading.statuses.items()
                           if s[0] == "placeholder" and f in required),
        unverifiable=reading.unverifiable,
        supplied=tuple(f for f in required if reading.statuses.get(f, ("",))[0] == "supplied"),
        other_keys=tuple(dict.fromkeys(k for k, canonical in reading.keys if canonical not in required)),
    )

"""Rules about the attribution metadata an LLM call carries (ATR001-ATR008).

ATR001, ATR002, ATR004 and ATR008 judge an `AttributionCheck`: the same judgement, and the
same words, for an LLM call in a file and for a call to a project wrapper (checked at each
of its call sites in the project phase).
"""

from __future__ import annotations

import ast

from attrlint.lint.analysis.attribution import AttributionCheck, check_call
from attrlint.lint.analysis.facts import FieldSource
from attrlint.lint.diagnostics import Edit
from attrlint.lint.rules.base import FileContext, Phase, Rule


def _judge_calls(rule: Rule, ctx: FileContext) -> None:
    """Report `rule.judge` on every LLM call of the file that is not a wrapper's own call."""
    for call in ctx.module.calls:
        if call.in_wrapper or (call.deferred and ctx.project_phase):
            continue  # its call sites are checked instead; or the project phase judges it
        message = rule.judge(check_call(call, ctx.required))
        if message:
            ctx.report(rule, call.node, message)


class MissingAttribution(Rule):
    code = "ATR001"
    name = "missing-attribution"
    summary = "An LLM call with none of the required attribution fields"
    what = ("Finds LLM client calls (OpenAI including the v0 API, Anthropic, litellm, Gemini, "
            "Vertex AI, Bedrock, LangChain, Mistral, Cohere) and agent framework runs "
            "(openai-agents, pydantic-ai, crewai, agno, llama-index, dspy, instructor) that supply "
            "none of the required attribution fields (by default ticket_id, customer_id, agent_id) "
            "through the provider's metadata parameter, an enclosing `with attribution(...)` block, "
            "or `instrument(client, agent_id=...)`. Arguments spread from a dict built in the same "
            "function (`**params`) count as written out. Calls to project wrappers (functions whose "
            "LLM call takes attribution from their parameters, or those declared in "
            "`[tool.attrlint.wrappers]`) are checked at each call site, in any file of the project.")
    why = ("A call without attribution lands on the invoice as an anonymous total: nobody can say "
           "which agent, ticket or customer it was for, so its cost cannot be charged back or capped.")
    example = """
        client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])
        client.chat.completions.create(model="gpt-4o", messages=messages)
    """
    instead = """
        client.chat.completions.create(
            model="gpt-4o",
            messages=messages,
            metadata={"ticket_id": ticket.id, "customer_id": ticket.customer_id, "agent_id": "support"},
        )
    """
    invalid = (
        """
from openai import OpenAI
client = OpenAI(api_key=KEY)
client.chat.completions.create(model="gpt-4o", messages=[])
""",
        """
import anthropic as ant
c = ant.AsyncAnthropic(api_key=KEY)
async def go():
    await c.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[])
""",
        """
import litellm
litellm.completion(model="gpt-4o", messages=[])
""",
        """
from openai import AsyncOpenAI as AOAI
class Bot:
    def __init__(self):
        self.llm = AOAI(api_key=KEY)
    async def ask(self, q):
        return await self.llm.chat.completions.with_raw_response.create(model="gpt-4o", messages=[])
""",
        """
def run(client):
    return client.with_options(timeout=5).responses.create(model="gpt-4o", input="hi")
""",
    )
    valid = (
        """
from openai import OpenAI
client = OpenAI(api_key=KEY)
client.chat.completions.create(model="gpt-4o", messages=[],
    metadata={"ticket_id": t, "customer_id": c, "agent_id": "support"})
""",
        """
from twilio.rest import Client
twilio_client = Client(sid, token)
twilio_client.messages.create(body="hi", to=n)
""",
        """
Model.objects.create(name="x")
""",
        """
from openai import OpenAI
client = OpenAI(api_key=KEY)
client.chat.completions.create(model="gpt-4o", messages=[], metadata=build_metadata())
""",
    )

    phases = Phase.FILE | Phase.WRAPPER_SITES

    def check(self, ctx: FileContext) -> None:
        _judge_calls(self, ctx)

    def judge(self, check: AttributionCheck) -> str | None:
        if check.unverifiable or not check.none_supplied:
            return None
        return f"{check.subject} has no attribution{check.found}: {check.remedy}"


class IncompleteAttribution(Rule):
    code = "ATR002"
    name = "incomplete-attribution"
    summary = "An LLM call that supplies some required fields but not all"
    what = ("Finds LLM calls that supply some of the required attribution fields and miss others; "
            "the message names the missing ones. Aliased spellings (ATR003) count as supplied.")
    why = ("A cost row with a ticket but no customer (or no agent) cannot be aggregated on the "
           "missing dimension: per-customer and per-agent totals silently undercount.")
    example = """
        client.chat.completions.create(model="gpt-4o", messages=m, metadata={"ticket_id": t})
    """
    instead = """
        client.chat.completions.create(
            model="gpt-4o", messages=m,
            metadata={"ticket_id": t, "customer_id": c, "agent_id": "support"},
        )
    """
    invalid = (
        """
from openai import OpenAI
client = OpenAI(api_key=KEY)
client.chat.completions.create(model="gpt-4o", messages=[], metadata={"ticket_id": t})
""",
        """
from attrlint.runtime import attribution
import litellm
with attribution(ticket_id=t):
    litellm.completion(model="gpt-4o", messages=[], metadata={"customer_id": c})
""",
    )
    valid = (
        """
from attrlint.runtime import attribution, instrument
from anthropic import Anthropic
client = instrument(Anthropic(api_key=KEY), agent_id="support")
with attribution(ticket_id=t):
    with attribution(customer_id=c):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=[])
""",
    )

    phases = Phase.FILE | Phase.WRAPPER_SITES

    def check(self, ctx: FileContext) -> None:
        _judge_calls(self, ctx)

    def judge(self, check: AttributionCheck) -> str | None:
        if check.unverifiable or not check.missing or check.none_supplied:
            return None
        have = ", ".join(f for f in check.required if f not in check.missing)
        return f"{check.subject} supplies {have} but not {', '.join(check.missing)}: {check.remedy}"


def _key_span(ctx: FileContext, source: FieldSource) -> tuple[ast.AST, Edit | None]:
    """The node to report for a field's key, and the edit that renames it."""
    node = source.key_node
    assert node is not None
    if isinstance(node, ast.keyword):
        line = node.lineno
        col = ctx._char_col(line, node.col_offset) + 1
        edit = Edit(line, col, line, col + len(source.key), source.field)
        return node, edit
    line, col, end_line, end_col = ctx.position(node)
    if line != end_line:
        return node, None
    text = ctx.lines[line - 1][col - 1:end_col - 1]
    for i, ch in enumerate(text):
        if ch in "'\"":
            quote = text[i:i + 3] if text[i:i + 3] == ch * 3 else ch
            prefix = text[:i]
            if "f" in prefix.lower() or "b" in prefix.lower():
                return node, None
            return node, Edit(line, col, end_line, end_col, f"{prefix}{quote}{source.field}{quote}")
    return node, None


class NonstandardFieldName(Rule):
    code = "ATR003"
    name = "nonstandard-field-name"
    summary = "A metadata key spelled differently from the schema's canonical field"
    what = ("Finds metadata keys and `attribution()` keywords that are aliases or spelling variants "
            "of a canonical field (`ticket_uuid`, `ticket_number`, `ticketId`, `TicketID`, "
            "`customer-id`, `cust_id` ...). The alias table is `attrlint/core/data/schema.toml`, extended by "
            "`[tool.attrlint] aliases`. An aliased field counts as supplied.")
    why = ("Cost reports group by field name: `ticket_uuid` on one service and `ticket_id` on "
           "another split one ticket's cost into two rows that nobody adds up.")
    example = """
        metadata={"ticketId": t, "cust_id": c, "agent_id": "support"}
    """
    instead = """
        metadata={"ticket_id": t, "customer_id": c, "agent_id": "support"}
    """
    fix_safety = ("Safe: the key is renamed to the canonical name. Not offered when the canonical "
                  "key is already present beside it (the rename would create a duplicate key).")
    fixable = True
    invalid = (
        """
from openai import OpenAI
client = OpenAI(api_key=KEY)
client.responses.create(model="gpt-4o", input="x",
    metadata={"ticket_uuid": t, "customer_id": c, "agent_id": "a"})
""",
        """
from attrlint.runtime import attribution
with attribution(TicketID=t):
    pass
""",
    )
    valid = (
        """
from attrlint.runtime import attribution
with attribution(ticket_id=t, customer_id=c):
    pass
""",
    )

    def check(self, ctx: FileContext) -> None:
        seen: set[int] = set()
        sources: list[tuple[FieldSource, set[str]]] = []
        for call in ctx.module.calls:
            keys = {e.key for e in call.metadata.entries}
            sources.extend((s, keys) for s in call.sources if s.origin in ("metadata", "instrument"))
        for source in ctx.module.context_sources:
            sources.append((source, set()))
        for source, siblings in sources:
            if source.key_node is None or source.key == source.field or id(source.key_node) in seen:
                continue
            if ctx.config.schema.canonical_name(source.key) != source.field:
                continue
            seen.add(id(source.key_node))
            node, edit = _key_span(ctx, source)
            if source.field in siblings:
                edit = None
            ctx.report(self, _keynode(node, source.key), f"`{source.key}` is a nonstandard spelling of `{source.field}`",
                       fix=edit)


_PLACEHOLDER_HINT = "pass the real identifier (or leave the field out and let the linter say it is missing)"


class EmptyAttributionValue(Rule):
    code = "ATR004"
    name = "empty-attribution-value"
    summary = "A required field given an empty value or a placeholder"
    what = ('Finds required attribution fields given `""`, `None`, or a placeholder such as '
            '`"TODO"`, `"test"`, `"unknown"`, `"n/a"` (the list is `attrlint/core/data/schema.toml`, extended by '
            '`[tool.attrlint] placeholders`).')
    why = ("A placeholder satisfies the letter of the check and defeats its purpose: every such call "
           "is charged to a ticket called \"unknown\".")
    example = """
        metadata={"ticket_id": "TODO", "customer_id": customer.id, "agent_id": "support"}
    """
    instead = """
        metadata={"ticket_id": ticket.id, "customer_id": customer.id, "agent_id": "support"}
    """
    invalid = (
        """
import litellm
litellm.completion(model="gpt-4o", messages=[],
    metadata={"ticket_id": "TODO", "customer_id": None, "agent_id": "support"})
""",
    )
    valid = (
        """
import litellm
litellm.completion(model="gpt-4o", messages=[],
    metadata={"ticket_id": t.id, "customer_id": f"cus_{c}", "agent_id": "support"})
""",
    )

    phases = Phase.FILE | Phase.WRAPPER_SITES

    def judge(self, check: AttributionCheck) -> str | None:
        if not check.placeholders:
            return None
        shown = ", ".join(f"`{f}` is {text}" for f, text in check.placeholders)
        return f"{shown} in this {check.subject}: pass the real identifier"

    def check(self, ctx: FileContext) -> None:
        required = set(ctx.required)
        seen: set[int] = set()
        all_sources = [s for call in ctx.module.calls for s in call.sources] + ctx.module.context_sources
        for source in all_sources:
            value = source.value
            if value is None or source.field not in required or id(value) in seen:
                continue
            if isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, str)):
                if value.value is None or ctx.config.schema.is_placeholder(value.value):
                    seen.add(id(value))
                    shown = "None" if value.value is None else repr(value.value)
                    ctx.report(self, value, f"`{source.field}` is {shown}: {_PLACEHOLDER_HINT}")


class MetadataBloat(Rule):
    code = "ATR006"
    name = "metadata-bloat"
    summary = "Personal data or too many keys in call metadata"
    what = ("Finds metadata keys that carry personal data or device telemetry (`email`, `phone`, "
            "`ip_address`, `geolocation`, `device_type`, `user_agent`, ...) and metadata with more "
            "keys than `max-metadata-fields` (default 8), reported at the first key past the limit.")
    why = ("Attribution metadata is stored on every ledger row and in the provider's logs: personal "
           "data there is a privacy liability, and wide metadata makes every report slower and "
           "noisier. Keep it to identifiers.")
    example = """
        metadata={"ticket_id": t, "customer_id": c, "agent_id": "a", "email": user.email}
    """
    instead = """
        metadata={"ticket_id": t, "customer_id": c, "agent_id": "a"}
    """
    invalid = (
        """
import litellm
litellm.completion(model="m", messages=[], metadata={"ticket_id": t, "customer_id": c, "agent_id": "a", "user_email": e})
""",
        """
import litellm
litellm.completion(model="m", messages=[], metadata={"ticket_id": t, "customer_id": c, "agent_id": "a",
    "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6})
""",
    )
    valid = (
        """
import litellm
litellm.completion(model="m", messages=[], metadata={"ticket_id": t, "customer_id": c, "agent_id": "a", "feature": "triage"})
""",
    )

    def check(self, ctx: FileContext) -> None:
        schema = ctx.config.schema
        seen: set[int] = set()
        for call in ctx.module.calls:
            entries = call.metadata.entries
            for entry in entries:
                if schema.is_pii(entry.key) and id(entry.key_node) not in seen:
                    seen.add(id(entry.key_node))
                    ctx.report(self, _keynode(entry.key_node, entry.key),
                               f"metadata key `{entry.key}` carries personal data: keep attribution to identifiers")
            if len(entries) > schema.max_fields:
                first = entries[schema.max_fields]
                if id(first.key_node) not in seen:
                    seen.add(id(first.key_node))
                    ctx.report(self, _keynode(first.key_node, first.key),
                               f"metadata has {len(entries)} keys, more than max-metadata-fields "
                               f"({schema.max_fields}): keep it to the attribution fields")
        for source in ctx.module.context_sources:
            if source.key_node is not None and schema.is_pii(source.key) and id(source.key_node) not in seen:
                seen.add(id(source.key_node))
                ctx.report(self, _keynode(source.key_node, source.key),
                           f"attribution field `{source.key}` carries personal data: keep attribution to identifiers")


def _keynode(node: ast.AST, key: str) -> ast.AST:
    """A keyword's span is `name=value`; report just the name."""
    if isinstance(node, ast.keyword):
        return ast.Name(id=key, lineno=node.lineno, col_offset=node.col_offset,
                        end_lineno=node.lineno, end_col_offset=node.col_offset + len(key.encode()))
    return node


class ProviderRejectsMetadata(Rule):
    code = "ATR007"
    name = "provider-rejects-metadata"
    summary = "Metadata the provider's API will reject"
    what = ("Finds metadata the provider rejects at request time: attribution fields in a raw "
            "Anthropic `metadata=` (the Messages API accepts only `user_id`); non-string values, "
            "more than 16 keys, keys over 64 or values over 512 characters in OpenAI `metadata=`; "
            "the same limits for Bedrock `requestMetadata=`.")
    why = ("The request fails with a 400 in production, or, worse, the SDK call is wrapped in a "
           "retry that burns time before failing. Attribution that the API refuses is no attribution.")
    example = """
        client = Anthropic(api_key=os.environ["ANTHROPIC_KEY_SUPPORT"])
        client.messages.create(model=m, max_tokens=512, messages=msgs, metadata={"ticket_id": t})
    """
    instead = """
        client = instrument(Anthropic(api_key=os.environ["ANTHROPIC_KEY_SUPPORT"]), agent_id="support")
        with attribution(ticket_id=t, customer_id=c):
            client.messages.create(model=m, max_tokens=512, messages=msgs)
    """
    invalid = (
        """
from anthropic import Anthropic
client = Anthropic(api_key=KEY)
client.messages.create(model="m", max_tokens=5, messages=[], metadata={"ticket_id": t})
""",
        """
from openai import OpenAI
client = OpenAI(api_key=KEY)
client.chat.completions.create(model="m", messages=[], metadata={"ticket_id": 12345, "customer_id": c, "agent_id": "a"})
""",
    )
    valid = (
        """
from anthropic import Anthropic
from attrlint.runtime import instrument
client = instrument(Anthropic(api_key=KEY), agent_id="support")
client.messages.create(model="m", max_tokens=5, messages=[], metadata={"ticket_id": t, "user_id": u})
""",
        """
from anthropic import Anthropic
client = Anthropic(api_key=KEY)
client.messages.create(model="m", max_tokens=5, messages=[], metadata={"user_id": u})
""",
    )

    def check(self, ctx: FileContext) -> None:
        schema = ctx.config.schema
        required = set(ctx.required)
        for call in ctx.module.calls:
            spec = call.sdk.metadata
            entries = call.metadata.entries
            if spec is None or not entries:
                continue
            provider = ctx.catalogue.vendors[call.sdk.vendor].display_name
            if spec.allowed_keys is not None:
                for entry in entries:
                    if entry.key in spec.allowed_keys:
                        continue
                    if call.instrumented and schema.canonical_name(entry.key) is not None:
                        continue  # the runtime moves attribution fields out before sending
                    ctx.report(self, _keynode(entry.key_node, entry.key),
                               f"{provider} `{spec.param}=` accepts only {', '.join(spec.allowed_keys)}: "
                               f"`{entry.key}` makes the request fail; use `with attribution(...)` "
                               f"on an instrument()ed client")
                continue
            if spec.max_keys is not None and len(entries) > spec.max_keys:
                extra = entries[spec.max_keys]
                ctx.report(self, _keynode(extra.key_node, extra.key),
                           f"{provider} `{spec.param}=` takes at most {spec.max_keys} keys; this has {len(entries)}")
            for entry in entries:
                if spec.max_key_length is not None and len(entry.key) > spec.max_key_length:
                    ctx.report(self, _keynode(entry.key_node, entry.key),
                               f"{provider} `{spec.param}=` keys are at most {spec.max_key_length} "
                               f"characters; `{entry.key[:20]}…` has {len(entry.key)}")
                value = entry.value
                if value is None:
                    continue
                if spec.string_values:
                    bad = None
                    if isinstance(value, ast.Constant) and not isinstance(value.value, str):
                        field = schema.canonical_name(entry.key)
                        if value.value is None and field in required:
                            bad = None  # ATR004 reports it
                        else:
                            bad = type(value.value).__name__
                    elif isinstance(value, (ast.Dict, ast.List, ast.Set, ast.Tuple, ast.ListComp, ast.DictComp)):
                        bad = type(value).__name__.lower()
                    if bad:
                        ctx.report(self, value,
                                   f"{provider} `{spec.param}=` values must be strings; `{entry.key}` is "
                                   f"{bad}: wrap it in str()")
                if (spec.max_value_length is not None and isinstance(value, ast.Constant)
                        and isinstance(value.value, str) and len(value.value) > spec.max_value_length):
                    ctx.report(self, value,
                               f"{provider} `{spec.param}=` values are at most {spec.max_value_length} "
                               f"characters; `{entry.key}` has {len(value.value)}")


class UnverifiableMetadata(Rule):
    code = "ATR008"
    name = "unverifiable-metadata"
    summary = "Attribution that cannot be verified statically"
    what = ("Reports LLM calls whose attribution cannot be read statically and which do not "
            "visibly carry every required field: a `**mapping` or a metadata value from outside "
            "the project (`json.loads(...)`, a framework's object), or a dict built in a way "
            "the analysis cannot follow. Dicts built by project functions are followed across "
            "modules. A function that forwards its own `**kwargs` or parameters to the call is "
            "a wrapper: its call sites are checked instead, and they get this finding when what "
            "they pass cannot be read; a wrapper that no call in the project reaches gets it at "
            "its own call.")
    why = ("A linter in CI must fail when it cannot check something: a call whose attribution "
           "nobody can verify is a call whose cost nobody can charge back. Make the metadata "
           "explicit, or wrap the call in `with attribution(...)`.")
    example = """
        def ask(client, ticket):
            return client.chat.completions.create(**settings.llm_kwargs())
    """
    instead = """
        def ask(client, ticket):
            return client.chat.completions.create(
                **settings.llm_kwargs(),
                metadata={"ticket_id": ticket.id, "customer_id": ticket.customer_id, "agent_id": "support"})
    """
    default_enabled = True
    invalid = (
        """
def ask(client):
    return client.chat.completions.create(**settings.llm_kwargs())
""",
    )
    valid = (
        """
def ask(client, **kwargs):
    return client.chat.completions.create(**kwargs, metadata={"ticket_id": t, "customer_id": c, "agent_id": "a"})
""",
    )

    phases = Phase.FILE | Phase.WRAPPER_SITES

    def check(self, ctx: FileContext) -> None:
        _judge_calls(self, ctx)

    def judge(self, check: AttributionCheck) -> str | None:
        if not check.unverifiable or not check.missing:
            return None
        return f"{check.subject}: cannot verify {', '.join(check.missing)} ({check.unverifiable})"


RULES = [MissingAttribution, IncompleteAttribution, NonstandardFieldName, EmptyAttributionValue,
         MetadataBloat, ProviderRejectsMetadata, UnverifiableMetadata]

"""Project-wide rules (key governance): they need every file's key references at once.

They run in `attrlint check` over the paths given (the whole project when no path is
given), from the per-file facts, after per-file analysis; the flake8 plugin never runs them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator

from attrlint.keys.governance import KeyRef, KeyUse, collect, config_display_path, registry_problems
from attrlint.lint.diagnostics import Finding
from attrlint.lint.project.context import ProjectContext
from attrlint.lint.rules.base import Phase, Rule

_PYPROJECT_EXAMPLE = """
    [tool.attrlint.agents.support]
    paths = ["services/support/**"]

    [tool.attrlint.agents.billing]
    paths = ["services/billing/**"]
"""


class ProjectRule(Rule):
    phases = Phase.PROJECT
    family = "keys"

    @classmethod
    def run_project(cls, ctx: ProjectContext) -> Iterator[Finding]:
        refs = [ref for r in ctx.results for ref in r.key_refs]
        uses = collect(ctx.config, refs, ctx.catalogue)
        for ref, message in cls.evaluate(ctx, uses, ctx.today):
            if ctx.suppressor.keep(cls.code, ref.path, ref.noqa):
                yield Finding(
                    code=cls.code, name=cls.name, message=message, path=ref.path, line=ref.line,
                    column=ref.column, end_line=ref.end_line, end_column=ref.end_column,
                    snippet=ref.snippet, cell=ref.cell,
                )

    @classmethod
    def evaluate(cls, ctx: ProjectContext, uses: dict[str, KeyUse], today: dt.date) -> Iterable[tuple[KeyRef, str]]:
        raise NotImplementedError


class KeySharedAcrossAgents(ProjectRule):
    code = "ATR103"
    name = "key-shared-across-agents"
    summary = "One key variable used by the files of two or more agents"
    what = ("Finds a key variable referenced from the files of two or more agents (agents are "
            "declared with `paths` globs in `[tool.attrlint.agents.NAME]`). Reported at each "
            "reference from an agent other than the key's registered `agent`; for an unregistered "
            "key, at every reference from agent files. Files of no agent (shared libraries) never "
            "count. Generic variables are reported by ATR102 alone.")
    why = ("A key shared by two agents makes their costs inseparable on the invoice, and rotating "
           "it after one agent leaks it breaks the other.")
    example = """
        # services/support/bot.py
        OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])
        # services/billing/invoices.py
        OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])   # billing borrows support's key
    """
    instead = """
        # services/billing/invoices.py
        OpenAI(api_key=os.environ["OPENAI_KEY_BILLING"])
    """

    @classmethod
    def evaluate(cls, ctx, uses, today):
        for use in uses.values():
            if use.generic or not use.refs:
                continue
            owner = use.registered.agent if use.registered and use.registered.agent in ctx.config.agents else None
            agents = use.agents | ({owner} if owner else set())
            if len(agents) < 2:
                continue
            listed = ", ".join(sorted(use.agents))
            for ref, agent in zip(use.refs, use.agents_by_ref):
                if agent is None or agent == owner:
                    continue
                if owner:
                    message = (f"`{use.env}` is registered to agent `{owner}` but used by agent `{agent}`: "
                               f"give `{agent}` its own key")
                else:
                    message = (f"`{use.env}` is used by agents {listed}: one key per agent, so each "
                               f"agent's cost can be told apart")
                yield ref, message


class UnregisteredOrExpiredKey(ProjectRule):
    code = "ATR104"
    name = "unregistered-or-expired-key"
    summary = "A key missing from the registry, expired, or registered without owner/expiry"
    what = ("When the registry (`[tool.attrlint.keys.ENV_VAR]`) has at least one key: finds key "
            "variables referenced in code but not registered, and references to registered keys "
            "whose `expires` date has passed (`--today` overrides today). Registry entries with no "
            "`owner` or `expires`, or naming an undeclared agent, are reported in pyproject.toml at "
            "their table header. Generic variables are reported by ATR102 alone.")
    why = ("A key nobody registered has no owner to call when it leaks and no date by which it is "
           "rotated; an expired key is one the owner promised to retire.")
    example = """
        [tool.attrlint.keys.OPENAI_KEY_SUPPORT]
        agent = "support"
        owner = "support-team@example.com"
        expires = 2026-01-31   # passed: the code still uses it
    """
    instead = """
        [tool.attrlint.keys.OPENAI_KEY_SUPPORT]
        agent = "support"
        owner = "support-team@example.com"
        expires = 2027-01-31   # rotated, with the new key in the secret store
    """

    @classmethod
    def run_project(cls, ctx):
        yield from super().run_project(ctx)
        config = ctx.config
        if not config.keys:
            return
        path = config_display_path(config)
        for entry, message in registry_problems(config):
            if ctx.suppressor.keep(cls.code, path):
                yield Finding(cls.code, cls.name, message, path, entry.line, 1, entry.line, 1,
                              snippet=f"[tool.attrlint.keys.{entry.env}] {message.split(':')[0]}")

    @classmethod
    def evaluate(cls, ctx, uses, today):
        if not ctx.config.keys:
            return
        for use in uses.values():
            if use.generic:
                continue
            if use.registered is None:
                for ref in use.refs:
                    yield ref, (f"`{use.env}` is not in the key registry: add "
                                f"[tool.attrlint.keys.{use.env}] with agent, owner and expires")
            elif use.registered.expires is not None and use.registered.expires < today:
                expired = use.registered.expires.isoformat()
                owner = f" (owner: {use.registered.owner})" if use.registered.owner else ""
                for ref in use.refs:
                    yield ref, f"`{use.env}` expired on {expired}{owner}: rotate it and update `expires`"


class KeyPerFeature(ProjectRule):
    code = "ATR105"
    name = "key-per-feature"
    summary = "One agent using several keys for the same provider and environment"
    what = ("Finds an agent that uses two or more distinct key variables for the same provider and "
            "the same environment (from the registry's `provider`/`environment`, else from the "
            "variable name: `_DEV`, `_PROD`, `_STAGING`, `_TEST` suffixes; `prod` by default). "
            "Reported at every reference of each of them. An OpenAI and an Anthropic key for the "
            "same agent is fine, and so is a dev and a prod key.")
    why = ("Keys per feature fragment one agent's cost across several invoice lines and multiply "
           "the keys to rotate; the unit of cost isolation is the agent.")
    example = """
        # services/support/triage.py
        OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT_TRIAGE"])
        # services/support/replies.py
        OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT_REPLIES"])
    """
    instead = """
        OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])   # in both files
    """

    @classmethod
    def evaluate(cls, ctx, uses, today):
        groups: dict[tuple[str, str, str], dict[str, list[KeyRef]]] = defaultdict(lambda: defaultdict(list))
        for use in uses.values():
            if use.generic or not use.provider:
                continue
            for ref, agent in zip(use.refs, use.agents_by_ref):
                if agent:
                    groups[(agent, use.provider, use.environment)][use.env].append(ref)
        for (agent, provider, environment), by_env in sorted(groups.items()):
            if len(by_env) < 2:
                continue
            names = ", ".join(sorted(by_env))
            display = ctx.catalogue.vendors[provider].display_name if provider in ctx.catalogue.vendors else provider
            for _env, refs in sorted(by_env.items()):
                for ref in refs:
                    yield ref, (f"agent `{agent}` uses {len(by_env)} {display} {environment} keys ({names}): "
                                f"one key per provider and environment per agent")


RULES = [KeySharedAcrossAgents, UnregisteredOrExpiredKey, KeyPerFeature]

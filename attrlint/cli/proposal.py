"""What `attrlint init` proposes, from what the code says about itself.

Agents come, in this order of trust, from:

1. the `agent_id` values a file sends (metadata dicts, `attribution(agent_id=...)`,
   `instrument(client, agent_id=...)`, any `agent_id=` keyword): a file that names exactly
   one agent is that agent's;
2. the agent named in the key variables a file reads (`OPENAI_KEY_SUPPORT` is `support`'s),
   for files that name no agent themselves;
3. sub-package boundaries below the top-level package (`helpdesk/support`,
   `helpdesk/billing`), or the folders under `services/`, `agents/`, `apps/`, ..., for files
   with LLM calls or keys that neither of the above places.

Two agents are never merged because their files read the same key: that sharing is what
ATR103 reports once the configuration is written. An agent's `paths` are the highest folders
that hold its files and no other agent's (`helpdesk/support/**`), else the files themselves.
Test files count for nothing: they use every agent's values.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from attrlint.core.catalogue import Catalogue
from attrlint.core.schema import Schema
from attrlint.keys.governance import KeyRef, environment_of

PREFIXES = ("services", "agents", "apps", "packages", "src", "bots", "workers")
TEST_DIRS = frozenset({"tests", "test", "testing"})
TEST_IGNORES = '["ATR001", "ATR002", "ATR004", "ATR008"]'
# Words in a key variable's name that name no agent
_KEY_WORDS = frozenset({"API", "KEY", "KEYS", "TOKEN", "SECRET", "ACCESS", "AK", "SK", "BEARER", "AUTH"})
_NO_AGENT = frozenset({"MY", "APP", "DEFAULT", "MAIN", "SHARED", "COMMON", "GLOBAL", "LLM", "AI", "PROJECT",
                       "ORG", "SERVICE", "ADMIN", "PERSONAL", "BASE", "PRIMARY", "BACKUP", "NEW", "OLD"})
# Folders that hold code every agent shares, never an agent of their own
_SHARED_FOLDERS = frozenset({"shared", "common", "core", "lib", "libs", "utils", "util", "helpers", "internal",
                             "base", "config", "settings", "llm", "llms", "clients", "providers", "scripts"})
_ENVIRONMENTS = frozenset({"DEV", "DEVELOPMENT", "PROD", "PRODUCTION", "STAGING", "STAGE", "TEST", "TESTING", "QA",
                           "LOCAL", "SANDBOX"})


def is_test_file(path: str) -> bool:
    posix = PurePosixPath(Path(path).as_posix())
    name = posix.name
    return (any(part in TEST_DIRS for part in posix.parts[:-1]) or name.startswith("test_")
            or name.endswith("_test.py") or name == "conftest.py")


@dataclass
class Agent:
    name: str
    files: set[str] = field(default_factory=set)  # files that are its (relative, POSIX)
    reasons: list[str] = field(default_factory=list)  # why, in words
    globs: list[str] = field(default_factory=list)


@dataclass
class KeyProposal:
    env: str
    provider: str | None
    environment: str
    agent: str | None
    why: str  # how the agent was chosen, or why none was
    refs: list[KeyRef]


@dataclass
class Proposal:
    agents: dict[str, Agent]
    keys: list[KeyProposal]
    generic: dict[str, list[KeyRef]]
    wrappers: list[str]
    tests: bool
    files: int


def agent_in_key(env: str, catalogue: Catalogue) -> str | None:
    """The agent a key variable's name names: `OPENAI_KEY_SUPPORT` -> `support`,
    `ANTHROPIC_BILLING_API_KEY_PROD` -> `billing`; None for a shared or anonymous variable."""
    if env in catalogue.generic_envs:
        return None
    tokens = env.upper().split("_")
    for token in sorted(catalogue.env_tokens, key=len, reverse=True):  # vendor names, longest first
        parts = token.split("_")
        for i in range(len(tokens) - len(parts) + 1):
            if tokens[i:i + len(parts)] == parts:
                tokens = tokens[:i] + tokens[i + len(parts):]
                break
    while tokens and tokens[-1] in _ENVIRONMENTS:
        tokens.pop()
    words = [t for t in tokens if t and t not in _KEY_WORDS and t not in _NO_AGENT and not t.isdigit()]
    return "_".join(words).lower() or None


def agent_ids(text: str, schema: Schema) -> set[str]:
    """The agent_id values a module sends: `agent_id="x"` keywords and `{"agent_id": "x"}` entries
    (and the schema's aliases of agent_id)."""
    names = {"agent_id", *(alias for alias, canonical in schema.aliases.items() if canonical == "agent_id")}
    if not any(name in text for name in names):
        return set()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg and schema.canonical_name(node.arg) == "agent_id":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) and node.value.value:
                found.add(node.value.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and isinstance(key.value, str)
                        and schema.canonical_name(key.value) == "agent_id"
                        and isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value):
                    found.add(value.value)
    return {v for v in found if not schema.is_placeholder(v)}


def _agent_name(value: str) -> str:
    """An agent_id value as a TOML-friendly agent name."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", value.strip()).strip("-").lower()
    return name or "agent"


def _package_agent(rel: PurePosixPath, root: Path) -> tuple[str, str] | None:
    """(agent, folder) from the layout: the sub-package below the top-level package, the folder
    below `services/` and the like, else the top-level folder; None for files at the top."""
    parts = list(rel.parts[:-1])
    base: list[str] = []
    if parts and parts[0] == "src":
        base, parts = ["src"], parts[1:]
    if not parts:
        return None
    container = parts[0] in PREFIXES or (root.joinpath(*base, parts[0], "__init__.py")).is_file()
    if container:
        if len(parts) < 2:
            return None  # directly in the top-level package: shared code
        return parts[1], "/".join([*base, parts[0], parts[1]])
    return parts[0], "/".join([*base, parts[0]])


def _globs(files: set[str], others: set[str]) -> list[str]:
    """The highest folders holding `files` and none of `others` (`dir/**`), else the files."""
    globs: set[str] = set()
    for path in files:
        parts = PurePosixPath(path).parts
        chosen = path
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth]) + "/"
            if not any(other.startswith(folder) for other in others):
                chosen = folder + "**"
                break
        globs.add(chosen)
    return sorted(globs)


def propose(results: Sequence, root: Path, catalogue: Catalogue, schema: Schema) -> Proposal:
    """What to configure, from every checked file's result (`FileResult`s of a scan run from `root`)."""
    from attrlint.lint.project.modules import module_names

    def rel(path: str) -> str:
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    python = [r for r in results if r.path.endswith((".py", ".pyi", ".ipynb")) and r.warning is None]
    tests = any(is_test_file(r.path) for r in python)
    production = [r for r in python if not is_test_file(r.path)]
    agents: dict[str, Agent] = {}
    file_agent: dict[str, str] = {}

    def assign(path: str, name: str, reason: str) -> None:
        agent = agents.setdefault(name, Agent(name))
        agent.files.add(path)
        if reason not in agent.reasons:
            agent.reasons.append(reason)
        file_agent[path] = name

    # 1. agent_id values a file sends
    for result in production:
        if result.path.endswith(".ipynb"):
            continue
        try:
            text = Path(result.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        named = {_agent_name(v) for v in agent_ids(text, schema)}
        if len(named) == 1:
            name = named.pop()
            assign(rel(result.path), name, f"agent_id \"{name}\" in {rel(result.path)}")
    # 2. the agent a key variable's name names, for files that name none themselves
    key_agents = {ref.env: agent_in_key(ref.env, catalogue) for r in python for ref in r.key_refs}
    known = set(agents) | {a for a in key_agents.values() if a}
    for env, name in list(key_agents.items()):  # OPENAI_KEY_SUPPORT_TRIAGE is support's when support exists
        if name and name not in agents:
            shorter = [a for a in known if name.startswith(a + "_")]
            if shorter:
                key_agents[env] = min(shorter, key=len)
    for result in production:
        path = rel(result.path)
        if path in file_agent:
            continue
        named = {key_agents[ref.env] for ref in result.key_refs if key_agents.get(ref.env)}
        if len(named) == 1:
            name = named.pop()
            env = next(ref.env for ref in result.key_refs if key_agents.get(ref.env) == name)
            assign(path, name, f"key {env} in {path}")
    for env, name in key_agents.items():  # a key names an agent even where no file is its
        if name and name not in agents:
            agents[name] = Agent(name, reasons=[f"key {env}"])
    # 3. the package layout, for files with LLM calls or keys that nothing above placed
    active = [r for r in production if r.llm_calls or any(not ref.generic for ref in r.key_refs)]
    for agent in agents.values():
        others = {p for p, a in file_agent.items() if a != agent.name}
        agent.globs = _globs(agent.files, others)
    for result in active:
        path = rel(result.path)
        if path in file_agent or _covered(path, agents):
            continue
        found = _package_agent(PurePosixPath(path), root)
        if found is None:
            continue
        name, folder = found
        name = _agent_name(name)
        if name in _SHARED_FOLDERS:
            continue
        prefix = folder + "/"
        if any(p.startswith(prefix) and a != name for p, a in file_agent.items()):
            continue  # the folder holds another agent's files
        if name in agents and any(not g.startswith(prefix) for g in agents[name].globs):
            continue  # that name is already an agent elsewhere
        agent = agents.setdefault(name, Agent(name))
        if f"{prefix}**" not in agent.globs:
            agent.globs.append(f"{prefix}**")
            agent.reasons.append(f"package {folder}")
        file_agent[path] = name
        agent.files.add(path)
    # keys: every non-shared key variable the code reads
    generic: dict[str, list[KeyRef]] = defaultdict(list)
    by_env: dict[str, list[KeyRef]] = defaultdict(list)
    for result in python:
        for ref in result.key_refs:
            (generic if ref.generic else by_env)[ref.env].append(ref)
    keys = []
    for env, refs in sorted(by_env.items()):
        provider = next((r.vendor for r in refs if r.flows_into_client and r.vendor), None) or \
            next((r.vendor for r in refs if r.vendor), None) or catalogue.vendor_of_env(env)
        users = sorted({_agent_of_path(rel(r.path), agents) for r in refs} - {None})  # type: ignore[type-var]
        named = key_agents.get(env)
        if named and named in agents:
            agent, why = named, "from its name"
        elif len(users) == 1:
            agent, why = users[0], "the only agent that reads it"
        else:
            agent, why = None, (f"read by {', '.join(users)}" if users else "read by shared code only")
        keys.append(KeyProposal(env, provider, environment_of(env, None), agent, why, refs))
    wrappers = []
    for result in python:
        if result.summary is None:
            continue
        for wrapper in result.summary.wrappers:
            names = module_names(result.path, root)
            module = next((n for n in names if "." in n), names[0] if names else rel(result.path))
            supplies = ", ".join(f"{f} from `{p}`" for f, p in sorted(wrapper.supplies.items()))
            wrappers.append(f"{module}:{wrapper.qual}"
                            + (f" ({supplies})" if supplies else ""))
    return Proposal(agents=dict(sorted(agents.items())), keys=keys, generic=dict(sorted(generic.items())),
                    wrappers=sorted(set(wrappers)), tests=tests, files=len(python))


def _covered(path: str, agents: dict[str, Agent]) -> bool:
    return _agent_of_path(path, agents) is not None


def _agent_of_path(path: str, agents: dict[str, Agent]) -> str | None:
    for agent in agents.values():
        for glob in agent.globs:
            if glob == path or (glob.endswith("/**") and path.startswith(glob[:-2])):
                return agent.name
    return None


def render(proposal: Proposal, *, expires_hint: str = "") -> str:
    """The `[tool.attrlint]` section (paths relative to the folder init runs in)."""
    lines = ["[tool.attrlint]", 'required-fields = ["ticket_id", "customer_id", "agent_id"]', ""]
    if proposal.tests:
        lines += ["# Tests call LLM clients without production attribution: leave them to the key rules.",
                  "[tool.attrlint.per-file-ignores]",
                  f'"tests/**" = {TEST_IGNORES}', f'"**/test_*.py" = {TEST_IGNORES}', ""]
    if proposal.wrappers:
        lines.append("# Wrappers attrlint inferred: their callers are checked instead of their own LLM calls")
        lines.append("# (nothing to declare; declare one in [tool.attrlint.wrappers] only if inference misses it):")
        lines += [f"#   {w}" for w in proposal.wrappers]
        lines.append("")
    for agent in proposal.agents.values():
        lines.append(f"# {'; '.join(agent.reasons[:4])}" + (" ..." if len(agent.reasons) > 4 else ""))
        lines.append(f"[tool.attrlint.agents.{_toml_key(agent.name)}]")
        if agent.globs:
            lines.append("paths = [" + ", ".join(_toml_str(g) for g in agent.globs) + "]")
        else:
            lines.append("paths = []  # no file of this agent found yet: add its paths")
        lines.append("")
    for env, refs in proposal.generic.items():
        lines.append(f"# {env} is a shared default variable (ATR102): replace it with one key per agent.")
        lines += [f"#   used at {r.path}:{r.line}" for r in refs[:10]]
        lines.append("")
    for key in proposal.keys:
        lines.append(f"[tool.attrlint.keys.{_toml_key(key.env)}]")
        lines += [f"# used at {r.path}:{r.line}" for r in key.refs[:10]]
        if key.agent:
            lines.append(f'agent = "{key.agent}"  # {key.why}')
        else:
            lines.append(f'# agent = ""  # {key.why}: pick the one agent it belongs to')
        if key.provider:
            lines.append(f'provider = "{key.provider}"')
        lines.append(f'environment = "{key.environment}"')
        lines.append('owner = ""  # fill in: who to call when this key leaks (ATR104 until then)')
        lines.append(f"# expires = {expires_hint or 'YYYY-MM-DD'}  # fill in: the date this key is rotated by "
                     "(ATR104 until then)")
        lines.append("")
    return "\n".join(lines)


def summary(proposal: Proposal) -> str:
    """What init inferred and why, for the terminal."""
    head = (f"attrlint init: {len(proposal.agents)} agents, {len(proposal.keys)} keys, "
            f"{len(proposal.wrappers)} wrappers, from {proposal.files} Python files")
    out = [head]
    for agent in proposal.agents.values():
        where = ", ".join(agent.globs) or "no files yet"
        out.append(f"  agent {agent.name}: {where}  ({'; '.join(agent.reasons[:3])})")
    for key in proposal.keys:
        owner = f"agent {key.agent} ({key.why})" if key.agent else f"no agent: {key.why}"
        out.append(f"  key {key.env}: {key.provider or 'unknown provider'}, {key.environment}, {owner}")
    for env, refs in proposal.generic.items():
        out.append(f"  shared variable {env}: {len(refs)} reference(s), reported by ATR102")
    for wrapper in proposal.wrappers:
        out.append(f"  wrapper {wrapper}")
    if proposal.tests:
        out.append("  tests: left to the key rules (per-file-ignores for tests/** and **/test_*.py)")
    return "\n".join(out)


def _toml_key(name: str) -> str:
    import json

    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _toml_str(text: str) -> str:
    import json

    return json.dumps(text)


def replace_attrlint(text: str, section: str) -> str:
    """`text` (a pyproject.toml) with its `[tool.attrlint...]` tables replaced by `section`,
    where the first of them was (at the end when there was none)."""
    out: list[str] = []
    at: int | None = None
    skipping = False
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
        if header:
            name = header.group(1).replace(" ", "")
            skipping = name == "tool.attrlint" or name.startswith(("tool.attrlint.", 'tool."attrlint"'))
            if skipping and at is None:
                at = len(out)
        if not skipping:
            out.append(line)
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    block = section.rstrip("\n") + "\n"
    if at is None:
        return "".join(out).rstrip("\n") + ("\n\n" if out else "") + block
    before, after = "".join(out[:at]).rstrip("\n"), "".join(out[at:]).lstrip("\n")
    return (before + "\n\n" if before else "") + block + ("\n" + after if after else "")

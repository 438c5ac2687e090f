"""`attrlint keys audit`: the key registry joined with the cost ledger.

Per registered key: when it was last used, its calls and cost over the window, the days left
before it expires and the share of its calls that were unattributed. Findings:

* `retire`: a registered key with no call in the window;
* `expired-in-use`: a key used after its `expires` date;
* `spike`: a day costing more than 3x the median of the 14 days before it (with the agents and
  models that day);
* `unattributed`: a key whose unattributed share is over the threshold;
* `unregistered`: a key variable name or fingerprint in the ledger that matches no registered key.

A ledger row names its key by `key_env` (the variable name(s), comma-joined) and
`key_fingerprint`. A fingerprint seen with a registered name in one row identifies that key in
rows that lack the name.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from attrlint.core.config import Config

SPIKE_FACTOR = Decimal(3)
SPIKE_BASELINE_DAYS = 14
_ZERO = Decimal(0)


@dataclass
class KeyRow:
    env: str
    agent: str | None
    owner: str | None
    expires: dt.date | None
    days_to_expiry: int | None
    last_used: dt.date | None = None
    calls: int = 0
    cost: Decimal = _ZERO
    unattributed_calls: int = 0

    @property
    def unattributed_share(self) -> float:
        return self.unattributed_calls / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class Finding:
    kind: str  # retire | expired-in-use | spike | unattributed | unregistered
    key: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Audit:
    today: dt.date
    days: int
    keys: list[KeyRow]
    findings: list[Finding]
    since: dt.date  # the first day read: a key unused since is "last used before" it

    def as_dict(self) -> dict[str, Any]:
        keys = []
        for row in self.keys:
            item = asdict(row)
            item["expires"] = row.expires.isoformat() if row.expires else None
            item["last_used"] = row.last_used.isoformat() if row.last_used else None
            item["cost"] = str(row.cost)
            item["unattributed_share"] = round(row.unattributed_share, 4)
            del item["unattributed_calls"]
            keys.append(item)
        return {"today": self.today.isoformat(), "days": self.days, "since": self.since.isoformat(), "keys": keys,
                "findings": [asdict(f) for f in self.findings]}


def history_start(today: dt.date, days: int) -> dt.date:
    """The first day whose records the audit needs: the window plus the spike baseline."""
    return today - dt.timedelta(days=days + SPIKE_BASELINE_DAYS - 1)


def audit(config: Config, records: Iterable[Any], *, today: dt.date, days: int = 30,
          max_unattributed: float = 0.10) -> Audit:
    """Audit `records` (CostRecords, any order; those before `history_start` are ignored)."""
    registry = config.keys
    window_start = today - dt.timedelta(days=days - 1)
    first = history_start(today, days)
    rows = {env: KeyRow(env, k.agent, k.owner, k.expires, (k.expires - today).days if k.expires else None)
            for env, k in sorted(registry.items())}

    records = [r for r in records if first <= r.timestamp.date() <= today]
    fp_to_env: dict[str, str] = {}
    for r in records:
        env = _registered(r.key_env, registry)
        if env and r.key_fingerprint:
            fp_to_env.setdefault(r.key_fingerprint, env)

    daily: dict[str, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    behind: dict[tuple[str, dt.date], tuple[Counter[str], Counter[str]]] = {}
    expired_use: dict[str, list[dt.date]] = defaultdict(list)
    unknown: dict[str, dict[str, Any]] = {}
    for r in records:
        day = r.timestamp.date()
        env = _registered(r.key_env, registry) or fp_to_env.get(r.key_fingerprint or "")
        cost = r.cost or _ZERO
        if env is None:
            if r.key_env or r.key_fingerprint:
                label = r.key_env or f"fingerprint {r.key_fingerprint}"
                if day >= window_start:
                    seen = unknown.setdefault(label, {"calls": 0, "cost": _ZERO, "agents": set(),
                                                      "last_used": day})
                    seen["calls"] += 1
                    seen["cost"] += cost
                    seen["last_used"] = max(seen["last_used"], day)
                    if r.agent_id:
                        seen["agents"].add(r.agent_id)
            continue
        daily[env][day] += cost
        agents, models = behind.setdefault((env, day), (Counter(), Counter()))
        agents[r.agent_id or "(none)"] += 1
        models[r.model or "(none)"] += 1
        row = rows[env]
        row.last_used = day if row.last_used is None else max(row.last_used, day)
        if day < window_start:
            continue
        row.calls += 1
        row.cost += cost
        if r.status == "unattributed":
            row.unattributed_calls += 1
        if row.expires and day > row.expires:
            expired_use[env].append(day)

    findings: list[Finding] = []
    for env, row in rows.items():
        if row.calls == 0:
            last = f"last used {row.last_used}" if row.last_used else f"not used since at least {first}"
            findings.append(Finding("retire", env, f"{env} has no calls in the last {days} days ({last}): "
                                    "retire it, or delete the variable", {"last_used": _iso(row.last_used)}))
        if env in expired_use:
            used = expired_use[env]
            findings.append(Finding(
                "expired-in-use", env,
                f"{env} expired on {row.expires} but made {len(used)} call(s) since (last {max(used)}): rotate it",
                {"expires": _iso(row.expires), "calls_after_expiry": len(used), "last_used": _iso(max(used))}))
        if row.calls and row.unattributed_share > max_unattributed:
            findings.append(Finding(
                "unattributed", env,
                f"{env}: {row.unattributed_share:.0%} of {row.calls} calls are unattributed "
                f"(over {max_unattributed:.0%})",
                {"unattributed_calls": row.unattributed_calls, "calls": row.calls}))
        findings.extend(_spikes(env, daily.get(env, {}), behind, window_start, today))
    for label, seen in sorted(unknown.items()):
        agents = ", ".join(sorted(seen["agents"])) or "no agent"
        findings.append(Finding(
            "unregistered", label,
            f"{label} made {seen['calls']} call(s) (${seen['cost']:.2f}, {agents}) but matches no "
            "[tool.attrlint.keys] entry: register it or revoke it",
            {"calls": seen["calls"], "cost": str(seen["cost"]), "agents": sorted(seen["agents"]),
             "last_used": _iso(seen["last_used"])}))
    return Audit(today, days, list(rows.values()), findings, first)


def _registered(key_env: str | None, registry: dict[str, Any]) -> str | None:
    for name in (key_env or "").split(","):
        if name in registry:
            return name
    return None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _spikes(env: str, costs: dict[dt.date, Decimal],
            behind: dict[tuple[str, dt.date], tuple[Counter[str], Counter[str]]],
            window_start: dt.date, today: dt.date) -> list[Finding]:
    out = []
    day = window_start
    while day <= today:
        cost = costs.get(day, _ZERO)
        if cost > 0:
            baseline = [costs.get(day - dt.timedelta(days=i), _ZERO) for i in range(1, SPIKE_BASELINE_DAYS + 1)]
            median = statistics.median(baseline)
            if median > 0 and cost > SPIKE_FACTOR * median:
                agents, models = behind[(env, day)]
                top_agents = [a for a, _ in agents.most_common(3)]
                top_models = [m for m, _ in models.most_common(3)]
                out.append(Finding(
                    "spike", env,
                    f"{env} cost ${cost:.2f} on {day}, {cost / median:.1f}x its 14-day median (${median:.2f}); "
                    f"agents: {', '.join(top_agents)}; models: {', '.join(top_models)}",
                    {"day": day.isoformat(), "cost": str(cost), "median": str(median),
                     "agents": top_agents, "models": top_models}))
        day += dt.timedelta(days=1)
    return out


# -- output ---------------------------------------------------------------------------------------

KEY_HEADERS = ["key", "agent", "owner", "last_used", "calls", "cost_usd", "expires", "days_to_expiry",
               "unattributed"]


def key_table(result: Audit) -> list[list[str]]:
    return [[row.env, row.agent or "", row.owner or "", _iso(row.last_used) or f"before {result.since}", str(row.calls),
             f"{row.cost:.2f}", _iso(row.expires) or "", "" if row.days_to_expiry is None else str(row.days_to_expiry),
             f"{row.unattributed_share:.0%}"] for row in result.keys]


def render_text(result: Audit, markdown: bool, render: Any) -> str:
    """The keys table then the findings, as a terminal table or Markdown (`render` draws tables)."""
    title = f"Keys, last {result.days} days to {result.today}"
    parts = [render(KEY_HEADERS, key_table(result), "markdown" if markdown else "table", title)]
    if not markdown:
        parts.insert(0, title)
    if result.findings:
        parts.append(("**Findings**" if markdown else "Findings") + f" ({len(result.findings)})")
        bullet = "- " if markdown else "  "
        parts.append("\n".join(f"{bullet}[{f.kind}] {f.message}" for f in result.findings))
    else:
        parts.append("No findings.")
    return "\n\n".join(parts)

"""`attrlint ledger report --html FILE`: one self-contained HTML page of what LLM calls cost.

No network: the charts are inline SVG, the styles an inline `<style>`, and there is no script.
Sections: cost per agent per day (stacked bars), budget burn per agent (month to date and
forecast against the monthly budget), the unattributed share (overall and per agent), and the
top tickets and customers. It reads only `Ledger.totals`, so its cost does not grow with the
number of calls. It prints on A4/Letter (landscape suits the daily chart best).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from attrlint.ledger.reports.budget import budgets, money, percent

_ZERO = Decimal(0)
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
OTHER = "(other agents)"
TOP = 10

_CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --rule: #d9e2ec; --bad: #c0392b; --ok: #2e7d32; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; padding: 24px; max-width: 1040px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub, .note { color: var(--muted); } .note { font-size: 12px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.hbar { display: inline-block; height: 10px; background: #4e79a7; vertical-align: middle; }
.over { color: var(--bad); font-weight: 600; } .within { color: var(--ok); }
.legend span { display: inline-block; margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
svg text { font: 11px system-ui, sans-serif; fill: #52606d; }
section { break-inside: avoid; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  .cols { grid-template-columns: 1fr 1fr; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  @page { margin: 12mm; }
}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def render_html(ledger: Any, config: Any, *, today: dt.date, since: dt.datetime | None = None,
                until: dt.datetime | None = None) -> str:
    """The report for [since, until) (default: the 30 days to `today`), budgets as of `today`."""
    start = since.date() if since else today - dt.timedelta(days=29)
    end = (until - dt.timedelta(microseconds=1)).date() if until else today
    since_arg, until_arg = start, end + dt.timedelta(days=1)
    by_day_agent = ledger.totals(("day", "agent"), since=since_arg, until=until_arg)
    by_agent_status = ledger.totals(("agent", "status"), since=since_arg, until=until_arg)
    tickets = ledger.totals("ticket", since=since_arg, until=until_arg)
    customers = ledger.totals("customer", since=since_arg, until=until_arg)
    burn = budgets(config, ledger, today)
    from attrlint.ledger.reports.apart import apart

    left_out = apart(ledger, since=since_arg, until=until_arg)

    total = sum(by_agent_status.values(), _ZERO)
    unattributed = sum((c for (_, s), c in by_agent_status.items() if s == "unattributed"), _ZERO)
    share = (unattributed / total) if total else _ZERO
    over = [b for b in burn if b.over]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>LLM cost report {start} to {end}</title>", f"<style>{_CSS}</style></head><body>",
        "<header><h1>LLM cost report</h1>",
        f'<div class="sub">{start} to {end} (UTC) &middot; budgets as of {today} &middot; from the attrlint ledger</div>',
        '<div class="cards">',
        f'<div class="card">Total cost<b id="total">{_usd(total)}</b></div>',
        f'<div class="card">Agents<b>{len({a for a, _ in by_agent_status if a})}</b></div>',
        f'<div class="card">Unattributed<b id="unattributed-share">{percent(share)}</b>{_usd(unattributed)}</div>',
        f'<div class="card">Forecast over budget<b class="{"over" if over else "within"}">{len(over)}</b>'
        f'{_e(", ".join(b.agent for b in over)) or "none"}</div>',
        f'<div class="card">Unpriced calls<b id="unpriced">{left_out.unpriced}</b>not in the total</div>',
        f'<div class="card">Estimated<b id="estimated">{left_out.estimated}</b>{_usd(left_out.estimated_cost)} '
        "from local token counts</div>",
        *([f'<div class="card">Pending<b id="pending">{left_out.pending}</b>not finished</div>']
          if left_out.pending else []),
        "</div></header>",
        _daily_chart(by_day_agent, _days(start, end)),
        _budget_chart(burn, today),
        _unattributed(by_agent_status, total),
        '<div class="cols">',
        _top_table("Top tickets", "ticket", tickets, total),
        _top_table("Top customers", "customer", customers, total),
        "</div>",
        '<p class="note">Costs are USD as priced when recorded (genai-prices or [tool.attrlint.pricing]); '
        "unpriced and pending calls are not in the totals (counted above); estimated costs come from local "
        "token counts. Generated by attrlint.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _daily_chart(by_day_agent: dict[Any, Decimal], days: list[dt.date]) -> str:
    per_agent: dict[str, Decimal] = {}
    for (_, agent), cost in by_day_agent.items():
        name = agent or "(none)"
        per_agent[name] = per_agent.get(name, _ZERO) + cost
    ranked = [a for a, _ in sorted(per_agent.items(), key=lambda kv: (-kv[1], kv[0]))]
    shown = ranked[: len(PALETTE) - 1] if len(ranked) > len(PALETTE) else ranked
    colour = {a: PALETTE[i] for i, a in enumerate(shown)}
    if len(ranked) > len(shown):
        colour[OTHER] = PALETTE[-1]
    stacks: dict[str, dict[str, Decimal]] = {d.isoformat(): {} for d in days}
    for (day, agent), cost in by_day_agent.items():
        name = agent or "(none)"
        name = name if name in colour else OTHER
        column = stacks.setdefault(str(day)[:10], {})
        column[name] = column.get(name, _ZERO) + cost
    peak = max((sum(c.values(), _ZERO) for c in stacks.values()), default=_ZERO) or Decimal(1)
    width, height, left, bottom, top = 960, 300, 56, 28, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.8, 1)
    out = ['<section id="daily"><h2>Cost per agent per day</h2>',
           f'<svg role="img" aria-label="Stacked bar chart of cost per agent per day" viewBox="0 0 {width} {height}" '
           f'width="100%">']
    for i in range(5):  # grid and y labels
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_usd(value)}</text>')
    label_every = max(1, len(days) // 10)
    for i, day in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        for agent in [a for a in colour if a in stacks.get(day.isoformat(), {})]:
            cost = stacks[day.isoformat()][agent]
            if cost <= 0:
                continue
            h = float(cost / peak) * plot_h
            y -= h
            out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                       f'fill="{colour.get(agent, PALETTE[-1])}"><title>{_e(day)} {_e(agent)}: {_usd(cost)}</title></rect>')
        if i % label_every == 0:
            out.append(f'<text x="{left + i * step + step / 2:.1f}" y="{height - 10}" text-anchor="middle">'
                       f'{day:%m-%d}</text>')
    out.append("</svg>")
    out.append('<div class="legend">' + "".join(
        f'<span><i style="background:{c}"></i>{_e(a)} {_usd(per_agent.get(a, _ZERO)) if a != OTHER else ""}</span>'
        for a, c in colour.items()) + "</div></section>")
    return "\n".join(out)


def _budget_chart(burn: Iterable[Any], today: dt.date) -> str:
    rows = [b for b in burn if b.budget is not None]
    head = (f'<section id="budgets"><h2>Budget burn per agent, {today:%B %Y}</h2>'
            f'<div class="note">Day {today.day}: month-to-date spend (dark), linear month-end forecast (light), '
            "budget (black line).</div>")
    if not rows:
        return head + '<p class="sub">No agent has a monthly-budget ([tool.attrlint.agents.NAME] monthly-budget = USD).</p></section>'
    width, row_h, left = 960, 30, 150
    plot_w = width - left - 170
    scale = max(max(b.forecast, b.budget) for b in rows) * Decimal("1.05") or Decimal(1)
    out = [head, f'<svg role="img" aria-label="Budget burn per agent" viewBox="0 0 {width} {row_h * len(rows) + 10}" '
                 f'width="100%">']
    for i, b in enumerate(rows):
        y = 5 + i * row_h
        fw = float(b.forecast / scale) * plot_w
        mw = float(b.month_to_date / scale) * plot_w
        bx = left + float(b.budget / scale) * plot_w
        fill = "#e15759" if b.over else "#4e79a7"
        out += [f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{_e(b.agent)}</text>',
                f'<rect class="forecast" x="{left}" y="{y + 4}" width="{fw:.1f}" height="16" fill="{fill}" '
                f'fill-opacity="0.3"><title>forecast {_usd(b.forecast)}</title></rect>',
                f'<rect class="mtd" x="{left}" y="{y + 4}" width="{mw:.1f}" height="16" fill="{fill}">'
                f'<title>month to date {_usd(b.month_to_date)}</title></rect>',
                f'<line class="budget" x1="{bx:.1f}" x2="{bx:.1f}" y1="{y}" y2="{y + 24}" stroke="#000" stroke-width="2"/>',
                f'<text x="{left + plot_w + 10}" y="{y + 16}">{_usd(b.month_to_date)} / {_usd(b.budget)} '
                f'&#8594; {percent(b.forecast_share)}</text>']
    out.append("</svg>")
    out.append('<table><tr><th>agent</th><th class="num">month to date</th><th class="num">budget</th>'
               '<th class="num">burn / day</th><th class="num">forecast</th><th class="num">of budget</th></tr>')
    for b in rows:
        cls = "over" if b.over else "within"
        out.append(f"<tr><td>{_e(b.agent)}</td><td class=num>{money(b.month_to_date)}</td><td class=num>"
                   f"{money(b.budget)}</td><td class=num>{money(b.burn_per_day)}</td><td class=num>"
                   f'{money(b.forecast)}</td><td class="num {cls}">{percent(b.forecast_share)}</td></tr>')
    out.append("</table></section>")
    return "\n".join(out)


def _unattributed(by_agent_status: dict[Any, Decimal], total: Decimal) -> str:
    per: dict[str, list[Decimal]] = {}
    for (agent, status), cost in by_agent_status.items():
        entry = per.setdefault(agent or "(none)", [_ZERO, _ZERO])
        entry[0] += cost
        if status == "unattributed":
            entry[1] += cost
    unattributed = sum((v[1] for v in per.values()), _ZERO)
    share = float(unattributed / total) if total else 0.0
    width = 960
    out = ['<section id="unattributed"><h2>Unattributed share</h2>',
           f'<svg role="img" aria-label="Attributed and unattributed cost" viewBox="0 0 {width} 28" width="100%">',
           f'<rect class="attributed" x="0" y="4" width="{width * (1 - share):.1f}" height="20" fill="#59a14f">'
           f"<title>attributed {_usd(total - unattributed)}</title></rect>",
           f'<rect class="unattributed" x="{width * (1 - share):.1f}" y="4" width="{width * share:.1f}" height="20" '
           f'fill="#e15759"><title>unattributed {_usd(unattributed)}</title></rect></svg>',
           f'<div class="note">{share:.1%} of cost ({_usd(unattributed)} of {_usd(total)}) lacks the required '
           "attribution fields.</div>",
           '<table><tr><th>agent</th><th class="num">cost</th><th class="num">unattributed</th><th class="num">share</th>'
           "<th></th></tr>"]
    for agent, (cost, una) in sorted(per.items(), key=lambda kv: (-(kv[1][1] / kv[1][0] if kv[1][0] else 0), kv[0])):
        s = (una / cost) if cost else _ZERO
        out.append(f"<tr><td>{_e(agent)}</td><td class=num>{money(cost)}</td><td class=num>{money(una)}</td>"
                   f'<td class=num>{percent(s)}</td><td><span class="hbar" style="width:{float(s) * 120:.0f}px;'
                   f'background:#e15759"></span></td></tr>')
    out.append("</table></section>")
    return "\n".join(out)


def _top_table(title: str, label: str, totals: dict[Any, Decimal], total: Decimal) -> str:
    rows = sorted(((k, v) for k, v in totals.items() if k), key=lambda kv: (-kv[1], str(kv[0])))[:TOP]
    peak = rows[0][1] if rows and rows[0][1] else Decimal(1)
    out = [f'<section id="top-{label}s"><h2>{_e(title)}</h2><table>',
           f'<tr><th>{_e(label)}</th><th class="num">cost</th><th class="num">share</th><th></th></tr>']
    for key, cost in rows:
        out.append(f"<tr><td>{_e(key)}</td><td class=num>{money(cost)}</td>"
                   f"<td class=num>{percent(cost / total) if total else ''}</td>"
                   f'<td><span class="hbar" style="width:{float(cost / peak) * 120:.0f}px"></span></td></tr>')
    if not rows:
        out.append(f'<tr><td colspan="4" class="sub">No {label} ids recorded.</td></tr>')
    out.append("</table></section>")
    return "\n".join(out)

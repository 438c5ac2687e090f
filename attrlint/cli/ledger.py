"""`attrlint ledger`: cost reports, exports, repricing, invoice reconciliation, spill replay
and integrity checks.

Exit codes: 0 done; 1 `check`/`replay` found something to act on (a damaged database, rows
still in spill files, damaged spill lines); 2 a usage, configuration or ledger error (one line
naming the file, URL or key and what to do)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from attrlint.cli.common import (
    Fail,
    LedgerCommand,
    csv_line,
    ledger_notes,
    ledger_option,
    load_config,
    neutralise_formula,
    open_ledger,
    render_table,
    today_option,
    verbose_option,
)

DIMENSION_CHOICES = ["agent", "ticket", "customer", "day", "model", "provider", "key"]
_HEADERS = {"agent": "agent", "ticket": "ticket", "customer": "customer", "day": "day", "model": "model",
            "provider": "provider", "key": "key"}


def _date(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Fail(f"{option} {value!r}: expected a date or time like 2026-01-31 or 2026-01-31T12:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _label(value: Any) -> str:
    return "(none)" if value is None or value == "" else str(value)


class _LedgerGroup(click.Group):
    command_class = LedgerCommand


@click.group(cls=_LedgerGroup)
@verbose_option
def ledger(verbose: bool) -> None:
    """Report, export, reprice and reconcile the cost ledger; replay spill files; check it.

    These commands read what the runtime recorded: a ledger that does not exist is an error
    (exit 2), never a new empty one; a database error is one line (--verbose for more)."""


@ledger.command()
@ledger_option
@click.option("--by", "by", type=click.Choice(DIMENSION_CHOICES), default="agent", show_default=True)
@click.option("--by2", type=click.Choice(DIMENSION_CHOICES), help="A second dimension.")
@click.option("--since", help="From this date/time (UTC, inclusive).")
@click.option("--until", help="Up to this date/time (UTC, exclusive).")
@click.option("--agent", help="Only this agent's calls.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True)
@today_option("Treat this date (YYYY-MM-DD, UTC) as today (budgets, --html).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write a self-contained HTML cost report to this file.")
def report(url: str | None, by: str, by2: str | None, since: str | None, until: str | None,
           agent: str | None, fmt: str, today: dt.date, html_path: str | None = None) -> None:
    """Cost per agent, ticket, customer, day, model, provider or key. `--by agent` adds
    month-to-date spend, budget, burn rate and forecast when agents have a monthly-budget."""
    if by2 == by:
        raise Fail("--by2 must differ from --by")
    book = open_ledger(url)
    dims = (by, by2) if by2 else (by,)
    try:
        totals = book.totals(dims, since=_date(since, "--since"), until=_date(until, "--until"), agent=agent)
        extra = _budget_columns(book, today, agent) if dims == ("agent",) else None
        if html_path:
            _write_html(book, html_path, today, since, until)
        from attrlint.ledger.reports.apart import apart

        notes = apart(book, since=_date(since, "--since"), until=_date(until, "--until"), agent=agent).notes()
        warnings = ledger_notes(book)
    finally:
        book.close()
    for warning in warnings:  # on stderr, whatever the format: the figures leave these rows out
        click.echo(warning, err=True)
    if fmt not in ("table", "markdown"):
        notes = []  # machine formats: `ledger export` has the rows, with their status and estimate flag
    if extra is not None:
        headers, columns = extra
        rows = sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))
        table = [(_label(k), _money(v), *columns.pop(k, [""] * (len(headers)))) for k, v in rows]
        table += [(_label(k), "", *cols) for k, cols in sorted(columns.items())]
        if fmt in ("table", "markdown") and table:
            table.append(("**total**" if fmt == "markdown" else "total", _money(sum(totals.values(), Decimal(0))),
                          *([""] * len(headers))))
        title = "LLM cost by agent, with month-to-date budgets" + (f" for {agent}" if agent else "")
        click.echo(render_table(["agent", "cost_usd", *headers], table, fmt, title))
        _notes(notes)
        return
    rows = sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))
    table = [(*(_label(x) for x in ((k,) if len(dims) == 1 else k)), _money(v)) for k, v in rows]
    total = sum(totals.values(), Decimal(0))
    if fmt in ("table", "markdown") and table:
        table.append(("**total**" if fmt == "markdown" else "total", *([""] * (len(dims) - 1)), _money(total)))
    headers = [*(_HEADERS[d] for d in dims), "cost_usd"]
    title = f"LLM cost by {' and '.join(dims)}" + (f" for {agent}" if agent else "")
    if since or until:
        title += f" ({since or '...'} to {until or 'now'})"
    click.echo(render_table(headers, table, fmt, title))
    _notes(notes)


def _notes(notes: list[str]) -> None:
    """What the totals leave out or estimate, after the table: an unpriced call is never $0."""
    if notes:
        click.echo("")
        for note in notes:
            click.echo(f"note: {note}")


# Columns whose text comes from callers: a spreadsheet must not run it (see neutralise_formula).
_TEXT = ("provider", "operation", "model", "agent_id", "ticket_id", "customer_id", "metadata", "environment",
         "price_source", "key_fingerprint", "request_id", "status", "key_env", "agent_source", "service_tier",
         "host", "usage_extra", "batch_id")


@ledger.command()
@ledger_option
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--since", help="From this date/time (UTC, inclusive).")
@click.option("--until", help="Up to this date/time (UTC, exclusive).")
@click.option("--agent", help="Only this agent's calls.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout.")
def export(url: str | None, fmt: str, since: str | None, until: str | None, agent: str | None,
           output: str | None) -> None:
    """Every record, as CSV or JSON lines (an unpriced row has an empty cost; `estimated` marks
    costs counted from a local token estimate). In CSV, text that a spreadsheet would run as a
    formula (starting with =, +, -, @, a tab or a carriage return) gets a leading apostrophe."""
    from attrlint.ledger.records import COLUMNS

    book = open_ledger(url)
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115 - stdout or a file, closed below
    try:
        if fmt == "csv":
            out.write(csv_line(COLUMNS) + "\n")
        for record in book.records(since=_date(since, "--since"), until=_date(until, "--until"), agent=agent):
            row = record.as_dict()
            if fmt == "csv":
                row["metadata"] = json.dumps(row["metadata"], sort_keys=True) if row["metadata"] else ""
                row["usage_extra"] = json.dumps(row["usage_extra"], sort_keys=True) if row["usage_extra"] else ""
                out.write(csv_line(["" if row[c] is None else neutralise_formula(row[c]) if c in _TEXT else row[c]
                                    for c in COLUMNS]) + "\n")
            else:
                out.write(json.dumps(row) + "\n")
    finally:
        book.close()
        if output:
            out.close()


@ledger.command("import-batch")
@ledger_option
@click.argument("results", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--provider", "family", type=click.Choice(["openai", "anthropic"]), required=True,
              help="Whose batch results file this is.")
@click.option("--requests", "requests_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The batch's requests (input) file: each request's metadata attributes its row.")
@click.option("--batch-id", help="The batch's id, stored on each row.")
@click.option("--base-url", help="Where the batch ran (default: the provider's API), e.g. an Azure endpoint.")
@click.option("--agent", help="The agent the batch ran for.")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE",
              help="An attribution field for every row (ticket_id=T-1, customer_id=acme); repeatable.")
def import_batch(url: str | None, results: Path, family: str, requests_path: Path | None, batch_id: str | None,
                 base_url: str | None, agent: str | None, fields: tuple[str, ...]) -> None:
    """Record a batch results file fetched outside the runtime: one row per request at the
    batch price. Importing the same file again adds nothing once the ledger enforces unique ids
    (each row's id comes from the batch and the request's custom_id)."""
    from attrlint.runtime import attribution
    from attrlint.runtime.batches import import_results, request_metadata
    from attrlint.runtime.settings import settings_for

    given: dict[str, str] = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise Fail(f"--field {item!r}: expected NAME=VALUE, e.g. --field ticket_id=T-1")
        given[name] = value
    lines = _jsonl(results)
    requests = request_metadata(_jsonl(requests_path)) if requests_path else None
    config = _config()
    book = open_ledger(url, config, create=True)
    try:
        settings = settings_for(family, base_url or _API[family], None, agent_id=agent, ledger=book, strict=False,
                                config=config)
        with attribution(**given):
            count = import_results(lines, family=family, settings=settings, batch_id=batch_id, requests=requests)
        book.flush()
    finally:
        book.close()
    click.echo(f"recorded {count} batch result(s) from {results.name}")


_API = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Fail(f"{path}: cannot read: {exc.strerror}") from None
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise Fail(f"{path}:{lineno}: not a JSON line; expected a batch results (or requests) .jsonl file") from None
        if not isinstance(value, dict) or "custom_id" not in value:
            raise Fail(f"{path}:{lineno}: no custom_id; expected a batch results (or requests) .jsonl file")
        out.append(value)
    return out


@ledger.command()
@ledger_option
def reprice(url: str | None) -> None:
    """Price rows recorded `unpriced` (models unknown when they were recorded)."""
    book = open_ledger(url, _config())
    try:
        priced, left = book.reprice()
    finally:
        book.close()
    click.echo(f"priced {priced} row(s); {left} still unpriced"
               + ("; add [tool.attrlint.pricing.\"provider:model\"] for them or update genai-prices" if left else ""))


_DATE_COLUMNS = ("date", "day", "usage_date", "start_time", "start_date", "timestamp", "time", "period_start")
_AMOUNT_COLUMNS = ("cost_usd", "cost (usd)", "cost", "amount_value", "amount", "total_cost", "usd", "spend",
                   "amount (usd)", "total")
_KEY_COLUMNS = ("key_fingerprint", "api_key", "api_key_id", "key", "api_key_name", "key_id")


def _pick(header: list[str], names: Iterable[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _read_invoice(path: Path, by: str) -> dict[str, Decimal]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise Fail(f"{path}: cannot read the invoice export: {exc.strerror}") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise Fail(f"{path}: empty; expected a provider cost export CSV with a header row")
    header, body = rows[0], rows[1:]
    amount_i = _pick(header, _AMOUNT_COLUMNS)
    key_i = _pick(header, _DATE_COLUMNS if by == "day" else _KEY_COLUMNS)
    if amount_i is None or key_i is None:
        wanted = "a date column (date, start_time, ...)" if by == "day" else "a key column (api_key, key_id, ...)"
        raise Fail(f"{path}: expected {wanted} and a cost column (cost, amount_value, cost_usd, ...); "
                    f"found {', '.join(header)}")
    out: dict[str, Decimal] = {}
    for lineno, row in enumerate(body, start=2):
        if len(row) <= max(amount_i, key_i) or not row[amount_i].strip():
            continue
        try:
            amount = Decimal(row[amount_i].strip().lstrip("$").replace(",", ""))
        except InvalidOperation:
            raise Fail(f"{path}:{lineno}: {header[amount_i]} {row[amount_i]!r} is not a number") from None
        key = row[key_i].strip()
        if by == "day":
            key = _invoice_day(key, path, lineno)
        out[key] = out.get(key, Decimal(0)) + amount
    return out


def _invoice_day(value: str, path: Path, lineno: int) -> str:
    try:
        if value.isdigit():  # unix seconds (OpenAI's costs export)
            return dt.datetime.fromtimestamp(int(value), tz=dt.timezone.utc).date().isoformat()
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise Fail(f"{path}:{lineno}: date {value!r} is not a date like 2026-01-31") from None


@ledger.command()
@ledger_option
@click.option("--invoice", type=click.Path(path_type=Path), required=True,
              help="The provider's cost export (CSV).")
@click.option("--by", type=click.Choice(["day", "key"]), default="day", show_default=True)
@click.option("--provider", help="Compare only this provider's calls (openai, anthropic, azure).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True)
def reconcile(url: str | None, invoice: Path, by: str, provider: str | None, fmt: str) -> None:
    """Compare the ledger with a provider's cost export; show what no record accounts for."""
    billed = _read_invoice(invoice, by)
    book = open_ledger(url)
    try:
        dims = ("day", "status") if by == "day" else ("key", "status")
        found = book.totals(dims, provider=provider)
    finally:
        book.close()
    attributed: dict[str, Decimal] = {}
    unattributed: dict[str, Decimal] = {}
    for (key, status), cost in found.items():
        target = unattributed if status == "unattributed" else attributed
        target[str(key)] = target.get(str(key), Decimal(0)) + cost
    keys = sorted(set(billed) | set(attributed) | set(unattributed))
    rows = []
    sums = [Decimal(0)] * 4
    for key in keys:
        inv, att, una = billed.get(key, Decimal(0)), attributed.get(key, Decimal(0)), unattributed.get(key, Decimal(0))
        remainder = inv - att
        for i, v in enumerate((inv, att, una, remainder)):
            sums[i] += v
        rows.append((key, _money(inv), _money(att), _money(una), _money(remainder)))
    if fmt in ("table", "markdown"):
        rows.append(("total", *(_money(v) for v in sums)))
    headers = [by, "invoice_usd", "ledger_attributed_usd", "ledger_unattributed_usd", "unattributed_remainder_usd"]
    click.echo(render_table(headers, rows, fmt, f"Invoice {invoice.name} vs ledger, by {by}"))


# -- budgets and the HTML report (attrlint.ledger.reports) --------------------------------------------

def _config() -> Any:
    return load_config()


_BUDGET_HEADERS = ["mtd_usd", "budget_usd", "burn_usd_per_day", "forecast_usd", "forecast_vs_budget"]


def _budget_columns(book: Any, today: dt.date, agent: str | None) -> tuple[list[str], dict[Any, list[str]]] | None:
    """Budget columns per agent, or None when no agent has a monthly-budget (plain report)."""
    from attrlint.ledger.reports.budget import budgets, money, percent

    try:
        config = _config()
    except Fail as exc:  # the plain report does not need the configuration
        click.echo(f"{exc.message} (budget columns left out)", err=True)
        return None
    if not any(a.monthly_budget is not None for a in config.agents.values()):
        return None
    rows = [b for b in budgets(config, book, today) if agent is None or b.agent == agent]
    return _BUDGET_HEADERS, {b.agent: [money(b.month_to_date), money(b.budget), money(b.burn_per_day),
                                       money(b.forecast), percent(b.forecast_share)] for b in rows}


@ledger.command()
@ledger_option
@today_option()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True)
def budget(url: str | None, today: dt.date, fmt: str) -> None:
    """Month-to-date spend against each agent's monthly-budget; exit 1 when an agent is
    forecast over budget (linear forecast: spend so far / days elapsed x days in month)."""
    from attrlint.ledger.reports.budget import budgets, money, percent

    config = _config()
    if not any(a.monthly_budget is not None for a in config.agents.values()):
        raise Fail("no agent has a monthly-budget; add `monthly-budget = USD` to "
                    "[tool.attrlint.agents.NAME]")
    book = open_ledger(url)
    try:
        rows = budgets(config, book, today)
    finally:
        book.close()
    table = [(b.agent, money(b.month_to_date), money(b.budget), money(b.burn_per_day), money(b.forecast),
              percent(b.forecast_share), "OVER" if b.over else ("" if b.budget is None else "ok")) for b in rows]
    title = f"Budgets, {today:%B %Y} to {today} (day {today.day})"
    click.echo(render_table(["agent", *_BUDGET_HEADERS, "status"], table, fmt, title))
    over = [b.agent for b in rows if b.over]
    if over:
        if fmt in ("table", "markdown"):
            click.echo(f"\nforecast over budget: {', '.join(over)}")
        sys.exit(1)


def _write_html(book: Any, path: str, today: dt.date, since: str | None, until: str | None) -> None:
    from attrlint.ledger.reports.html import render_html

    text = render_html(book, _config(), today=today, since=_date(since, "--since"), until=_date(until, "--until"))
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Fail(f"{path}: cannot write the HTML report: {exc.strerror}") from None


# -- spill and integrity ------------------------------------------------------------------------------

@ledger.command()
@ledger_option
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop after this many seconds (the rest stays "
              "for the next replay).")
def replay(url: str | None, timeout: float | None) -> None:
    """Write the rows waiting in this ledger's spill files (kept while the database was down)
    now. Files a running process still writes are left to it. Exit 1 when rows remain in spill
    files or damaged spill lines were set aside."""
    book = open_ledger(url, create=True)  # rows waiting for a database never created are written to it
    try:
        before = book.pending_spill()
        stats = book.replay(timeout)
        after = book.pending_spill()
    finally:
        book.close()
    click.echo(f"replayed {stats.replayed} row(s) from {len(before.files)} spill file(s) in {before.directory}"
               + (f" ({stats.duplicates} already in the ledger)" if stats.duplicates else "")
               + (f"; {stats.quarantined} quarantined (see `attrlint ledger check`)" if stats.quarantined else ""))
    problems = 0
    if stats.damaged:
        click.echo(f"attrlint: warning: {stats.damaged} damaged spill line(s) (torn or corrupt writes) could not be "
                   f"read; set aside in {before.directory}/damaged-*.txt", err=True)
        problems += 1
    if after.files:
        click.echo(f"attrlint: warning: {len(after.files)} spill file(s) ({after.entries} row(s)) remain: a running "
                   "process still holds them, or the time ran out; run `attrlint ledger replay` again later",
                   err=True)
        problems += 1
    sys.exit(1 if problems else 0)


@ledger.command()
@ledger_option
@click.option("--quick", is_flag=True, help="SQLite `quick_check` (structure only) instead of the full "
              "`integrity_check`.")
def check(url: str | None, quick: bool) -> None:
    """Check the ledger: the database's integrity (SQLite `integrity_check`), rows waiting in
    spill files, damaged spill lines, quarantined rows. Exit 0 when sound, 1 when something
    needs action, 2 when the ledger cannot be reached."""
    from attrlint.ledger import Ledger, LedgerError

    try:
        book = Ledger(url)
    except LedgerError as exc:
        raise Fail(str(exc)) from None
    try:
        problems = book.check(quick=quick)
        status = book.pending_spill()
        quarantined = book.quarantined() if not problems else []
    finally:
        book.close()
    found = 0
    name = book.url if book.url.startswith("sqlite") else repr(book)
    for problem in problems:
        click.echo(f"{name}: damaged: {problem}")
        found += 1
    if problems:
        click.echo(f"{name}: restore the file from a backup, or salvage its rows with `sqlite3 FILE .recover`")
    if status.files:
        click.echo(f"{status.directory}: {status.entries} row(s) in {len(status.files)} spill file(s) not yet in the "
                   "ledger: run `attrlint ledger replay`")
        found += 1
    for path in status.damaged_files:
        click.echo(f"{path}: damaged spill lines set aside (torn or corrupt writes); their rows were not replayed")
        found += 1
    if quarantined:
        reasons: dict[str, int] = {}
        for entry in quarantined:
            reasons[entry.reason] = reasons.get(entry.reason, 0) + 1
        click.echo(f"{len(quarantined)} row(s) quarantined (refused by the database; kept in attrlint_quarantine, "
                   "left out of every total):")
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            click.echo(f"  {count:>6}  {reason}")
    if not found:
        click.echo("ledger sound" + (f"; {len(quarantined)} quarantined row(s)" if quarantined else ""), err=True)
    sys.exit(1 if found else 0)

"""What every command shares: the one error style (one line, exit 2), the `--ledger` and
`--today` options, configuration loading, and table rendering."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class Fail(click.ClickException):
    """A usage, configuration or data error: printed as one line, `attrlint: error: ...`, exit 2."""

    exit_code = EXIT_ERROR

    def format_message(self) -> str:
        return self.message

    def show(self, file: Any = None) -> None:
        text = self.message if self.message.startswith("attrlint: ") else f"attrlint: error: {self.message}"
        click.echo(text, err=True)


def use_colour(stream: Any) -> bool:
    """ANSI colours: FORCE_COLOR (set, not "0") forces them, NO_COLOR (set, not empty) turns
    them off, else only on a terminal that is not `dumb`."""
    import os

    force = os.environ.get("FORCE_COLOR")
    if force and force.strip().lower() not in ("0", "false", "no"):
        return True
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


ledger_option = click.option(
    "--ledger", "url", envvar="ATTRLINT_LEDGER_URL", metavar="URL",
    help="sqlite:///PATH or postgresql://... (default: ATTRLINT_LEDGER_URL, else .attrlint/ledger.db)")


def today_option(help_text: str = "Treat this date (YYYY-MM-DD, UTC) as today.") -> Any:
    return click.option("--today", "today", callback=_today_callback, metavar="YYYY-MM-DD", help=help_text)


def _today_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    from attrlint.core.dates import parse_date, today_utc

    if value is None:
        return today_utc()
    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def load_config(config_path: str | Path | None = None) -> Any:
    """`--config FILE`, else `ATTRLINT_CONFIG`, else the nearest pyproject.toml; a bad file is a `Fail`."""
    from attrlint.core.config import ConfigError, config_from_env_or_cwd
    from attrlint.core.config import load_config as load

    try:
        return load(Path(config_path)) if config_path else config_from_env_or_cwd()
    except ConfigError as exc:
        raise Fail(str(exc)) from None


def open_ledger(url: str | None, config: Any = None, *, create: bool = False) -> Any:
    """The existing ledger at `url`, opened and checked, priced with the configuration's
    overrides. The commands that read (or reprice) what was recorded call this without
    `create`: a SQLite ledger that does not exist is an error, never a new empty file or
    folder. Commands that record (`ledger import-batch`) pass `create=True`."""
    from attrlint.ledger import Ledger, LedgerError
    from attrlint.ledger.pricing import Pricer

    try:
        ledger = Ledger(url, pricer=Pricer.configured(config) if config is not None else None)
    except LedgerError as exc:  # a malformed URL: named, its password redacted
        raise Fail(str(exc)) from None
    sqlite_path = _sqlite_path(ledger.url)
    if sqlite_path is not None and not create and not sqlite_path.is_file():
        where = "set by --ledger" if url else ("from ATTRLINT_LEDGER_URL" if os.environ.get("ATTRLINT_LEDGER_URL")
                                               else "the default, .attrlint/ledger.db in the current directory")
        waiting = ledger.pending_spill()
        if waiting.files:  # recorded while the database could not be created: not lost
            raise Fail(f"no ledger at {sqlite_path} ({where}) yet: {waiting.entries} row(s) recorded for it wait in "
                       f"spill files in {waiting.directory}; run `attrlint ledger replay` to write them")
        raise Fail(f"no ledger at {sqlite_path} ({where}): nothing has been recorded there; pass the ledger the "
                   "runtime records to with --ledger or ATTRLINT_LEDGER_URL")
    try:
        ledger.open()
        return ledger
    except LedgerError as exc:
        raise Fail(str(exc)) from None
    except Exception as exc:
        raise Fail(database_error(ledger.url, exc)) from exc


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite://"):
        return None
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url[len("sqlite://"):]
    return Path(path) if path else None


def database_error(url: str, exc: BaseException) -> str:
    """One line for a database error: the ledger (password redacted), what failed, what to do."""
    from attrlint.core.redact import redact_url

    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return (f"ledger {redact_url(url)}: {type(exc).__name__}: {first}; check --ledger / ATTRLINT_LEDGER_URL "
            "and that the database is reachable (--verbose shows the traceback)")


verbose_option = click.option("--verbose", "-v", is_flag=True, help="Show the traceback of a database error.")


class LedgerCommand(click.Command):
    """A command that reads the ledger: a database error is one line and exit 2 (the
    traceback with --verbose), never a traceback and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - a database or driver error
            verbose = ctx.params.get("verbose") or (ctx.parent is not None and ctx.parent.params.get("verbose"))
            if verbose:
                import traceback

                traceback.print_exc()
            from attrlint.ledger import LedgerError

            if isinstance(exc, LedgerError):  # already names the ledger and what failed
                raise Fail(f"{str(exc).strip().splitlines()[0]}{'' if verbose else ' (--verbose shows the traceback)'}") \
                    from None
            url = ctx.params.get("url") or os.environ.get("ATTRLINT_LEDGER_URL") or "(default)"
            raise Fail(database_error(str(url), exc)) from None


def ledger_notes(book: Any) -> list[str]:
    """Warnings a report over `book` owes its reader: rows still waiting in spill files (not
    in the totals yet), rows the database refused (quarantined, left out)."""
    notes = []
    try:
        status = book.pending_spill()
        if status.files:
            notes.append(f"attrlint: warning: {status.entries} row(s) wait in {len(status.files)} spill file(s) in "
                         f"{status.directory} and are not in these figures; run `attrlint ledger replay`")
        quarantined = book.quarantine_count()
        if quarantined:
            notes.append(f"attrlint: warning: {quarantined} row(s) are quarantined (refused by the database) and not "
                         "in these figures; `attrlint ledger check` lists why")
    except Exception as exc:  # noqa: BLE001 - the report itself succeeded
        notes.append(f"attrlint: warning: could not check for spill files or quarantined rows: {exc}")
    return notes


# OWASP CSV injection: a cell a spreadsheet would evaluate starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe (OWASP); numbers
    and other values unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_line(values: Sequence[Any]) -> str:
    """One CSV record, without its line end. A value holding a carriage return or a newline is
    quoted (the csv module quotes only the characters of its own line terminator)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()[:-2]


def render_table(headers: Sequence[str], rows: list[Sequence[Any]], fmt: str, title: str = "") -> str:
    """Rows as an aligned text table (numbers right-aligned), CSV, JSON or Markdown."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    if fmt == "json":
        return json.dumps([dict(zip(headers, row)) for row in cells], indent=2)
    if fmt == "csv":
        return "\n".join([csv_line(headers)] + [csv_line([c if _is_number(c) else neutralise_formula(c) for c in row])
                                                for row in cells])
    if fmt == "markdown":
        numeric = [all(_is_number(r[i]) for r in cells if r[i]) and any(r[i] for r in cells)
                   for i in range(len(headers))]
        lines = [f"**{title}**", ""] if title else []
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in cells if r[i]) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except InvalidOperation:
        return False

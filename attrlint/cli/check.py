"""`attrlint check` and `attrlint fix`.

Exit status, everywhere: 0 nothing to report, 1 findings, 2 attrlint could not check (a
usage or configuration error, a path that does not exist, a file it could not read, one
that timed out or crashed its worker). `--exit-zero` makes 1 and 2 exit 0, never silently:
the errors are still printed.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from attrlint.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Fail,
    today_option,
    use_colour,
)
from attrlint.core.config import ConfigError
from attrlint.lint.formats import FORMATS
from attrlint.lint.suppression import Options

MAX_FIX_PASSES = 10  # a fix may make another possible; stop when a pass changes nothing


def _codes(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    """Rule selectors from the command line; an unknown one is an error, never a silent no-op."""
    from attrlint.lint.rules import all_rules
    from attrlint.lint.suppression import ALL, unknown_selectors

    codes = []
    for value in values:
        for code in value.split(","):
            code = code.strip().upper()
            if not code:
                continue
            if code != ALL and not (code.startswith("ATR") and code[3:].isdigit() or code == "ATR"):
                raise Fail(f"{option} {code}: not a rule code or prefix (like ATR001, ATR1 or ALL); "
                           "`attrlint rules` lists them")
            codes.append(code)
    for code in unknown_selectors(codes, all_rules()):
        raise Fail(f"{option} {code}: matches no rule; `attrlint rules` lists them")
    return tuple(codes)


def check_options(function):
    options = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True),
                     help="Read the configuration from this file instead of the nearest "
                          ".attrlint.toml, attrlint.toml or pyproject.toml."),
        click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the default "
                                                     "set); ALL for every rule."),
        click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable."),
        click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable in addition."),
        click.option("--output-format", "--format", "output_format", type=click.Choice(FORMATS),
                     default="text", show_default=True, help="Output format (`--format` is an alias)."),
        click.option("--output-file", "--output", "-o", "output_file", type=click.Path(dir_okay=False),
                     help="Write the report to this file instead of standard output."),
        click.option("--statistics", is_flag=True, help="Show counts per rule instead of each finding."),
        click.option("--exit-zero", "-e", is_flag=True,
                     help="Exit 0 even when there are findings or files that could not be checked."),
        click.option("--exit-non-zero-on-fix", is_flag=True,
                     help="With --fix, exit 1 when something was fixed, even if nothing remains."),
        click.option("--strict", is_flag=True, default=None,
                     help="Turn on the rules that are off by default (not ATR900); ATR008 is on by default since 0.2."),
        click.option("--stdin-filename", help="Read the source from standard input and report it under this name."),
        click.option("--diff", is_flag=True,
                     help="Print the fixes as a diff instead of writing them; exit 1 when there is "
                          "something to fix (implies --fix, writes nothing)."),
        click.option("--show-fixes", is_flag=True, help="List the fixes applied (with --fix) or available."),
        click.option("--unsafe-fixes/--no-unsafe-fixes", default=False,
                     help="Also apply (and count as fixable) fixes that may change behaviour."),
        click.option("--add-noqa", is_flag=True,
                     help="Add `# noqa: CODE` to every line with a finding, instead of reporting it."),
        click.option("--force-exclude", is_flag=True,
                     help="Apply excludes to paths given on the command line and to --stdin-filename "
                          "(for pre-commit and editors)."),
        click.option("--check-data-files/--no-check-data-files", "check_data_files", default=None,
                     help="Also look for committed keys (ATR101) in git-tracked .env*, YAML, JSON, TOML and "
                          "INI files and in notebook outputs (default: the `check-data-files` setting, on)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache."),
        click.option("--cache-dir", type=click.Path(file_okay=False),
                     help="Cache directory (default: $ATTRLINT_CACHE_DIR, else .attrlint_cache)."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: one per core)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                     help="Seconds one file may take in a worker; a file that takes longer is not checked "
                          "and the run exits 2."),
        today_option("Treat this date (YYYY-MM-DD, UTC) as today, for key expiry."),
        click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
                     help="Suppress findings recorded in this baseline (default: .attrlint-baseline.json if present)."),
        click.option("--no-baseline", is_flag=True, help="Report every finding, even those in a baseline file."),
        click.option("--new-since", help="Report only findings on lines added or changed since this git ref, "
                                         "and every baseline entry or configuration change since it that "
                                         "relaxes a check (ATR201, ATR202)."),
        click.option("--allow-policy-changes", is_flag=True,
                     help="With --new-since: show baseline and configuration relaxations as notes on stderr "
                          "instead of failing on them."),
        click.option("--show-settings", is_flag=True,
                     help="Print the configuration that applies to the first path, with where each "
                          "value comes from, and exit."),
        click.option("--show-files", is_flag=True, help="Print the files that would be checked, and exit."),
        click.option("--watch", "-w", is_flag=True, help="Check again whenever a file changes (uses the cache)."),
        click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary."),
        click.option("--silent", "-s", is_flag=True, help="Print nothing; only the exit status tells."),
        click.option("--verbose", "-v", is_flag=True, help="Also print the configuration files, counts and timings."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@check_options
@click.option("--fix/--no-fix", default=False, help="Apply safe fixes, then report what remains (as a fresh check would).")
def check(**kwargs: Any) -> None:
    """Check PATHS (default: the project) for unattributed LLM calls and key problems.

    Exit status: 0 nothing found, 1 findings, 2 attrlint could not check (usage or
    configuration error, missing path, unreadable file, timeout, crash).
    """
    sys.exit(_main(kwargs))


@click.command()
@check_options
def fix(**kwargs: Any) -> None:
    """Apply safe fixes (same as `attrlint check --fix`)."""
    sys.exit(_main({**kwargs, "fix": True}))


@dataclass
class Request:
    """One `check` invocation, its options read once."""

    paths: list[str]
    options: Options
    config_file: Path | None
    output_format: str
    output_file: str | None
    statistics: bool
    exit_zero: bool
    exit_non_zero_on_fix: bool
    stdin_filename: str | None
    fix: bool
    diff: bool
    show_fixes: bool
    unsafe_fixes: bool
    add_noqa: bool
    force_exclude: bool
    use_cache: bool
    cache_dir: str | None
    jobs: int | None
    timeout: float
    today: Any
    baseline_file: str | None
    no_baseline: bool
    new_since: str | None
    allow_policy_changes: bool
    quiet: bool
    silent: bool
    verbose: bool
    notes: list[str] = field(default_factory=list)

    @property
    def stdin(self) -> bool:
        return self.paths == ["-"] or (not self.paths and self.stdin_filename is not None)

    def say(self, message: str) -> None:
        """A line on stderr (errors and warnings), unless --silent."""
        if not self.silent:
            click.echo(message, err=True)

    def debug(self, message: str) -> None:
        if self.verbose and not self.silent:
            click.echo(f"attrlint: {message}", err=True)


def _main(kw: dict[str, Any]) -> int:
    try:
        request = _request(kw)
        if kw["show_settings"]:
            from attrlint.cli.settings import show_settings

            click.echo(show_settings(request.paths[0] if request.paths and request.paths != ["-"] else
                                     (request.stdin_filename or "."), request.options, request.config_file), nl=False)
            return EXIT_CLEAN
        if kw["watch"]:
            if request.stdin or request.fix or request.diff or request.add_noqa:
                raise Fail("--watch checks files as they change; it does not combine with standard input, "
                           "--fix, --diff or --add-noqa")
            from attrlint.cli.watch import watch

            return watch(request, lambda: _run(request, show_files=False))
        return _run(request, show_files=kw["show_files"])
    except ConfigError as exc:
        click.echo(f"attrlint: error: {exc}", err=True)
        return EXIT_ERROR
    except click.ClickException:
        raise
    except BrokenPipeError:
        raise  # the reader went away (`attrlint check | head`): main() ends quietly
    except Exception as exc:  # noqa: BLE001 - the tool itself failed: say so, exit 2
        import traceback

        click.echo(f"attrlint: internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("ATTRLINT_DEBUG") or kw.get("verbose"):
            traceback.print_exc()
        else:
            click.echo("Run with --verbose (or ATTRLINT_DEBUG=1) for the traceback, and report it with the file "
                       "that caused it.", err=True)
        return EXIT_ERROR


def _request(kw: dict[str, Any]) -> Request:
    paths = list(kw["paths"])
    if "-" in paths and paths != ["-"]:
        raise Fail("`-` (standard input) cannot be combined with other paths")
    if kw["stdin_filename"] is not None and paths not in ([], ["-"]):
        raise Fail("--stdin-filename names the source read from standard input; drop the paths "
                   f"({' '.join(paths)}) or the option")
    if kw["add_noqa"] and (kw.get("fix") or kw["diff"]):
        raise Fail("--add-noqa does not combine with --fix or --diff: fix first, then add noqa to what remains")
    options = Options(strict=bool(kw["strict"]), select=_codes(kw["select"], "--select"),
                      ignore=_codes(kw["ignore"], "--ignore"),
                      extend_select=_codes(kw["extend_select"], "--extend-select"),
                      check_data_files=kw["check_data_files"])
    return Request(
        paths=paths, options=options, config_file=Path(kw["config_path"]) if kw["config_path"] else None,
        output_format=kw["output_format"], output_file=kw["output_file"], statistics=kw["statistics"],
        exit_zero=kw["exit_zero"], exit_non_zero_on_fix=kw["exit_non_zero_on_fix"],
        stdin_filename=kw["stdin_filename"], fix=bool(kw.get("fix")), diff=kw["diff"], show_fixes=kw["show_fixes"],
        unsafe_fixes=kw["unsafe_fixes"], add_noqa=kw["add_noqa"], force_exclude=kw["force_exclude"],
        use_cache=not kw["no_cache"], cache_dir=kw["cache_dir"], jobs=kw["jobs"], timeout=kw["timeout"],
        today=kw["today"], baseline_file=kw["baseline_file"], no_baseline=kw["no_baseline"],
        new_since=kw["new_since"], allow_policy_changes=kw["allow_policy_changes"], quiet=kw["quiet"] or kw["silent"], silent=kw["silent"], verbose=kw["verbose"],
    )


# -- one run ---------------------------------------------------------------------------------

def _run(request: Request, *, show_files: bool) -> int:
    if request.stdin:
        return _run_stdin(request)
    from attrlint.lint.runner import run

    started = time.perf_counter()
    paths = request.paths or ["."]

    def check_all():
        return run(paths, options=request.options, config_path=request.config_file,
                   force_exclude=request.force_exclude, jobs=request.jobs, today=request.today,
                   use_cache=request.use_cache, cache_dir=request.cache_dir, timeout=request.timeout,
                   progress=not request.silent, warn=request.say)

    if show_files:
        return _show_files(request, paths)
    result = check_all()
    for config in result.configs:
        request.debug(f"configuration: {config.path or 'defaults (no configuration file found)'}")
    request.debug(f"checked {result.files} files ({result.parsed} parsed) in {time.perf_counter() - started:.2f} s")
    if request.diff:
        return _show_diff(request, result)
    if request.add_noqa:
        return _add_noqa(request, result)
    fixed: Counter[tuple[str, str, str]] = Counter()
    if request.fix:
        result, fixed = _fix_files(request, result, check_all)
    return _report(request, result, fixed=fixed, files_mode=True)


def _run_stdin(request: Request) -> int:
    from attrlint.lint.runner import ConfigResolver, check_stdin

    name = request.stdin_filename or "-"
    data = sys.stdin.buffer.read()
    if request.force_exclude and request.stdin_filename:
        config = ConfigResolver(request.config_file).for_path(name)
        if config.is_excluded(name, is_dir=False):
            request.debug(f"{name} is excluded (--force-exclude): not checked")
            if request.fix:
                sys.stdout.buffer.write(data)  # an editor replaces the buffer with this: unchanged
            return EXIT_CLEAN
    if request.add_noqa:
        raise Fail("--add-noqa edits files; it does not read standard input")
    result = check_stdin(data, name, options=request.options, config_path=request.config_file)
    if not (request.fix or request.diff):
        return _report(request, result, fixed=Counter(), files_mode=False)
    from attrlint.lint.fixes import apply_fix_list, unified_diff

    source = data.decode("utf-8", "surrogateescape")
    fixed_source, applied = apply_fix_list(source, result.findings, unsafe=request.unsafe_fixes)
    if request.diff:
        sys.stdout.write(unified_diff(name, source, fixed_source))
        return EXIT_FINDINGS if fixed_source != source and not request.exit_zero else EXIT_CLEAN
    sys.stdout.write(fixed_source)  # the fixed source on stdout; what remains is reported on stderr
    remaining = check_stdin(fixed_source.encode("utf-8", "surrogateescape"), name, options=request.options,
                            config_path=request.config_file)
    fixed = Counter((name, f.code, f.name) for f in applied)
    return _report(request, remaining, fixed=fixed, files_mode=False, stream_err=True)


def _show_files(request: Request, paths: list[str]) -> int:
    from attrlint.lint.discovery import Excluder, iter_data_files, iter_files
    from attrlint.lint.runner import ConfigResolver, data_files_wanted

    resolver = ConfigResolver(request.config_file)
    errors = []
    found = []
    for given in paths:
        root_config = resolver.for_path(given)
        excluder = Excluder(root_config)
        found += iter_files([given], excluder, force_exclude=request.force_exclude, on_error=errors.append)
        if data_files_wanted(request.options, root_config):
            found += [path for path in iter_data_files([given], excluder, force_exclude=request.force_exclude,
                                                       on_warning=lambda message: None)
                      if data_files_wanted(request.options, resolver.for_file(path))]
    for message in errors:
        request.say(f"attrlint: error: {message}")
    for path in sorted(set(found)):
        click.echo(path)
    return EXIT_ERROR if errors and not request.exit_zero else EXIT_CLEAN


# -- filters, output and the exit status ------------------------------------------------------

def _filter(request: Request, findings: list, files_mode: bool, configs: list) -> tuple[list, int, list[str]]:
    """The baseline and --new-since filters, then with --new-since the policy changes, which
    neither filter hides: (findings kept, suppressed by baseline, stale entries)."""
    suppressed, stale = 0, []
    baseline_path = None
    if files_mode and not request.no_baseline:
        baseline_path = request.baseline_file or (
            ".attrlint-baseline.json" if os.path.exists(".attrlint-baseline.json") else None)
    if baseline_path:
        from attrlint.lint.baseline import apply_baseline

        findings, suppressed, stale = apply_baseline(findings, baseline_path)
        request.debug(f"baseline {baseline_path}: {suppressed} findings suppressed")
    if request.new_since:
        findings = _new_since(findings, request.new_since)
        changes = _policy_changes(request, configs, baseline_path)
        if changes:
            findings = sorted([*findings, *changes], key=lambda f: f.sort_key())
    return findings, suppressed, stale


def _new_since(findings: list, ref: str) -> list:
    """`--new-since REF`: only findings on lines added or changed since REF."""
    from attrlint.lint.gitdiff import changed_lines, filter_new

    try:
        return filter_new(findings, changed_lines(ref))
    except RuntimeError as exc:
        raise Fail(f"--new-since {ref}: {exc}") from None


def _policy_changes(request: Request, configs: list, baseline_path: str | None) -> list:
    """The baseline entries and configuration relaxations since --new-since's ref, as findings;
    printed as notes instead (and no findings) with --allow-policy-changes."""
    from attrlint.lint.policy import PolicyError, policy_findings

    ref = request.new_since
    try:
        changes = policy_findings(ref, configs=configs, baseline=baseline_path, options=request.options)
    except (RuntimeError, PolicyError) as exc:
        if not request.allow_policy_changes:
            raise Fail(f"--new-since {ref}: cannot compare the policy: {exc}; fix the file, or pass "
                       "--allow-policy-changes to skip the comparison") from None
        request.say(f"attrlint: warning: --new-since {ref}: cannot compare the policy: {exc}")
        return []
    if not request.allow_policy_changes:
        return changes
    for change in changes:
        request.say(f"attrlint: policy change allowed by --allow-policy-changes: {change.path}:{change.line}: "
                    f"{change.code} {change.message}")
    return []


def _render(request: Request, result, findings: list, *, suppressed: int, stale: list[str], colour: bool) -> str:
    from attrlint.lint import formats as output

    fmt = request.output_format
    if fmt == "text":
        if request.statistics:
            return output.format_statistics(findings)
        return output.format_text(findings, colour=colour, unsafe=request.unsafe_fixes)
    if fmt == "json":
        return output.format_json(findings, files=result.files, extra={
            "suppressed_by_baseline": suppressed, "stale_baseline_entries": len(stale),
            "errors": list(result.errors)})
    if fmt == "json-lines":
        return output.format_json_lines(findings)
    if fmt == "sarif":
        from attrlint.lint.rules import all_rules

        return output.format_sarif(findings, all_rules())
    if fmt == "github":
        return output.format_github(findings)
    if fmt == "gitlab":
        return output.format_gitlab(findings)
    if fmt == "rdjson":
        return output.format_rdjson(findings, line_text=_line_reader(), unsafe=request.unsafe_fixes)
    return output.format_junit(findings, [r.path for r in result.results if r.warning is None])


def _line_reader():
    cache: dict[str, list[str] | None] = {}

    def line_text(path: str, line: int) -> str | None:
        if path not in cache:
            try:
                cache[path] = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                cache[path] = None
        lines = cache[path]
        return lines[line - 1] if lines and 0 < line <= len(lines) else None

    return line_text


def _report(request: Request, result, *, fixed: Counter, files_mode: bool, stream_err: bool = False) -> int:
    from attrlint.lint import formats as output

    findings, suppressed, stale = _filter(request, result.findings, files_mode, result.configs)
    errors = list(result.errors)
    to_file = request.output_file is not None
    stream = sys.stderr if stream_err else sys.stdout
    colour = request.output_format == "text" and not to_file and use_colour(stream)
    text = _render(request, result, findings, suppressed=suppressed, stale=stale, colour=colour)
    if to_file:
        try:
            Path(request.output_file).write_text(text, encoding="utf-8")  # type: ignore[arg-type]
        except OSError as exc:
            raise Fail(f"{request.output_file}: cannot write the report: {exc.strerror}") from None
    elif not request.silent:
        stream.write(text)
        stream.flush()
    summary_err = to_file or stream_err or request.output_format != "text"
    if fixed and not request.silent:
        total = sum(fixed.values())
        click.echo(_fixes_text(fixed) if request.show_fixes else f"Fixed {total} finding{'s' if total != 1 else ''}.",
                   err=True)
    elif request.show_fixes and not request.fix and not request.silent:
        available = Counter((f.path, f.code, f.name) for f in findings if f.has_fix(unsafe=request.unsafe_fixes))
        if available:
            click.echo(_fixes_text(available, would=True), err=summary_err)
    nothing_found = result.files == 0 and not errors and files_mode
    if nothing_found:
        request.say("attrlint: warning: no Python files found under "
                    f"{' '.join(request.paths or ['.'])} (check the paths and the exclude settings)")
    elif request.output_format == "text" and not request.quiet:
        line = output.summary_line(findings, result.files, suppressed=suppressed, errors=len(errors),
                                   unsafe=request.unsafe_fixes)
        if request.statistics:
            line += f" {result.parsed} of {result.files} files passed the prefilter and were parsed."
        click.echo(line, err=summary_err)
    elif errors and not request.silent:
        request.say(f"attrlint: could not check {len(errors)} file(s) or path(s); see the errors above")
    for entry in stale:
        request.say(f"attrlint: stale baseline entry: {entry} (run `attrlint baseline --update`)")
    if request.exit_zero:
        return EXIT_CLEAN
    if errors:
        return EXIT_ERROR
    if findings or (fixed and request.exit_non_zero_on_fix):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _fixes_text(fixed: Counter, *, would: bool = False) -> str:
    total = sum(fixed.values())
    lines = [f"{'Would fix' if would else 'Fixed'} {total} finding{'s' if total != 1 else ''}:"]
    by_path: dict[str, list[tuple[str, str, int]]] = {}
    for (path, code, name), count in sorted(fixed.items()):
        by_path.setdefault(path, []).append((code, name, count))
    for path, items in by_path.items():
        lines.append(f"- {path}:")
        lines += [f"    {count} × {code} ({name})" for code, name, count in items]
    return "\n".join(lines)


# -- fixing -------------------------------------------------------------------------------------

def _fixable_by_path(findings, unsafe: bool) -> dict[str, list]:
    by_path: dict[str, list] = {}
    for finding in findings:
        if finding.has_fix(unsafe=unsafe) and finding.cell is None:
            by_path.setdefault(finding.path, []).append(finding)
    return by_path


def _show_diff(request: Request, result) -> int:
    """`--diff`: print what `--fix` would change; write nothing; exit 1 when there is a change."""
    from attrlint.lint.fixes import apply_fixes, unified_diff

    changed = False
    for path, items in sorted(_fixable_by_path(result.findings, request.unsafe_fixes).items()):
        with open(path, encoding="utf-8", newline="") as handle:
            before = handle.read()
        after, _ = apply_fixes(before, items, unsafe=request.unsafe_fixes)
        if after != before:
            changed = True
            sys.stdout.write(unified_diff(path, before, after))
    if result.errors and not request.exit_zero:
        return EXIT_ERROR
    return EXIT_FINDINGS if changed and not request.exit_zero else EXIT_CLEAN


def _fix_files(request: Request, result, check_all):
    """Apply the fixes, then check again, every phase included, until nothing more can be
    fixed: what `check --fix` reports is exactly what a fresh `check` would report afterwards."""
    from attrlint.lint.fixes import apply_fix_list

    fixed: Counter[tuple[str, str, str]] = Counter()
    for _ in range(MAX_FIX_PASSES):
        applied = 0
        for path, items in sorted(_fixable_by_path(result.findings, request.unsafe_fixes).items()):
            with open(path, encoding="utf-8", newline="") as handle:
                before = handle.read()
            after, done = apply_fix_list(before, items, unsafe=request.unsafe_fixes)
            if after != before:
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(after)
                applied += len(done)
                fixed.update((path, f.code, f.name) for f in done)
        if not applied:
            break
        result = check_all()
    return result, fixed


def _add_noqa(request: Request, result) -> int:
    """`--add-noqa`: a `# noqa: CODE` on each line with a finding, merged into one already there."""
    from attrlint.lint.noqa import add_noqa

    by_path: dict[str, list] = {}
    for finding in result.findings:
        if finding.cell is None and finding.path.endswith((".py", ".pyi")) and os.path.isfile(finding.path):
            by_path.setdefault(finding.path, []).append(finding)
    added = 0
    for path, items in sorted(by_path.items()):
        with open(path, encoding="utf-8", newline="") as handle:
            before = handle.read()
        after, count, skipped = add_noqa(before, items)
        for line in skipped:
            request.say(f"attrlint: warning: {path}:{line}: cannot add a noqa comment (the line ends inside a "
                        "string or with a backslash); suppress it in per-file-ignores or move the call")
        if count:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(after)
            added += count
    if not request.silent:
        click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''}.", err=True)
    if result.errors and not request.exit_zero:
        return EXIT_ERROR
    return EXIT_CLEAN

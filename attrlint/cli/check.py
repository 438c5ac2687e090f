"""`attrlint check` and `attrlint fix`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from attrlint.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, today_option
from attrlint.core.config import ConfigError
from attrlint.lint.suppression import Options

MAX_FIX_PASSES = 10  # a fix may make another possible; stop when a pass changes nothing


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    codes = []
    for value in values:
        for code in value.split(","):
            code = code.strip().upper()
            if not code:
                continue
            if not code.startswith("ATR"):
                raise click.BadParameter(f"{code!r} is not a rule code or prefix (like ATR001 or ATR1)")
            codes.append(code)
    return tuple(codes)


def check_options(function):
    options = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True),
                     help="Read [tool.attrlint] from this file instead of the nearest pyproject.toml."),
        click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the default set)."),
        click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable."),
        click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable in addition."),
        click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif", "github", "junit"]),
                     default="text", show_default=True, help="Output format."),
        click.option("--output", "output_file", type=click.Path(dir_okay=False),
                     help="Write the report to this file instead of standard output."),
        click.option("--statistics", is_flag=True, help="Show counts per rule instead of each finding."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings."),
        click.option("--strict", is_flag=True, default=None,
                     help="Also report attribution that cannot be verified statically (ATR008)."),
        click.option("--stdin-filename", help="The file name to report for source read from stdin (path `-`)."),
        click.option("--diff", is_flag=True,
                     help="Print the fixes as a diff instead of writing them; exit 1 when there is "
                          "something to fix (implies --fix, writes nothing)."),
        click.option("--force-exclude", is_flag=True,
                     help="Apply excludes to paths given on the command line too (for pre-commit)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache."),
        click.option("--cache-dir", type=click.Path(file_okay=False),
                     help="Cache directory (default: $ATTRLINT_CACHE_DIR, else .attrlint_cache next to the "
                          "configuration)."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: one per core)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                     help="Seconds one file may take in a worker; a file that takes longer is skipped with a warning."),
        today_option("Treat this date (YYYY-MM-DD, UTC) as today, for key expiry."),
        click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
                     help="Suppress findings recorded in this baseline (default: .attrlint-baseline.json if present)."),
        click.option("--new-since", help="Report only findings on lines added or changed since this git ref, "
                                         "and every baseline entry or configuration change since it that "
                                         "relaxes a check (ATR201, ATR202)."),
        click.option("--allow-policy-changes", is_flag=True,
                     help="With --new-since: show baseline and configuration relaxations as notes on stderr "
                          "instead of failing on them."),
        click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@check_options
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what remains (as a fresh check would).")
def check(**kwargs) -> None:
    """Check PATHS (default: the project) for unattributed LLM calls and key problems.

    Exit status: 0 no findings, 1 findings, 2 usage, configuration or internal error.
    """
    sys.exit(_run(**kwargs))


@click.command()
@check_options
def fix(**kwargs) -> None:
    """Apply safe fixes (same as `attrlint check --fix`)."""
    sys.exit(_run(fix=True, **kwargs))


def _run(**kw) -> int:
    try:
        return _run_checked(**kw)
    except ConfigError as exc:
        click.echo(f"attrlint: error: {exc}", err=True)
        return EXIT_ERROR
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001 - the tool itself failed: say so, exit 2
        import traceback

        click.echo(f"attrlint: internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("ATTRLINT_DEBUG"):
            traceback.print_exc()
        else:
            click.echo("Set ATTRLINT_DEBUG=1 for the traceback, and report it with the file that caused it.", err=True)
        return EXIT_ERROR


def _run_checked(*, paths, config_path, select, ignore, extend_select, output_format, output_file,
                 statistics, exit_zero, strict, stdin_filename, diff, force_exclude, no_cache,
                 cache_dir, jobs, timeout, today, baseline_file, new_since, allow_policy_changes, quiet,
                 fix=False) -> int:
    from attrlint.lint import formats as output
    from attrlint.lint.rules import all_rules
    from attrlint.lint.runner import check_stdin, run

    options = Options(strict=bool(strict), select=_codes(select), ignore=_codes(ignore),
                      extend_select=_codes(extend_select))
    config_file = Path(config_path) if config_path else None
    paths = list(paths) or ["."]
    if paths == ["-"]:
        name = stdin_filename or "-"
        data = sys.stdin.buffer.read()
        result = check_stdin(data, name, options=options, config_path=config_file)
        if fix or diff:
            return _fix_stdin(data, name, result, diff=diff, options=options, config_file=config_file,
                              exit_zero=exit_zero)
    else:
        if "-" in paths:
            raise click.UsageError("`-` (stdin) cannot be combined with other paths")

        def check_all():
            return run(paths, options=options, config_path=config_file, force_exclude=force_exclude,
                       jobs=jobs, today=today, use_cache=not no_cache, cache_dir=cache_dir,
                       timeout=timeout, progress=True)

        result = check_all()
        if diff:
            return _show_diff(result)
        if fix:
            result, fixed = _fix_files(result, check_all)
            if fixed:
                click.echo(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.", err=True)

    findings = result.findings
    suppressed = 0
    stale: list[str] = []
    baseline_path = baseline_file or (".attrlint-baseline.json" if os.path.exists(".attrlint-baseline.json") else None)
    if baseline_path and paths != ["-"]:
        from attrlint.lint.baseline import apply_baseline

        findings, suppressed, stale = apply_baseline(findings, baseline_path)
    if new_since:
        from attrlint.lint.gitdiff import changed_lines, filter_new

        try:
            findings = filter_new(findings, changed_lines(new_since))
        except RuntimeError as exc:
            click.echo(f"attrlint: error: {exc}", err=True)
            return EXIT_ERROR
        changes = _policy_changes(new_since, result.configs, baseline_path, options, allow=allow_policy_changes)
        if changes is None:
            return EXIT_ERROR
        findings = sorted([*findings, *changes], key=lambda f: f.sort_key())

    files = result.files
    if statistics and output_format == "text":
        text = output.format_statistics(findings)
    elif output_format == "text":
        text = output.format_text(findings)
    elif output_format == "json":
        text = output.format_json(findings, files=files,
                                  extra={"suppressed_by_baseline": suppressed, "stale_baseline_entries": len(stale)})
    elif output_format == "sarif":
        text = output.format_sarif(findings, all_rules())
    elif output_format == "github":
        text = output.format_github(findings)
    else:
        text = output.format_junit(findings, [r.path for r in result.results])
    if output_file:
        Path(output_file).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if output_format == "text" and not quiet:
        line = output.summary_line(findings, files, suppressed=suppressed)
        if statistics:
            parsed = result.parsed
            line += f" {parsed} of {files} files passed the prefilter and were parsed."
        if output_file:
            click.echo(line, err=True)
        else:
            click.echo(line)
        for entry in stale:
            click.echo(f"attrlint: stale baseline entry: {entry} (run `attrlint baseline --update`)", err=True)
    if findings and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _policy_changes(ref: str, configs, baseline_path: str | None, options: Options, *, allow: bool):
    """The baseline entries and configuration relaxations since `ref`, as findings; as notes on
    stderr (and no findings) when allowed; None when they cannot be worked out (exit 2)."""
    from attrlint.lint.policy import PolicyError, policy_findings

    try:
        changes = policy_findings(ref, configs=configs, baseline=baseline_path, options=options)
    except (RuntimeError, PolicyError) as exc:
        if allow:
            click.echo(f"attrlint: warning: cannot compare the policy with {ref}: {exc}", err=True)
            return []
        click.echo(f"attrlint: error: cannot compare the policy with {ref}: {exc}; fix the file, or pass "
                   "--allow-policy-changes to skip the comparison", err=True)
        return None
    if not allow:
        return changes
    for change in changes:
        click.echo(f"attrlint: policy change allowed by --allow-policy-changes: {change.path}:{change.line}: "
                   f"{change.code} {change.message}", err=True)
    return []


def _fixable_by_path(findings) -> dict[str, list]:
    by_path: dict[str, list] = {}
    for finding in findings:
        if finding.fix is not None and finding.cell is None:
            by_path.setdefault(finding.path, []).append(finding)
    return by_path


def _show_diff(result) -> int:
    """`--diff`: print what `--fix` would change; write nothing; exit 1 when there is a change."""
    from attrlint.lint.fixes import apply_fixes, unified_diff

    changed = False
    for path, items in sorted(_fixable_by_path(result.findings).items()):
        with open(path, encoding="utf-8", newline="") as handle:
            before = handle.read()
        after, _ = apply_fixes(before, items)
        if after != before:
            changed = True
            sys.stdout.write(unified_diff(path, before, after))
    return EXIT_FINDINGS if changed else EXIT_CLEAN


def _fix_files(result, check_all):
    """Apply the safe fixes, then check again, every phase included, until nothing more can be
    fixed: what `check --fix` reports is exactly what a fresh `check` would report afterwards."""
    from attrlint.lint.fixes import apply_fixes

    total = 0
    for _ in range(MAX_FIX_PASSES):
        applied = 0
        for path, items in sorted(_fixable_by_path(result.findings).items()):
            with open(path, encoding="utf-8", newline="") as handle:
                before = handle.read()
            after, count = apply_fixes(before, items)
            if after != before:
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(after)
                applied += count
        if not applied:
            break
        total += applied
        result = check_all()
    return result, total


def _fix_stdin(data: bytes, name: str, result, *, diff: bool, options: Options, config_file, exit_zero: bool) -> int:
    """Standard input: the fixed source (or its diff) on stdout; what remains on stderr."""
    from attrlint.lint import formats as output
    from attrlint.lint.fixes import apply_fixes, unified_diff
    from attrlint.lint.runner import check_stdin

    source = data.decode("utf-8", "surrogateescape")
    fixed, _ = apply_fixes(source, result.findings)
    if diff:
        sys.stdout.write(unified_diff(name, source, fixed))
        return EXIT_FINDINGS if fixed != source else EXIT_CLEAN
    sys.stdout.write(fixed)
    remaining = check_stdin(fixed.encode("utf-8", "surrogateescape"), name, options=options,
                            config_path=config_file).findings
    sys.stderr.write(output.format_text(remaining))
    return EXIT_FINDINGS if remaining and not exit_zero else EXIT_CLEAN

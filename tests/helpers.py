"""Test helpers: lint a snippet, run the CLI in a directory, build projects.

Fixture sources follow flake8-bugbear's style: the expected finding is written beside the
line it belongs to, as `# error: ATR001` (several codes separated by commas).
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from attrlint.cli import cli
from attrlint.core.config import Config, parse_config
from attrlint.lint.engine import Linter
from attrlint.lint.suppression import Options
from attrlint.lint.diagnostics import Finding

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

_EXPECT = re.compile(r"#\s*error:\s*(?P<codes>ATR\d{3}(?:\s*,\s*ATR\d{3})*)")


def lint(source: str, *, config: Config | dict | None = None, strict: bool = True,
         path: str = "snippet.py", **options: Any) -> list[Finding]:
    if isinstance(config, dict):
        config = parse_config(config)
    linter = Linter(config or Config(), Options(strict=strict, **options))
    return linter.lint_text(textwrap.dedent(source), path).findings


def codes(findings: Iterable[Finding]) -> list[str]:
    return [f.code for f in findings]


def expected_findings(source: str) -> set[tuple[int, str]]:
    expected = set()
    for number, line in enumerate(source.splitlines(), 1):
        match = _EXPECT.search(line)
        if match:
            for code in match.group("codes").split(","):
                expected.add((number, code.strip()))
    return expected


def assert_annotated(source: str, *, only: Iterable[str] | None = None, **kwargs: Any) -> list[Finding]:
    """The findings of `source` are exactly the `# error: CODE` annotations (line and code)."""
    source = textwrap.dedent(source)
    findings = lint(source, **kwargs)
    wanted = set(only) if only is not None else None
    got = {(f.line, f.code) for f in findings if wanted is None or f.code in wanted}
    expected = expected_findings(source)
    assert got == expected, "\n".join(
        [f"missing: {sorted(expected - got)}", f"unexpected: {sorted(got - expected)}"]
        + [f"  {f.line}:{f.column} {f.code} {f.message}" for f in findings]
    )
    return findings


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch):
    """Run `attrlint ARGS` in-process, in directory `cwd`."""

    def invoke(*args: str, cwd: Path | str | None = None, input: str | bytes | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)

    return invoke


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never write a result cache into the work tree; never read one from an earlier test."""
    monkeypatch.setenv("ATTRLINT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("ATTRLINT_CONFIG", raising=False)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for `python -m ...` subprocesses: this tree's attrlint first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env

"""Fixtures for the whole suite. The plain helpers they use are in the `support` package."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import CliResult
from support.source import config, make_tree

from attrlint.cli import cli
from attrlint.lint.engine import Linter
from attrlint.lint.runner import run
from attrlint.lint.suppression import Options

# The suite's own settings, which `isolated` leaves alone: where the result cache goes
# (set just below) and the optional resources some tests use.
SUITE_SETTINGS = {"ATTRLINT_CACHE_DIR", "ATTRLINT_TEST_POSTGRES_URL", "ATTRLINT_SDK_EXAMPLES"}


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never write a result cache into the work tree; never read one from an earlier test; keep
    the cache's key in the suite's own user cache directory, never the real one."""
    monkeypatch.setenv("ATTRLINT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    user_cache = tmp_path_factory.getbasetemp() / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    monkeypatch.setenv("LOCALAPPDATA", str(user_cache))
    monkeypatch.delenv("ATTRLINT_CONFIG", raising=False)


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The test runs in its own directory, with no attrlint setting leaking in from the environment,
    and leaves no SDK hook installed. The runtime and ledger tests always use it."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("ATTRLINT_") and name not in SUITE_SETTINGS:
            monkeypatch.delenv(name)
    yield tmp_path
    from attrlint.runtime import uninstall

    uninstall()


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


@pytest.fixture
def lint():
    """lint(source, strict=False) -> list of (code, line) for one module."""

    def _lint(source: str, *, strict: bool = False, select: tuple[str, ...] = (), path: str = "mod.py"):
        linter = Linter(config(), Options(strict=strict, select=select))
        result = linter.lint_text(textwrap.dedent(source), path)
        return [(f.code, f.line) for f in result.findings]

    return _lint


@pytest.fixture
def project(tmp_path, monkeypatch):
    """project({"pkg/a.py": src, ...}, pyproject="...") -> run over the tree; returns findings."""

    def _project(files: dict[str, str], *, pyproject: str = "", strict: bool = False):
        (tmp_path / "pyproject.toml").write_text("[tool.attrlint]\n" + textwrap.dedent(pyproject))
        for name, source in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        monkeypatch.chdir(tmp_path)
        result = run(["."], options=Options(strict=strict), jobs=1, warn=lambda m: None)
        return [(f.code, f.path.removeprefix("./"), f.line) for f in result.findings]

    return _project


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """30 files with an LLM call and 30 without, in tmp_path/pkg."""
    return make_tree(tmp_path)

"""Helpers for the real-application-code tests: lint snippets and small projects."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from attrlint.core.config import Config, parse_config
from attrlint.lint.engine import Linter
from attrlint.lint.suppression import Options
from attrlint.lint.runner import run


def _config(extra: dict | None = None, root: Path | None = None) -> Config:
    config = parse_config(extra or {})
    if root is not None:
        import dataclasses

        config = dataclasses.replace(config, root=root)
    return config


@pytest.fixture
def lint():
    """lint(source, strict=False) -> list of (code, line) for one module."""

    def _lint(source: str, *, strict: bool = False, select: tuple[str, ...] = (), path: str = "mod.py"):
        linter = Linter(_config(), Options(strict=strict, select=select))
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


def codes(findings) -> list[str]:
    return [f[0] for f in findings]

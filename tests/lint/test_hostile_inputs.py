"""No input crashes the run: each bad file gets its own message and the rest is checked."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import pytest
from support.cli import run_module
from support.source import LLM_FILE

from attrlint.lint import runner
from attrlint.lint.suppression import Options


def _run(paths, **kw):
    warnings: list[str] = []
    result = runner.run([str(p) for p in paths], options=Options(), jobs=1, warn=warnings.append, **kw)
    return result, warnings


def _codes(result, name: str) -> list[str]:
    return [f.code for f in result.findings if os.path.basename(f.path) == name]


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.py"
    path.write_text(LLM_FILE.format(n=1))
    return path


def test_binary_nul_and_undecodable_files_are_atr000(tmp_path: Path, good: Path) -> None:
    (tmp_path / "binary.py").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "nul.py").write_bytes(b"import openai\x00\nopenai.chat.completions.create()\n")
    (tmp_path / "latin.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "badcoding.py").write_bytes(b"# -*- coding: uft-8 -*-\nx = 1\n")
    result, _ = _run([tmp_path])
    for name in ("binary.py", "nul.py", "latin.py", "badcoding.py"):
        assert _codes(result, name) == ["ATR000"], name
    latin = next(f for f in result.findings if f.path.endswith("latin.py"))
    assert "coding line" in latin.message
    assert "ATR003" in _codes(result, "good.py")


def test_huge_generated_file(tmp_path: Path, good: Path) -> None:
    lines = [f"value_{i} = {{'a': {i}, 'text': '{'x' * 1000}'}}\n" for i in range(5_000)]
    lines.append("from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n")
    (tmp_path / "huge.py").write_text("".join(lines))
    assert (tmp_path / "huge.py").stat().st_size > 5_000_000
    result, _ = _run([tmp_path])
    assert "ATR001" in _codes(result, "huge.py")


def test_deeply_nested_expressions(tmp_path: Path, good: Path) -> None:
    (tmp_path / "deep.py").write_text("import openai\nx = openai.create(" + "(" * 5000 + "1" + ")" * 5000 + ")\n")
    (tmp_path / "deeplist.py").write_text("import openai\nopenai.create(" + "[" * 180 + "]" * 180 + ")\n")
    (tmp_path / "chain.py").write_text("import openai\nx = 1" + " + 1" * 30000 + "\nopenai.create(x)\n")
    result, _ = _run([tmp_path])
    assert _codes(result, "deep.py") == ["ATR000"]
    assert "ATR003" in _codes(result, "good.py")


def test_symlink_loop_and_broken_link(tmp_path: Path, good: Path) -> None:
    (tmp_path / "loop").mkdir()
    os.symlink(tmp_path / "loop", tmp_path / "loop" / "again")
    os.symlink(tmp_path / "missing.py", tmp_path / "broken.py")
    os.symlink(tmp_path / "self.py", tmp_path / "self.py")
    result, warnings = _run([tmp_path])
    assert any("symbolic link loop" in w for w in warnings)
    assert any("broken.py" in w for w in warnings)
    assert "ATR003" in _codes(result, "good.py")


def test_unreadable_file(tmp_path: Path, good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if str(file).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    result, warnings = _run([tmp_path])
    assert any("secret.py" in w and "Permission denied" in w for w in warnings)
    assert "ATR003" in _codes(result, "good.py")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file; covered by test_unreadable_file")
def test_unreadable_file_by_mode(tmp_path: Path, good: Path) -> None:  # pragma: no cover - non-root only
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    secret.chmod(0)
    result, warnings = _run([tmp_path])
    assert any("secret.py" in w for w in warnings)


def test_file_deleted_during_the_run(tmp_path: Path, good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doomed = tmp_path / "doomed.py"
    doomed.write_text("x = 1\n")
    real_iter = runner.iter_files

    def iter_then_delete(*args, **kwargs):
        paths = list(real_iter(*args, **kwargs))
        doomed.unlink()
        return iter(paths)

    monkeypatch.setattr(runner, "iter_files", iter_then_delete)
    for use_cache in (False, True):
        doomed.write_text("x = 1\n")
        result, warnings = _run([tmp_path], use_cache=use_cache, cache_dir=str(tmp_path / ".cache"))
        assert any("doomed.py" in w and "disappeared" in w for w in warnings)
        assert "ATR003" in _codes(result, "good.py")


def test_cli_exit_codes_with_hostile_files(tmp_path: Path) -> None:
    (tmp_path / "binary.py").write_bytes(b"\x00\xff" * 100)
    (tmp_path / "ok.py").write_text("x = 1\n")
    os.symlink(tmp_path, tmp_path / "loop")
    done = run_module("check", "--no-cache", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # ATR000 is a finding, not a tool failure
    assert "ATR000" in done.stdout
    (tmp_path / "binary.py").unlink()
    done = run_module("check", "--no-cache", ".", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

"""Paths that are not regular files (a FIFO, a device) are skipped with a warning: reading one
would block the run or never end."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from support.cli import run_module
from support.source import LLM_FILE

from attrlint.lint.discovery import iter_files

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo (POSIX)")


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "good.py").write_text(LLM_FILE.format(n=1))
    os.mkfifo(tmp_path / "x.py")
    return tmp_path


def test_a_fifo_found_in_a_directory_is_skipped_with_a_warning(tmp_path: Path) -> None:
    _tree(tmp_path)
    warnings: list[str] = []
    found = list(iter_files([str(tmp_path)], lambda p: False, respect_gitignore=False, on_warning=warnings.append))
    assert [Path(p).name for p in found] == ["good.py"]
    assert warnings == [f"{tmp_path / 'x.py'}: skipped: a FIFO, not a regular file"]


def test_a_fifo_or_device_named_on_the_command_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "link.py").symlink_to(tmp_path / "x.py")
    warnings: list[str] = []
    paths = [str(tmp_path / "x.py"), str(tmp_path / "link.py"), str(tmp_path / "good.py")]
    if os.path.exists("/dev/null") and sys.platform != "win32":
        paths.append(os.devnull)
    found = list(iter_files(paths, lambda p: False, on_warning=warnings.append))
    assert found == [str(tmp_path / "good.py")]
    assert warnings[:2] == [f"{tmp_path / 'x.py'}: skipped: a FIFO, not a regular file",
                            f"{tmp_path / 'link.py'}: skipped: a FIFO, not a regular file"]
    if len(paths) == 4:
        assert warnings[2] == f"{os.devnull}: skipped: a device, not a regular file"


def test_check_does_not_block_on_a_fifo(tmp_path: Path) -> None:
    _tree(tmp_path)
    # a blocked run would time out here (no writer ever opens the FIFO)
    proc = run_module("check", "--no-cache", ".", cwd=tmp_path, timeout=60)
    assert "x.py: skipped: a FIFO, not a regular file" in proc.stderr
    assert "1 file" in proc.stdout + proc.stderr

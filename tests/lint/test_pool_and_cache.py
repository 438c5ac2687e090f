"""The pool survives a worker that dies or hangs; the cache and the pool never change findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import run_module, subprocess_env
from support.source import findings_of, make_tree

from attrlint.lint import runner
from attrlint.lint.engine import Linter
from attrlint.lint.suppression import Options


def _run(paths, **kw):
    warnings: list[str] = []
    kw.setdefault("jobs", 2)
    result = runner.run([str(p) for p in paths], options=Options(), warn=warnings.append, **kw)
    return result, warnings


def test_one_worker_or_many_same_findings(tree: Path) -> None:
    serial, _ = _run([tree], jobs=1)
    pooled, _ = _run([tree], jobs=2)
    assert findings_of(serial) == findings_of(pooled)
    assert len(serial.findings) > 30


@pytest.mark.parametrize("hook", ["ATTRLINT_TEST_CRASH_ON", "ATTRLINT_TEST_HANG_ON"])
def test_a_dying_or_hanging_worker_costs_one_file(tree: Path, monkeypatch: pytest.MonkeyPatch, hook: str) -> None:
    expected, _ = _run([tree], jobs=1)
    monkeypatch.setenv(hook, "llm_007.py")
    started = time.monotonic()
    result, warnings = _run([tree], jobs=2, timeout=2)
    assert time.monotonic() - started < 30
    culprit = [w for w in warnings if "llm_007.py" in w]
    assert len(culprit) == 1, warnings
    assert ("died" in culprit[0]) if "CRASH" in hook else ("longer than 2 s" in culprit[0])
    assert len(warnings) == 1
    assert findings_of(result) == [f for f in findings_of(expected) if not f[0].endswith("llm_007.py")]
    assert len(result.results) == len(expected.results)


def test_hung_file_from_the_cli_exits_2_and_never_passes(tmp_path: Path) -> None:
    make_tree(tmp_path, llm=0, plain=60)
    done = run_module("check", "--no-cache", "--timeout", "1", "-j", "2", "pkg", cwd=tmp_path,
                      env={"ATTRLINT_TEST_HANG_ON": "plain_003.py"})
    assert done.returncode == 2, done.stderr
    assert ("attrlint: error: pkg/plain_003.py: not checked: checking it took longer than 1 s; raise --timeout, "
            "or exclude the file\n") in done.stderr
    assert "All checks passed" not in done.stdout
    assert done.stdout.splitlines()[-1].startswith("Could not check 1 file or path (see the errors above)")
    exit_zero = run_module("check", "--no-cache", "--timeout", "1", "-j", "2", "--exit-zero", "pkg", cwd=tmp_path,
                           env={"ATTRLINT_TEST_HANG_ON": "plain_003.py"})
    assert exit_zero.returncode == 0
    assert "plain_003.py: not checked" in exit_zero.stderr  # --exit-zero changes the status, not the report


def test_crashed_worker_from_the_cli_exits_2(tmp_path: Path) -> None:
    make_tree(tmp_path, llm=0, plain=60)
    done = run_module("check", "--no-cache", "-j", "2", "pkg", cwd=tmp_path,
                      env={"ATTRLINT_TEST_CRASH_ON": "plain_010.py"})
    assert done.returncode == 2, done.stderr
    assert ("attrlint: error: pkg/plain_010.py: not checked: the worker process died while checking it (a crash, "
            "or out of memory); run `attrlint check pkg/plain_010.py` alone to see why") in done.stderr
    assert "All checks passed" not in done.stdout


def test_cache_gives_the_same_findings_and_is_used(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cold, _ = _run([tree], jobs=1)
    filled, _ = _run([tree], use_cache=True, cache_dir=str(cache))
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")

    def boom(*args, **kwargs):
        raise AssertionError("a warm run must not lint an unchanged file")

    monkeypatch.setattr(Linter, "lint_bytes", boom)
    warm, _ = _run([tree], jobs=1, use_cache=True, cache_dir=str(cache))
    assert findings_of(cold) == findings_of(filled) == findings_of(warm)
    assert [r.key_refs for r in cold.results] == [r.key_refs for r in warm.results]
    assert warm.parsed == cold.parsed

    # a fresh checkout: every mtime changes, no content does -- still a hit
    for path in tree.iterdir():
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    again, _ = _run([tree], jobs=1, use_cache=True, cache_dir=str(cache))
    assert findings_of(again) == findings_of(cold)


def test_cache_misses_on_changed_content_and_configuration(tree: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    _run([tree], use_cache=True, cache_dir=cache)
    target = tree / "llm_001.py"
    target.write_text(target.read_text().replace('"ticketId"', '"ticket_id"'))
    changed, _ = _run([tree], use_cache=True, cache_dir=cache)
    assert not [f for f in changed.findings if f.path.endswith("llm_001.py") and f.code == "ATR003"]
    ignored = runner.run([str(tree)], options=Options(ignore=("ATR003",)), jobs=1, use_cache=True,
                         cache_dir=cache, warn=lambda m: None)
    assert not [f for f in ignored.findings if f.code == "ATR003"]
    strict = runner.run([str(tree)], options=Options(strict=True), jobs=1, use_cache=True, cache_dir=cache,
                        warn=lambda m: None)
    assert len(list((Path(cache) / "v2").iterdir())) == 3
    assert strict.files == changed.files


def test_cache_env_var_and_pruning(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from attrlint.lint import cache as cache_module

    monkeypatch.setenv("ATTRLINT_CACHE_DIR", str(tmp_path / "envcache"))
    _run([tree], use_cache=True)
    shards = list((tmp_path / "envcache" / "v2").glob("*/[0-9][0-9].json"))
    assert shards
    # entries unused for MAX_AGE_DAYS are dropped when their shard is written again
    monkeypatch.setattr(cache_module, "_today", lambda: int(time.time() // 86400) + cache_module.MAX_AGE_DAYS + 5)
    (tree / "new.py").write_text("x = 1\n")
    _run([tree / "new.py"], use_cache=True)
    entries = {}
    for shard in (tmp_path / "envcache" / "v2").glob("*/[0-9][0-9].json"):
        entries.update(json.loads(shard.read_bytes().split(b"\n", 2)[2]))
    assert any(p.endswith("new.py") for p in entries)
    assert not any(p.endswith("llm_000.py") for p in entries)  # same shard, written, pruned


def test_two_runs_sharing_a_cache(tmp_path: Path) -> None:
    make_tree(tmp_path, llm=40, plain=40)
    env = subprocess_env()
    command = [sys.executable, "-m", "attrlint", "check", "--cache-dir", "shared", "-q", "pkg"]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(3)]
    outputs = [r.communicate(timeout=120) for r in runs]
    assert all(r.returncode == 1 for r in runs), outputs
    assert len({o[0] for o in outputs}) == 1
    assert not list((tmp_path / "shared").rglob(".tmp-*"))
    warm = run_module("check", "--cache-dir", "shared", "-q", "pkg", cwd=tmp_path)
    assert warm.stdout.encode() == outputs[0][0]


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    make_tree(tmp_path, llm=5, plain=300)
    done = run_module("check", "--no-cache", "pkg", cwd=tmp_path)
    assert "files" not in done.stderr and "\r" not in done.stderr


def test_progress_bar_draws_and_clears() -> None:
    import io

    from attrlint.lint.progress import Progress

    stream = io.StringIO()
    bar = Progress(3, stream)
    for _ in range(3):
        bar.advance()
    bar.close()
    assert "3/3 files" in stream.getvalue() and stream.getvalue().endswith("\r\x1b[K")


def test_project_findings_come_from_the_cache_for_an_unchanged_tree(tree: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import attrlint.lint.project.phase

    cache = str(tmp_path / "cache")
    first, _ = _run([tree], use_cache=True, cache_dir=cache)

    def boom(*args, **kwargs):
        raise AssertionError("project rules must not rerun over an unchanged tree")

    monkeypatch.setattr(attrlint.lint.project.phase, "run_project_phase", boom)
    again, _ = _run([tree], use_cache=True, cache_dir=cache)
    assert findings_of(again) == findings_of(first)
    (tree / "plain_000.py").write_text("y = 2\n")
    with pytest.raises(AssertionError, match="must not rerun"):
        _run([tree], use_cache=True, cache_dir=cache)

"""Secrets never leave redacted form; no generated program crashes the linter; ATR003's fix is sound."""

from __future__ import annotations

import ast
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.cli import run_module
from support.keys import fake_anthropic_key, fake_google_key, fake_openai_key

from attrlint.core.config import Config
from attrlint.lint.engine import Linter
from attrlint.lint.fixes import apply_fixes

KEY_SOURCE = """\
import os
from openai import OpenAI
from anthropic import Anthropic

client = OpenAI(api_key="{openai}")
other = Anthropic(api_key="{anthropic}")
FALLBACK = "{google}"
os.environ["OPENAI_API_KEY"] = "{openai}"


def ask(q):
    return client.chat.completions.create(model="gpt-4o", messages=[], metadata={{"note": "{openai}"}})
"""


@pytest.fixture
def keyed_tree(tmp_path: Path) -> tuple[Path, list[str]]:
    keys = {"openai": fake_openai_key(), "anthropic": fake_anthropic_key(), "google": fake_google_key()}
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "app.py").write_text(KEY_SOURCE.format(**keys))
    for i in range(60):  # enough files for the process pool
        (tmp_path / "pkg" / f"m{i}.py").write_text("x = 1\n")
    return tmp_path, list(keys.values())


def test_no_output_format_cache_or_log_holds_a_key(keyed_tree: tuple[Path, list[str]]) -> None:
    root, keys = keyed_tree
    seen = []
    for fmt in ("text", "json", "sarif", "github", "junit"):
        done = run_module("check", "--format", fmt, "--cache-dir", "cache", "pkg", cwd=root,
                          env={"ATTRLINT_DEBUG": "1"})
        assert done.returncode == 1, done.stderr
        seen.append(done.stdout + done.stderr)
        assert "ATR101" in done.stdout or "hardcoded" in done.stdout
    stats = run_module("check", "--statistics", "--no-cache", "pkg", cwd=root)
    seen.append(stats.stdout + stats.stderr)
    cache_bytes = b"".join(p.read_bytes() for p in (root / "cache").rglob("*") if p.is_file())
    assert cache_bytes
    for key in keys:
        for text in seen:
            assert key not in text
            assert key[8:-4] not in text  # not even the middle of it
        assert key.encode() not in cache_bytes
        assert key[8:-4].encode() not in cache_bytes


def test_key_refs_and_snippets_in_the_cache_are_redacted(keyed_tree: tuple[Path, list[str]]) -> None:
    root, keys = keyed_tree
    from attrlint.lint import runner
    from attrlint.lint.suppression import Options

    result = runner.run([str(root / "pkg")], options=Options(strict=True), jobs=2, use_cache=True,
                        cache_dir=str(root / "c2"), warn=lambda m: None)
    texts = [repr(r) for r in result.results]
    for key in keys:
        assert not any(key in t or key[8:-4] in t for t in texts)


LINTER = Linter(Config())


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_programs_never_crash(source: str) -> None:
    assert LINTER.lint_text(source, "gen.py", tree=None).warning is None
    LINTER.lint_bytes(source.encode("utf-8", "surrogatepass"), "gen.py")
    # the same program with an LLM call appended must not crash the analysis either
    LINTER.lint_text(source + "\nimport openai\nopenai.OpenAI().chat.completions.create(metadata={})\n", "gen.py")


ALIASES = ["ticketId", "ticket_uuid", "TicketID", "cust_id", "customer-id", "customerId", "agentId"]
IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s not in ("if", "in", "is", "or", "as"))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(ALIASES), min_size=1, max_size=4, unique=True),
       st.lists(IDENT, min_size=0, max_size=3, unique=True), st.booleans())
def test_atr003_fix_parses_and_leaves_no_atr003(aliases: list[str], extra: list[str], context: bool) -> None:
    if context:
        kwargs = ", ".join(f"{a}=v" for a in aliases if a.isidentifier())
        source = f"from attrlint.runtime import attribution\nv = 1\nwith attribution({kwargs or 'ticketId=v'}):\n    pass\n"
    else:
        entries = ", ".join([*(f'"{a}": 1' for a in aliases), *(f'"{e}": 2' for e in extra)])
        source = ("from openai import OpenAI\nclient = OpenAI()\n"
                  f"client.responses.create(model='m', input='x',\n    metadata={{{entries}}})\n")
    first = LINTER.lint_text(source, "t.py")
    assert any(f.code == "ATR003" for f in first.findings)
    fixed, _ = apply_fixes(source, first.findings)
    ast.parse(fixed)
    second = LINTER.lint_text(fixed, "t.py")
    remaining = [f for f in second.findings if f.code == "ATR003"]
    # a rename is withheld only when the canonical key is already beside it
    assert all(f.fix is None for f in remaining)

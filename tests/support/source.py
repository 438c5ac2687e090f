"""Source to lint: snippets, annotated fixtures, small trees and the generated LLM/plain tree.

Fixture sources follow flake8-bugbear's style: the expected finding is written beside the
line it belongs to, as `# error: ATR001` (several codes separated by commas).
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from attrlint.core.config import Config, parse_config
from attrlint.lint.diagnostics import Finding
from attrlint.lint.engine import Linter
from attrlint.lint.suppression import Options

_EXPECT = re.compile(r"#\s*error:\s*(?P<codes>ATR\d{3}(?:\s*,\s*ATR\d{3})*)")

LLM_FILE = """\
import os
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])


def ask(question):
    return client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": question}}],
                                          metadata={{"ticketId": "{n}"}})
"""

PLAIN_FILE = """\
def add(a, b):
    return a + b  # {n}
"""


def config(extra: dict | None = None, root: Path | None = None) -> Config:
    """The configuration `[tool.attrlint]` = `extra` gives, optionally rooted at `root`."""
    parsed = parse_config(extra or {})
    if root is not None:
        parsed = dataclasses.replace(parsed, root=root)
    return parsed


def lint(source: str, *, config: Config | dict | None = None, strict: bool = True,
         path: str = "snippet.py", **options: Any) -> list[Finding]:
    if isinstance(config, dict):
        config = parse_config(config)
    linter = Linter(config or Config(), Options(strict=strict, **options))
    return linter.lint_text(textwrap.dedent(source), path).findings


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


def make_tree(root: Path, llm: int = 30, plain: int = 30) -> Path:
    """`root/pkg` with `llm` files that call OpenAI (ATR003 each) and `plain` files that do not."""
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    for i in range(llm):
        (root / "pkg" / f"llm_{i:03d}.py").write_text(LLM_FILE.format(n=i))
    for i in range(plain):
        (root / "pkg" / f"plain_{i:03d}.py").write_text(PLAIN_FILE.format(n=i))
    return root / "pkg"


def findings_of(result) -> list[tuple]:
    """A run's findings as comparable tuples."""
    return [(f.path, f.line, f.column, f.code, f.message, f.snippet) for f in result.findings]

"""The walk's compiled excluder gives Config.is_excluded's answers, path for path."""

from __future__ import annotations

import pytest

from attrlint.core.config import parse_config
from attrlint.lint.discovery import Excluder

PATTERNS = [
    ["examples", "tests/fixtures"],
    ["./build/", "*.egg-info", "docs/**"],
    ["**/generated/*.py", "legacy_*.py"],
    ["services/*/migrations"],
    ["docs/", "!docs/api/**", "legacy_*", "!src/legacy_client.py"],
    ["/build", "src/**/api.py", "*.egg-info/"],
]
PATHS = [
    "examples/a.py", "examples/sub/b.py", "tests/fixtures/x.py", "tests/test_x.py", "build/lib/m.py",
    "pkg.egg-info/x.py", "docs/conf.py", "docs/api/gen.py", "src/generated/api.py", "src/app.py",
    "legacy_client.py", "src/legacy_client.py", "services/support/migrations/0001.py",
    "services/support/bot.py", ".venv/lib/x.py", "node_modules/x/y.py", "main.py",
]


@pytest.mark.parametrize("patterns", PATTERNS)
def test_excluder_matches_config(tmp_path, monkeypatch, patterns):
    monkeypatch.chdir(tmp_path)
    for path in PATHS:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x = 1\n")
    config = parse_config({"extend-exclude": patterns}, path=tmp_path / "pyproject.toml")
    excluder = Excluder(config)
    answers = {path: (excluder(path), config.is_excluded(path)) for path in PATHS}
    assert {p: a for p, a in answers.items() if a[0] != a[1]} == {}
    assert any(fast for fast, _ in answers.values())  # the patterns do exclude something

"""No file attrlint reads can make it run code: the package uses no loader that executes what
it loads. A use that is genuinely safe goes in ALLOWED with the reason, and the test fails
when an allowed use disappears, so the list never outlives its reasons."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "attrlint"

# What can turn bytes into running code: unpickling (pickle, and shelve/dill/joblib built on it),
# marshal, eval/exec (literal_eval and re.compile's cousins are caught too: allow them here
# with a reason), and PyYAML's full loader.
FORBIDDEN = re.compile(r"pickle|marshal|shelve|\bdill\b|joblib|\beval\(|\bexec\(|yaml\.(?:load|unsafe_load)\(|"
                       r"yaml\.full_load\(|__reduce__")

# (path relative to attrlint/, the text matched) -> why this use cannot run code from disk.
ALLOWED: dict[tuple[str, str], str] = {}


def _matches() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix not in {".py", ".toml", ".json", ".txt"}:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in FORBIDDEN.finditer(line):
                lines = found.setdefault((rel, match.group(0)), [])
                if not lines or not lines[-1].startswith(f"{rel}:{number}:"):
                    lines.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_no_loader_that_runs_code() -> None:
    found = _matches()
    unexplained = [line for key, lines in found.items() if key not in ALLOWED for line in lines]
    assert not unexplained, ("a loader that can run code appears in attrlint/ (use JSON or TOML, "
                             "or add it to ALLOWED with the reason it is safe):\n" + "\n".join(unexplained))


def test_every_allowed_use_still_exists() -> None:
    stale = sorted(set(ALLOWED) - set(_matches()))
    assert not stale, f"ALLOWED lists uses that are gone; remove them: {stale}"


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The pattern catches each form it is meant to (so an empty result means something)."""
    for text in ("import pickle", "pickle.loads(data)", "import marshal", "eval(source)", "exec(code)",
                 "yaml.load(stream)", "yaml.unsafe_load(s)", "from joblib import load", "import shelve"):
        assert FORBIDDEN.search(text), text
    for text in ("evaluate(x)", "executor(x)", "yaml.safe_load(s)", "json.loads(s)", "tomllib.loads(s)"):
        assert not FORBIDDEN.search(text), text

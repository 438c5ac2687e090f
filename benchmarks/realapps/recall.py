"""Recall and precision of attrlint on real LLM applications.

    benchmarks/realapps/prepare.sh APPS_DIR        # materialise the pinned apps (not committed)
    python benchmarks/realapps/recall.py APPS_DIR [--app NAME] [--sample 150] [--seed 1]

`apps.toml` pins each application to a commit and says which paths are its production code;
`labels.csv` lists every billable LLM call site in that code, found by reading it (not from
attrlint's output); `non_cases.csv` lists look-alike calls that do not bill.

attrlint runs on each whole app at default settings. A labelled call counts as found when a
finding of an attribution rule (ATR001, ATR002, ATR004, ATR008) is reported on its line, or
at a call site of the wrapper around it: a finding whose message names the wrapper's LLM call
`path:line` (a call through a base class names each override it reaches), where that call
sits in the same function as the labelled one. The script prints recall per app, the misses grouped by pattern and receiver,
the non-cases attrlint reported, and a seeded random sample of findings in production code
for reading by hand (precision).
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import ast  # noqa: E402

from attrlint.core import toml  # noqa: E402
from attrlint.lint.runner import run  # noqa: E402
from attrlint.lint.source import scope_index  # noqa: E402
from attrlint.lint.suppression import Options  # noqa: E402

ATTRIBUTION = {"ATR001", "ATR002", "ATR004", "ATR008"}
_ORIGIN = re.compile(r", ([^,()]+\.py):(\d+)\)")


def load_apps() -> dict[str, dict]:
    return toml.loads((HERE / "apps.toml").read_text(encoding="utf-8"))["apps"]


def load_rows(name: str) -> list[dict]:
    with open(HERE / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def in_production(app: dict, path: str) -> bool:
    path = path.replace(os.sep, "/").removeprefix("./")
    if not any(path == inc or path.startswith(inc.rstrip("/") + "/") for inc in app["include"]):
        return False
    return not any(fnmatch.fnmatch(path, pattern) for pattern in app.get("exclude", []))


def check_app(root: Path) -> tuple[list, float]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        started = time.perf_counter()
        result = run(["."], options=Options(), use_cache=False, warn=lambda message: None)
        return result.findings, time.perf_counter() - started
    finally:
        os.chdir(cwd)


def norm(path: str) -> str:
    return path.replace(os.sep, "/").removeprefix("./")


_SCOPES: dict[Path, list[tuple[int, int, str]]] = {}


def function_at(root: Path, path: str, line: int) -> str:
    """The innermost function or method around a line of a file ("" at module level)."""
    file = root / path
    spans = _SCOPES.get(file)
    if spans is None:
        try:
            spans = scope_index(ast.parse(file.read_text(encoding="utf-8")))
        except (OSError, SyntaxError, ValueError):
            spans = []
        _SCOPES[file] = spans
    found = ""
    for first, last, name in spans:
        if first <= line <= last:
            found = name
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("apps_dir", type=Path, help="where prepare.sh materialised the apps")
    parser.add_argument("--app", action="append", help="only these apps")
    parser.add_argument("--sample", type=int, default=150, help="findings to draw for precision")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--misses", action="store_true", help="list every missed call site")
    parser.add_argument("--sample-out", type=Path, help="write the precision sample here (CSV)")
    args = parser.parse_args()

    apps = load_apps()
    labels = [r for r in load_rows("labels.csv") if not args.app or r["app"] in args.app]
    non_cases = [r for r in load_rows("non_cases.csv") if not args.app or r["app"] in args.app]
    names = sorted({r["app"] for r in labels} | set(args.app or []))
    by_app: dict[str, list[dict]] = defaultdict(list)
    for row in labels:
        by_app[row["app"]].append(row)

    found_total = expected_total = 0
    misses: list[dict] = []
    production_findings: list[tuple[str, object]] = []
    reported_non_cases: list[dict] = []
    print(f"{'app':<18} {'found':>5} {'of':>4} {'recall':>7} {'findings':>9} {'seconds':>8}")
    for name in names:
        root = args.apps_dir / name
        if not root.is_dir():
            print(f"{name:<18} not materialised in {args.apps_dir} (run prepare.sh)", file=sys.stderr)
            return 2
        app = apps[name]
        findings, seconds = check_app(root)
        at_line: set[tuple[str, int]] = set()
        wrapped: set[tuple[str, str]] = set()  # (path, function) whose LLM calls a wrapper-site finding covers
        for f in findings:
            path = norm(f.path)
            if f.code in ATTRIBUTION:
                for line in range(f.line, max(f.line, f.end_line) + 1):
                    at_line.add((path, line))
                for origin in _ORIGIN.finditer(f.message):  # a call through a base class names each override
                    origin_path = norm(origin.group(1))
                    at_line.add((origin_path, int(origin.group(2))))
                    wrapped.add((origin_path, function_at(root, origin_path, int(origin.group(2)))))
            if in_production(app, path):
                production_findings.append((name, f))
        found = 0
        for row in by_app[name]:
            line = int(row["line"])
            if (row["path"], line) in at_line or (row["path"], function_at(root, row["path"], line)) in wrapped:
                found += 1
            else:
                misses.append(row)
        for row in non_cases:
            if row["app"] == name and (row["path"], int(row["line"])) in at_line:
                reported_non_cases.append(row)
        expected = len(by_app[name])
        found_total += found
        expected_total += expected
        shown = sum(1 for n, _ in production_findings if n == name)
        print(f"{name:<18} {found:>5} {expected:>4} {found / expected if expected else 1:>7.2f} {shown:>9} {seconds:>8.1f}")
    print(f"{'all':<18} {found_total:>5} {expected_total:>4} {found_total / max(expected_total, 1):>7.2f}")
    macro = [sum(1 for r in by_app[n] if r not in misses) / len(by_app[n]) for n in names if by_app[n]]
    print(f"mean recall per app: {sum(macro) / max(len(macro), 1):.2f}")

    print("\nmissed, by pattern:")
    patterns = Counter(p for r in misses for p in r["patterns"].split(";") if p)
    for pattern, n in patterns.most_common():
        print(f"  {pattern:<22} {n}")
    print("missed, by receiver:")
    for receiver, n in Counter(r["receiver"] for r in misses).most_common():
        print(f"  {receiver:<30} {n}")
    if args.misses:
        print("\nmissed call sites:")
        for r in misses:
            print(f"  {r['app']}/{r['path']}:{r['line']}  {r['sdk']} {r['api']}  [{r['receiver']}; {r['patterns']}]  {r['notes'][:90]}")

    print(f"\nnon-cases reported: {len(reported_non_cases)} of {len(non_cases)}")
    for r in reported_non_cases:
        print(f"  {r['app']}/{r['path']}:{r['line']}  {r['api']}  {r['notes'][:80]}")

    attribution = [(n, f) for n, f in production_findings if f.code in ATTRIBUTION]
    print(f"\nfindings in production code: {len(production_findings)} "
          f"({len(attribution)} attribution, by code: "
          f"{dict(sorted(Counter(f.code for _, f in production_findings).items()))})")
    rng = random.Random(args.seed)
    sample = rng.sample(production_findings, min(args.sample, len(production_findings)))
    if args.sample_out:
        with open(args.sample_out, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["app", "path", "line", "code", "message", "snippet", "verdict"])
            for name, f in sorted(sample, key=lambda item: (item[0], item[1].path, item[1].line)):
                writer.writerow([name, norm(f.path), f.line, f.code, f.message, f.snippet, ""])
        print(f"precision sample of {len(sample)} findings written to {args.sample_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

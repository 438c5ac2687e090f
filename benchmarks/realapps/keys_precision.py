"""Precision of the key rules on real applications: ATR101, ATR102 and ATR106 findings.

    python benchmarks/realapps/keys_precision.py APPS_DIR [--app NAME] [--out all.csv]
        [--sample 120 --seed 11 --sample-out sample.csv] [--verdicts judged.csv]

Each app of `apps.toml` (materialised by prepare.sh, which unpacks snapshots without their
git history) is given a throwaway git index of every file of its snapshot, kept outside the
app's folder (`GIT_DIR`), so that attrlint reads the data files a clone would have tracked.
attrlint then checks the whole app with ATR101, ATR102 and ATR106 selected.

The script prints the findings per app and rule, every ATR101 finding (there are few: read
each), and, with `--sample`, draws a seeded random sample of ATR102 and ATR106 findings to
read by hand: a CSV with an empty `verdict` (TP or FP) and `reason` column per finding. Keep
the judged file outside the repository (it quotes other projects' code) and pass it back with
`--verdicts` to print the precision and every false positive.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from attrlint.core import toml  # noqa: E402
from attrlint.lint.runner import run  # noqa: E402
from attrlint.lint.suppression import Options  # noqa: E402

CODES = ("ATR101", "ATR102", "ATR106")
SAMPLED = ("ATR102", "ATR106")
FIELDS = ["app", "path", "line", "column", "code", "message", "snippet", "verdict", "reason"]


def check_app(root: Path, git_dir: Path) -> tuple[list, float]:
    """attrlint's key findings on one app, with a git index of its files in `git_dir`."""
    env = {"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(root)}
    git = {**os.environ, **env}
    subprocess.run(["git", "init", "-q"], env=git, check=True, capture_output=True)
    subprocess.run(["git", "add", "-A", "-f", "."], cwd=root, env=git, check=True, capture_output=True)
    saved = {name: os.environ.get(name) for name in env}
    cwd = os.getcwd()
    os.environ.update(env)
    os.chdir(root)
    try:
        started = time.perf_counter()
        result = run(["."], options=Options(select=CODES), use_cache=False, warn=lambda message: None)
        return result.findings, time.perf_counter() - started
    finally:
        os.chdir(cwd)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def key_candidates(root: Path, git_dir: Path) -> list[tuple[str, str]]:
    """(path, redacted match) of every key-format match in the tracked files ATR101 reads:
    what it had to tell apart, keys from fixtures."""
    from attrlint.core.catalogue import load_catalogue
    from attrlint.core.redact import redact
    from attrlint.lint.discovery import SOURCE_SUFFIXES, is_data_file

    catalogue = load_catalogue()
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True,
                             env={**os.environ, "GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(root)})
    found = []
    for name in listing.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not name or not (name.endswith((*SOURCE_SUFFIXES, ".ipynb")) or is_data_file(name)):
            continue
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found += [(name, redact(m.group(0))) for m in catalogue.key_matches(text)]
    return found


def row(app: str, finding) -> dict[str, str]:
    return {"app": app, "path": finding.path.removeprefix("./"), "line": str(finding.line),
            "column": str(finding.column), "code": finding.code, "message": finding.message,
            "snippet": finding.snippet[:200], "verdict": "", "reason": ""}


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def report_verdicts(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    unjudged = [r for r in rows if r["verdict"].strip().upper() not in ("TP", "FP")]
    if unjudged:
        print(f"{path}: {len(unjudged)} rows without a TP/FP verdict", file=sys.stderr)
        return 2
    print(f"\nhand-read sample ({path.name}):")
    for code in sorted({r["code"] for r in rows}) + ["all"]:
        chosen = [r for r in rows if code in ("all", r["code"])]
        tp = sum(1 for r in chosen if r["verdict"].strip().upper() == "TP")
        print(f"  {code:<7} {tp:>4} TP of {len(chosen):>4}  precision {tp / max(len(chosen), 1):.3f}")
    for r in rows:
        if r["verdict"].strip().upper() == "FP":
            print(f"  FP {r['app']}/{r['path']}:{r['line']} {r['code']}: {r['reason']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("apps_dir", type=Path, help="where prepare.sh materialised the apps")
    parser.add_argument("--app", action="append", help="only these apps")
    parser.add_argument("--out", type=Path, help="write every finding here (CSV)")
    parser.add_argument("--sample", type=int, default=0, help="ATR102/ATR106 findings to draw for reading")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sample-out", type=Path, help="where to write the sample (CSV)")
    parser.add_argument("--verdicts", type=Path, help="a judged sample: print precision and false positives")
    args = parser.parse_args()
    if args.verdicts and not args.app and not args.out and not args.sample:
        return report_verdicts(args.verdicts)

    apps = toml.loads((HERE / "apps.toml").read_text(encoding="utf-8"))["apps"]
    names = sorted(args.app or apps)
    rows: list[dict[str, str]] = []
    candidates: list[tuple[str, str, str]] = []
    print(f"{'app':<18} " + " ".join(f"{c:>7}" for c in CODES) + f" {'seconds':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            root = (args.apps_dir / name).resolve()
            if not root.is_dir():
                print(f"{name}: not materialised in {args.apps_dir} (run prepare.sh)", file=sys.stderr)
                return 2
            findings, seconds = check_app(root, Path(scratch) / f"{name}.git")
            candidates += [(name, path, shown) for path, shown in key_candidates(root, Path(scratch) / f"{name}.git")]
            counts = Counter(f.code for f in findings)
            rows += [row(name, f) for f in findings]
            print(f"{name:<18} " + " ".join(f"{counts[c]:>7}" for c in CODES) + f" {seconds:>8.1f}")
    totals = Counter(r["code"] for r in rows)
    print(f"{'all':<18} " + " ".join(f"{totals[c]:>7}" for c in CODES))
    print(f"\nkey-format matches in the files ATR101 reads: {len(candidates)}; reported: {totals['ATR101']}")
    for (app_name, shown), n in sorted(Counter((a, shown) for a, _, shown in candidates).items()):
        print(f"  {app_name:<18} {shown} x{n}")
    print("\nATR101 findings (read every one):")
    for r in rows:
        if r["code"] == "ATR101":
            print(f"  {r['app']}/{r['path']}:{r['line']}:{r['column']} {r['message']}")
    if args.out:
        write_rows(args.out, rows)
    if args.sample:
        pool = sorted((r for r in rows if r["code"] in SAMPLED),
                      key=lambda r: (r["app"], r["path"], int(r["line"]), int(r["column"]), r["code"]))
        sample = random.Random(args.seed).sample(pool, min(args.sample, len(pool)))
        sample.sort(key=lambda r: (r["app"], r["path"], int(r["line"])))
        if args.sample_out:
            write_rows(args.sample_out, sample)
            print(f"\nwrote a sample of {len(sample)} of {len(pool)} ATR102/ATR106 findings to {args.sample_out}")
    if args.verdicts:
        return report_verdicts(args.verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())

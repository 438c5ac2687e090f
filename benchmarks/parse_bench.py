"""What parsing costs: `ast.parse` of the running interpreter against attrlint's parser, which
adds libcst's grammar for files the interpreter rejects (syntax of a newer Python).

    python benchmarks/parse_bench.py CORPUS_DIR [--libcst-sample 300]

For files of a newer Python, point it at a newer standard library than the interpreter's
(e.g. Python 3.13's `Lib/` under Python 3.11).

Prints, for every `.py` file under CORPUS_DIR: how many `ast.parse` accepts and its speed in
lines per second; how many it rejects, how many of those attrlint's parser reads (newer
syntax) and what that costs per file against `ast.parse`; and libcst's own parse speed on a
seeded sample of files, for scale. Nothing here is a pass/fail threshold: the speed targets
are in benchmarks/lint_bench.py.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attrlint.lint.source import decode, parse


def read_corpus(root: Path) -> list[tuple[Path, str]]:
    """Every `.py` file's text, decoded as attrlint decodes it (PEP 263 cookies, BOMs)."""
    files = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".py"):
                path = Path(dirpath) / name
                try:
                    files.append((path, decode(path.read_bytes())))
                except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
                    continue
    files.sort()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--libcst-sample", type=int, default=300, help="files to parse with libcst, for scale")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # invalid escape sequences in old code

    files = read_corpus(args.corpus)
    lines_of = {path: text.count("\n") + 1 for path, text in files}
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {len(files)} files, "
          f"{sum(lines_of.values()):,} lines under {args.corpus}")

    accepted, rejected = [], []
    started = time.perf_counter()
    for path, text in files:
        try:
            ast.parse(text)
            accepted.append((path, text))
        except (SyntaxError, ValueError):
            rejected.append((path, text))
    ast_seconds = time.perf_counter() - started
    ast_lines = sum(lines_of[p] for p, _ in files)
    print(f"ast.parse: {len(accepted)} accepted, {len(rejected)} rejected, {ast_seconds:.2f} s, "
          f"{ast_lines / ast_seconds:,.0f} lines/s")

    rescued, invalid = [], []
    started = time.perf_counter()
    for path, text in rejected:
        try:
            parse(text, str(path))
            rescued.append(path)
        except (SyntaxError, ValueError):
            invalid.append(path)
    fallback_seconds = time.perf_counter() - started
    if rejected:
        rescued_lines = sum(lines_of[p] for p in rescued)
        print(f"files ast.parse rejects: {len(rescued)} read by attrlint's parser (newer syntax), "
              f"{len(invalid)} invalid for every version; {fallback_seconds:.2f} s, "
              f"{1000 * fallback_seconds / len(rejected):.1f} ms per file, "
              f"{rescued_lines / max(fallback_seconds, 1e-9):,.0f} lines/s")
        for path in invalid[:10]:
            print(f"  not Python of any version: {path.relative_to(args.corpus)}")

    try:
        import libcst
    except ImportError:
        print("libcst is not installed: no scale figure")
        return 0
    sample = random.Random(args.seed).sample(accepted, min(args.libcst_sample, len(accepted)))
    sample_lines = sum(lines_of[p] for p, _ in sample)
    started = time.perf_counter()
    for _, text in sample:
        try:
            libcst.parse_module(text)
        except Exception:  # noqa: BLE001, S112 - only the speed matters here
            continue
    cst_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for _, text in sample:
        ast.parse(text)
    sample_ast = time.perf_counter() - started
    print(f"libcst.parse_module on {len(sample)} sampled files: {sample_lines / cst_seconds:,.0f} lines/s "
          f"({cst_seconds / max(sample_ast, 1e-9):.1f}x ast.parse on the same files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

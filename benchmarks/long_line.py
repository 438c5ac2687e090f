"""How `attrlint check` scales with one very long line of LLM calls.

Generates files holding a single line of `client.chat.completions.create(...)` calls (1, 2.5
and 5 MB by default: one finding per 61 bytes), runs `attrlint check --no-cache` on each in a
fresh process and prints wall time, peak memory and seconds per MB. Cost linear in size shows
as a flat seconds-per-MB column (the ratio to the smallest file's rate stays near 1).

    python benchmarks/long_line.py
    python benchmarks/long_line.py --sizes 1,5,10
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CALL = 'client.chat.completions.create(model="gpt-4o", messages=[]); '
HEADER = "from openai import OpenAI\nclient = OpenAI()\n"


def run(path: Path, attrlint: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS in MB, exit code, last line of output)."""
    start = time.perf_counter()
    proc = subprocess.Popen([*attrlint, "check", "--no-cache", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=path.parent)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    last = (err or out).decode(errors="replace").strip().splitlines()[-1:] or [""]
    return wall, peak, proc.returncode, last[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,2.5,5", help="file sizes in MB, comma-separated")
    parser.add_argument("--attrlint-cmd", default=f"{sys.executable} -m attrlint",
                        help="how to run attrlint (default: this Python's)")
    args = parser.parse_args()
    attrlint = args.attrlint_cmd.split()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; attrlint: {args.attrlint_cmd}")
    print(f"{'size':>8} {'calls':>8} {'wall s':>8} {'s/MB':>7} {'x rate@1st':>10} {'peak MB*':>9}  result")
    first_rate = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in (float(s) for s in args.sizes.split(",")):
            calls = int(size * 1_000_000 / len(CALL))
            path = Path(tmp) / f"line_{size:g}mb.py"
            path.write_text(HEADER + CALL * calls + "\n")
            megabytes = path.stat().st_size / 1_000_000
            wall, peak, code, last = run(path, attrlint)
            rate = wall / megabytes
            first_rate = first_rate or rate
            print(f"{megabytes:7.2f}M {calls:8d} {wall:8.2f} {rate:7.2f} {rate / first_rate:10.2f} {peak:9.0f}  "
                  f"exit {code}: {last[:60]}")
            path.unlink()
    print("* peak RSS of the largest child so far (ru_maxrss), so it never decreases down the table")


if __name__ == "__main__":
    main()

"""Recall and precision of attrlint's call recognition on the SDKs' own examples/ directories.

    python benchmarks/sdk_examples_recall.py [--openai DIR] [--anthropic DIR] [--ground-truth FILE]

Without a directory, the sdist of each SDK is fetched with
`pip download --no-binary :all: --no-deps` into a temporary directory and unpacked.
The ground truth is a JSON file listing every billable call site per SDK
(`{"sdks": {"openai": {"files": {"openai/x.py": [{"line": .., "col": ..}]}}}}`, `col`
being the 1-based column of the call); without it only attrlint's counts are printed.
Prints found / expected / extra per SDK, and each missed or extra call site.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attrlint.lint.analysis.analyzer import Analyzer
from attrlint.core.catalogue import load_catalogue
from attrlint.core.schema import default_schema

SDKS = {"openai": "openai==3.57.0", "anthropic": "anthropic==2.14.0"}
# the catalogue's SDK tables that bill to each vendor's own API
FAMILY = {"openai": {"openai"}, "anthropic": {"anthropic"}}


def fetch(requirement: str, into: Path) -> Path:
    """Download and unpack an sdist; return its examples/ directory."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                    "--quiet", "-d", str(into), requirement], check=True)
    archive = next(p for p in into.iterdir() if p.name.endswith((".tar.gz", ".zip")))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    root = next(p for p in into.iterdir() if p.is_dir())
    return root / "examples"


def found_calls(examples: Path, sdk: str) -> dict[tuple[str, int, int], str]:
    catalogue = load_catalogue()
    schema = default_schema()
    calls = {}
    for path in sorted(examples.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError):
            continue
        module = Analyzer(catalogue, schema).run(tree)
        rel = f"{sdk}/{path.relative_to(examples).as_posix()}"
        for call in module.calls:
            if call.sdk.name in FAMILY[sdk]:
                calls[(rel, call.node.lineno, call.node.col_offset + 1)] = call.method
    return calls


def expected_calls(truth: dict, sdk: str) -> dict[tuple[str, int, int], dict]:
    out = {}
    for rel, items in truth["sdks"][sdk]["files"].items():
        for item in items:
            out[(rel, item["line"], item["col"])] = item
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for sdk in SDKS:
        parser.add_argument(f"--{sdk}", type=Path, help=f"the {sdk} SDK's examples/ directory")
    parser.add_argument("--ground-truth", type=Path, help="ground_truth.json")
    parser.add_argument("--quiet", action="store_true", help="counts only")
    args = parser.parse_args()
    truth = json.loads(args.ground_truth.read_text()) if args.ground_truth else None
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'sdk':<10} {'found':>6} {'expected':>9} {'extra':>6} {'missed':>7}  recall  precision")
        details = []
        for sdk, requirement in SDKS.items():
            examples = getattr(args, sdk) or fetch(requirement, Path(tmp) / sdk)
            found = found_calls(examples, sdk)
            if truth is None:
                print(f"{sdk:<10} {len(found):>6} {'-':>9} {'-':>6} {'-':>7}")
                continue
            expected = expected_calls(truth, sdk)
            hit = found.keys() & expected.keys()
            extra = sorted(found.keys() - expected.keys())
            missed = sorted(expected.keys() - found.keys())
            recall = len(hit) / len(expected) if expected else 1.0
            precision = len(hit) / len(found) if found else 1.0
            print(f"{sdk:<10} {len(hit):>6} {len(expected):>9} {len(extra):>6} {len(missed):>7}  "
                  f"{recall:6.1%}  {precision:9.1%}")
            details += [f"  extra  {f}:{line}:{col} {found[(f, line, col)]}" for f, line, col in extra]
            details += [f"  missed {f}:{line}:{col} {expected[(f, line, col)]['method']}" for f, line, col in missed]
        if details and not args.quiet:
            print("\n".join(details))
    return 0


if __name__ == "__main__":
    sys.exit(main())

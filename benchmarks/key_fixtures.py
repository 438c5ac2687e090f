"""How often ATR101 would take a randomly generated key for a fixture (it must never).

    python benchmarks/key_fixtures.py [--keys 20000] [--seed 1]

For every key format of the provider catalogue, draws `--keys` keys uniformly from the format
(half at its shortest length, half up to 64 characters longer) and runs the fixture tests of
attrlint/core/keyscan.py on each. Prints, per format: how many were taken for fixtures (and
why), and how close the generated keys came to each threshold: the largest share of
sequential runs, the largest share of dictionary words, the smallest margin above the entropy
threshold. A margin that approaches a threshold is the signal to revisit it.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.keys import key_matching, provider_formats  # noqa: E402

from attrlint.core.catalogue import load_catalogue  # noqa: E402
from attrlint.core.keyscan import (  # noqa: E402
    ENTROPY_CEILING,
    LONG_BODY,
    RUN_SHARE,
    SHORT_RUN_SHARE,
    SHORTEST,
    WORD_SHARE,
    entropy,
    fixture_reason,
    key_body,
    run_share,
    word_share,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=20000, help="keys drawn per format")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", action="append", help="only these formats (names as printed)")
    args = parser.parse_args()
    catalogue = load_catalogue()
    rng = random.Random(args.seed)
    print(f"thresholds: entropy < min({ENTROPY_CEILING}, log2(n) - 2); runs >= {RUN_SHARE} "
          f"({SHORT_RUN_SHARE} below {LONG_BODY} characters); "
          f"words >= {WORD_SHARE} (from {SHORTEST} characters)")
    print(f"{'format':<22} {'keys':>7} {'fixtures':>8} {'max runs':>9} {'max words':>10} "
          f"{'min H margin':>13} {'seconds':>8}")
    total = taken = 0
    for name, regex in provider_formats():
        if args.format and name not in args.format:
            continue
        started = time.perf_counter()
        reasons: Counter[str] = Counter()
        max_runs = max_words = 0.0
        margin = math.inf
        for i in range(args.keys):
            key = key_matching(regex, rng, extra=0 if i % 2 else 64)
            body = key_body(key, name, catalogue)
            reason = fixture_reason(body)
            if reason is not None:
                reasons[reason.split(" '")[0]] += 1
            runs = run_share(body)
            if len(body) >= SHORTEST:
                runs = max(runs, (run_share(body[0::2]) + run_share(body[1::2])) / 2)
                max_words = max(max_words, word_share(body))
            max_runs = max(max_runs, runs)
            margin = min(margin, entropy(body) - min(ENTROPY_CEILING, math.log2(len(body)) - 2))
        found = sum(reasons.values())
        total += args.keys
        taken += found
        print(f"{name:<22} {args.keys:>7} {found:>8} {max_runs:>9.2f} {max_words:>10.2f} {margin:>13.2f} "
              f"{time.perf_counter() - started:>8.1f}" + (f"  {dict(reasons)}" if reasons else ""))
    print(f"{'all':<22} {total:>7} {taken:>8}   recall {1 - taken / max(total, 1):.6f}")
    return 1 if taken else 0


if __name__ == "__main__":
    sys.exit(main())

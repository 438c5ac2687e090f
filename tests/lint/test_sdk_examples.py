"""Every billable call in the openai and anthropic SDK examples is found, and nothing else.

Needs the examples and their ground truth (benchmarks/sdk_examples_recall.py fetches the
sdists); point ATTRLINT_SDK_EXAMPLES at a directory holding ground_truth.json and
dl/openai-*/examples, dl/anthropic-*/examples."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("ATTRLINT_SDK_EXAMPLES", "/work/research/sdk-examples"))
pytestmark = pytest.mark.skipif(not (ROOT / "ground_truth.json").is_file(), reason="SDK examples not available")


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_sdk_examples(sdk):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from sdk_examples_recall import expected_calls, found_calls

    truth = json.loads((ROOT / "ground_truth.json").read_text())
    examples = next((ROOT / "dl").glob(f"{sdk}-*/examples"))
    found = found_calls(examples, sdk)
    expected = expected_calls(truth, sdk)
    assert sorted(expected.keys() - found.keys()) == []
    assert sorted(found.keys() - expected.keys()) == []

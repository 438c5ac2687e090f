"""Every billable call in the openai and anthropic SDK examples is found, and nothing else.

Needs the examples and their ground truth (benchmarks/sdk_examples_recall.py fetches the
sdists); point ATTRLINT_SDK_EXAMPLES at a directory holding ground_truth.json and
dl/openai-*/examples, dl/anthropic-*/examples."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.cli import ROOT

EXAMPLES = os.environ.get("ATTRLINT_SDK_EXAMPLES")
pytestmark = pytest.mark.skipif(
    not EXAMPLES,
    reason="set ATTRLINT_SDK_EXAMPLES to a directory holding ground_truth.json and dl/<sdk>-*/examples "
           "(benchmarks/sdk_examples_recall.py builds it)",
)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_sdk_examples(sdk, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from sdk_examples_recall import expected_calls, found_calls

    directory = Path(EXAMPLES)
    ground_truth = directory / "ground_truth.json"
    assert ground_truth.is_file(), f"ATTRLINT_SDK_EXAMPLES={EXAMPLES} has no ground_truth.json"
    truth = json.loads(ground_truth.read_text())
    examples = next((directory / "dl").glob(f"{sdk}-*/examples"))
    found = found_calls(examples, sdk)
    expected = expected_calls(truth, sdk)
    assert sorted(expected.keys() - found.keys()) == []
    assert sorted(found.keys() - expected.keys()) == []

"""Catalogue and runtime in one place: every SDK the linter's catalogue knows is either recorded
(each of its methods proven here, sync, async and streaming, under instrument() and install()),
recorded through the SDKs it is built on, or listed as knowingly unsupported with a reason. A new
catalogue entry fails this test until someone decides. The README's matrix is this table."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import coverage, fake_api
from support.coverage import PATHS
from support.ledgers import rows

from attrlint.core.catalogue import load_catalogue
from attrlint.runtime import attribution, install, instrument
from attrlint.runtime.providers import runtime_data

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_catalogue_sdk_is_decided():
    data = runtime_data().sdks
    catalogue = load_catalogue().sdks
    undecided = sorted(set(catalogue) - set(data))
    assert not undecided, f"add [sdks.NAME] to attrlint/core/data/runtime.toml for: {', '.join(undecided)}"
    assert not set(data) - set(catalogue), "runtime.toml names SDKs the catalogue does not have"
    for name, entry in data.items():
        kind = entry.get("runtime")
        assert kind in ("recorded", "through", "unsupported"), (name, kind)
        if kind == "unsupported":
            assert entry.get("reason"), f"{name}: an unsupported SDK needs its reason"
        if kind == "through":
            assert entry.get("via") and all(data[v]["runtime"] == "recorded" for v in entry["via"]), name


def test_every_method_of_a_recorded_sdk_is_proven_or_listed_unsupported():
    data = runtime_data().sdks
    proven = {(p.sdk, p.method) for p in PATHS}
    for name, sdk in load_catalogue().sdks.items():
        if data[name]["runtime"] != "recorded":
            continue
        listed = data[name].get("unsupported-methods", {})
        for method in [*sdk.methods, *sdk.functions]:
            assert (name, method) in proven or method in listed, (
                f"{name} {method}: the linter verifies it; add a case to tests/support/coverage.py or list it "
                f"under [sdks.{name}.unsupported-methods] in runtime.toml with the reason")


def _client(path: coverage.Path_, api: fake_api.MockAPI):
    asynchronous = path.variant.startswith("async")
    if path.sdk == "openai":
        return fake_api.openai_client(api, asynchronous=asynchronous)
    return fake_api.anthropic_client(api, asynchronous=asynchronous)


@pytest.mark.parametrize("hook", ["instrument", "install"])
@pytest.mark.parametrize("path", PATHS, ids=[f"{p.sdk} {p.method} {p.variant}" for p in PATHS])
def test_call_path_is_recorded(path, hook, ledger):
    api = fake_api.MockAPI()
    client = _client(path, api)
    if hook == "instrument":
        client = instrument(client, agent_id="coverage", ledger=ledger)
    else:
        install(ledger=ledger, agent_id="coverage")
    with attribution(ticket_id="T-1", customer_id="acme"):
        coverage.run_path(path, client)
    found = rows(ledger)
    assert len(found) == path.rows, found
    (record,) = found
    assert record.operation == path.operation and record.agent_id == "coverage"
    assert record.status == ("ok" if path.priced else "unpriced"), record
    assert (record.cost is not None and record.cost > 0) == path.priced


def test_readme_matrix_is_generated_from_this_table():
    block = coverage.readme_block(README.read_text(encoding="utf-8"))
    assert block is not None, "README.md has no coverage-matrix block"
    assert block == coverage.render_matrix(), "regenerate it: cd tests && PYTHONPATH=.. python -m support.coverage ../README.md"

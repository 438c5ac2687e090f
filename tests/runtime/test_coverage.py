"""Catalogue and runtime in one place: every SDK the linter's catalogue knows is either recorded
(each of its methods proven here, sync, async and streaming, under instrument() and install()),
recorded through the SDKs it is built on, or listed as knowingly unsupported with a reason. A new
catalogue entry fails this test until someone decides. The README's matrix is this table."""

from __future__ import annotations

from pathlib import Path

from typing import Any

import pytest
from support import coverage, fake_api, fake_bedrock, fake_sdks
from support.coverage import PATHS
from support.fake_sdks import Servers, litellm_settled
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
        assert kind in ("recorded", "through", "unverified", "unsupported"), (name, kind)
        if kind in ("unsupported", "unverified"):
            assert entry.get("reason"), f"{name}: an {kind} SDK needs its reason"
        if kind in ("through", "unverified"):
            assert entry.get("via") and all(data[v]["runtime"] == "recorded" for v in entry["via"]), name
        if kind == "through":
            assert entry.get("proven-by"), f"{name}: a `through` SDK names the tests that prove it"


def test_through_claims_name_tests_that_exist():
    """`proven-by` is not a comment: each test it names is in the suite."""
    import ast

    root = README.parent
    for name, entry in runtime_data().sdks.items():
        for proof in entry.get("proven-by", ()):
            path, _, function = proof.partition("::")
            tree = ast.parse((root / path).read_text(encoding="utf-8"))
            defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
            assert function in defined, f"{name}: {proof} does not exist"


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


def _client(path: coverage.Path_, servers: Servers) -> Any:
    """The fake client a path runs on."""
    kind = path.client or path.sdk
    asynchronous = path.variant.startswith("async")
    if kind == "openai":
        return fake_api.openai_client(servers.api, asynchronous=asynchronous)
    if kind == "anthropic":
        return fake_api.anthropic_client(servers.api, asynchronous=asynchronous)
    if kind == "bedrock":
        return fake_bedrock.bedrock_client(servers.bedrock)
    if kind.startswith("google-genai"):
        return fake_sdks.genai_client(servers.gemini, vertex=kind.endswith("vertex"))
    if kind == "mistral":
        return fake_sdks.mistral_client(servers.mistral)
    if kind.startswith("cohere"):
        return fake_sdks.cohere_client(servers.cohere, asynchronous=kind.endswith("async"), v1=kind.endswith("v1"))
    import litellm

    if kind == "litellm-router":
        return litellm.Router(model_list=ROUTER_DEPLOYMENTS)
    return litellm


ROUTER_DEPLOYMENTS = [
    {"model_name": "claude", "litellm_params": {"model": "anthropic/claude-sonnet-4-6"}},
    {"model_name": "embed", "litellm_params": {"model": "cohere/embed-v4.0"}},
    {"model_name": "gpt", "litellm_params": {"model": "gpt-4o"}},
    {"model_name": "instruct", "litellm_params": {"model": "gpt-3.5-turbo-instruct"}},
    {"model_name": "image", "litellm_params": {"model": "gpt-image-1"}},
    {"model_name": "whisper", "litellm_params": {"model": "whisper-1"}},
    {"model_name": "tts", "litellm_params": {"model": "tts-1"}},
    {"model_name": "rerank", "litellm_params": {"model": "cohere/rerank-v3.5"}},
]
CASES = [(path, hook) for path in PATHS for hook in ("instrument", "install") if hook in path.hooks]


@pytest.mark.parametrize(("path", "hook"), CASES, ids=[f"{p.sdk} {p.method} {p.variant} {h}" for p, h in CASES])
def test_call_path_is_recorded(path, hook, ledger, provider_keys):
    servers = Servers()
    with servers.transports():  # litellm's and the frameworks' own HTTP clients answer from the fakes too
        client = _client(path, servers)
        if hook == "instrument":
            client = instrument(client, agent_id="coverage", ledger=ledger)
        else:
            install(ledger=ledger, agent_id="coverage")
        with attribution(ticket_id="T-1", customer_id="acme"):
            coverage.run_path(path, client)
        litellm_settled()
    found = rows(ledger)
    assert len(found) == path.rows, found
    (record,) = found
    assert record.operation == path.operation and record.agent_id == "coverage"
    priced = path.priced_under(hook)
    assert record.status == ("ok" if priced else "unpriced"), record
    assert (record.cost is not None and record.cost > 0) == priced


def test_readme_matrix_is_generated_from_this_table():
    block = coverage.readme_block(README.read_text(encoding="utf-8"))
    assert block is not None, "README.md has no coverage-matrix block"
    assert block == coverage.render_matrix(), "regenerate it: cd tests && PYTHONPATH=.. python -m support.coverage ../README.md"

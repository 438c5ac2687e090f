"""`attrlint ledger import-batch` and the report's notes on unpriced and estimated calls."""

from __future__ import annotations

import json

from support.fake_api import ANTHROPIC_USAGE, CHAT_USAGE

from attrlint.ledger import Ledger


def _write(path, lines):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_import_openai_batch_results_with_request_metadata(tmp_path, run_cli):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    results = _write(tmp_path / "out.jsonl", [
        {"id": "batch_req_1", "custom_id": "a", "error": None, "response": {"status_code": 200, "request_id": "r1",
         "body": {"object": "chat.completion", "created": 1780000000, "model": "gpt-4o-mini-2024-07-18",
                  "usage": CHAT_USAGE}}},
        {"id": "batch_req_2", "custom_id": "b", "error": {"code": "server_error"}, "response": {"status_code": 500,
         "body": {}}},
    ])
    requests = _write(tmp_path / "in.jsonl", [
        {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "gpt-4o-mini", "metadata": {"ticket_id": "T-5"}}}])
    result = run_cli("ledger", "import-batch", str(results), "--provider", "openai", "--requests", str(requests),
                     "--batch-id", "batch_1", "--agent", "nightly", "--field", "customer_id=acme", "--ledger", url,
                     cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "recorded 2 batch result(s)" in result.output
    book = Ledger(url)
    ok, failed = sorted(book.records(), key=lambda r: r.status != "ok")
    book.close()
    assert (ok.status, ok.service_tier, ok.batch_id, ok.ticket_id, ok.customer_id, ok.agent_id) == (
        "ok", "batch", "batch_1", "T-5", "acme", "nightly")
    assert ok.metadata["custom_id"] == "a" and ok.cost > 0
    assert (failed.status, failed.cost) == ("error", 0)


def test_import_anthropic_results_bad_lines_fail_with_the_line(tmp_path, run_cli):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    results = _write(tmp_path / "out.jsonl", [{"custom_id": "q", "result": {"type": "succeeded", "message": {
        "id": "msg_1", "model": "claude-sonnet-4-5", "usage": ANTHROPIC_USAGE}}}])
    assert run_cli("ledger", "import-batch", str(results), "--provider", "anthropic", "--ledger", url,
                   cwd=tmp_path).exit_code == 0
    (tmp_path / "bad.jsonl").write_text('{"custom_id": "q"}\nnot json\n')
    result = run_cli("ledger", "import-batch", str(tmp_path / "bad.jsonl"), "--provider", "anthropic",
                     "--ledger", url, cwd=tmp_path)
    assert result.exit_code == 2 and "bad.jsonl:2: not a JSON line" in result.output


def test_report_shows_unpriced_and_estimated_calls_apart(tmp_path, run_cli):
    from decimal import Decimal

    url = f"sqlite:///{tmp_path / 'l.db'}"
    book = Ledger(url)
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a", cost=Decimal("1.5"))
    book.record(provider="openai", operation="chat", model="acme-llm", agent_id="a", input_tokens=10)
    book.record(provider="openai", operation="chat", model="gpt-4o", agent_id="a", input_tokens=1000,
                status="incomplete", estimated=True)
    book.record(provider="openai", operation="responses", model="gpt-4o", agent_id="a", status="pending")
    book.close()
    result = run_cli("ledger", "report", "--ledger", url, cwd=tmp_path)
    assert result.exit_code == 0
    assert "note: 1 unpriced call(s) not in the totals" in result.output
    assert "note: 1 pending call(s)" in result.output
    assert "note: 1 call(s) priced from a local token estimate, $0.002500" in result.output

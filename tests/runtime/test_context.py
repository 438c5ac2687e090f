"""`attribution()` across nesting, threads and asyncio tasks; lazy imports."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import attrlint
from attrlint.runtime import attribution, current, instrument

MESSAGES = [{"role": "user", "content": "hi"}]


def test_nesting_overrides_and_restores():
    with attribution(ticket_id="T-1", customer_id="acme"):
        with attribution(ticket_id="T-2", feature="x"):
            assert dict(current()) == {"ticket_id": "T-2", "customer_id": "acme", "feature": "x"}
        assert dict(current()) == {"ticket_id": "T-1", "customer_id": "acme"}
    assert dict(current()) == {}


def test_threads_do_not_see_each_other():
    seen = {}
    barrier = threading.Barrier(8)

    def work(i):
        with attribution(ticket_id=f"T-{i}"):
            barrier.wait()
            seen[i] = current()["ticket_id"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {i: f"T-{i}" for i in range(8)}


def test_asyncio_tasks_each_record_their_own_fields(async_openai_client, ledger):
    client = instrument(async_openai_client, agent_id="triage", ledger=ledger)

    async def one(i):
        async with attribution(ticket_id=f"T-{i}", customer_id=f"c-{i % 3}"):
            await asyncio.sleep(0)
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    async def main():
        await asyncio.gather(*(one(i) for i in range(50)))

    asyncio.run(main())
    ledger.flush()
    records = list(ledger.records())
    assert sorted(r.ticket_id for r in records) == sorted(f"T-{i}" for i in range(50))
    assert all(r.customer_id == f"c-{int(r.ticket_id[2:]) % 3}" for r in records)


def test_instrument_argument_is_lowest_priority(openai_client, ledger):
    client = instrument(openai_client, agent_id="triage", ledger=ledger)
    with attribution(agent_id="router", ticket_id="T-1", customer_id="acme"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    ledger.flush()
    (record,) = ledger.records()
    assert record.agent_id == "router" and record.agent_source == "context"


def test_importing_the_runtime_loads_no_sdk_driver_or_price_table():
    code = ("import sys, attrlint.runtime, attrlint.ledger; "
            "bad = [m for m in ('openai', 'anthropic', 'psycopg', 'genai_prices', 'httpx2') if m in sys.modules]; "
            "print(bad)")
    root = str(Path(attrlint.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"

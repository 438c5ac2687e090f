"""`attrlint server`: time from didChange to the diagnostics of that version.

Starts the server over stdio with pygls's client, opens a generated 2,000-line module full
of LLM calls (about 260 findings), then:

- isolated edits: one didChange, wait for its diagnostics, pause, repeat (the editor case
  of an edit now and then);
- a burst: 20 changes 10 ms apart (typing), time from the last change to its diagnostics.

It prints the figures and, for reference, the per-file check of the same text in-process
(the floor: the server's own overhead is the difference). Goal: under 100 ms per isolated
edit for the per-file rules.

    python benchmarks/lsp_bench.py [--edits 40] [--lines 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import BaseLanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parent.parent

HANDLER = '''
def handler_{i}(ticket, question):
    """Answer one ticket."""
    prompt = f"Ticket {{ticket.id}}: {{question}}"
    messages = [{{"role": "system", "content": "be brief"}}, {{"role": "user", "content": prompt}}]
    if ticket.priority > {p}:
        messages.append({{"role": "user", "content": "urgent"}})
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        metadata={{"ticketId": ticket.id, "customer_id": ticket.customer, "agent_id": "support"}},
    )
    other = litellm.completion(model="m", messages=messages)
    total = sum(len(m["content"]) for m in messages)
    return response, other, total
'''


def module(lines: int) -> str:
    parts = ["import os\nimport litellm\nfrom openai import OpenAI\n\n"
             "client = OpenAI(api_key=os.environ['OPENAI_KEY_SUPPORT'])\n"]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(textwrap.dedent(HANDLER.format(i=i, p=i % 5)))
        i += 1
    return "".join(parts)


def edited(text: str, n: int) -> str:
    return text.replace('"be brief"', f'"be brief {n}"', 1)


async def bench(edits: int, lines: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("[tool.attrlint]\n")
        text = module(lines)
        path = root / "big.py"
        path.write_text(text)
        uri = from_fs_path(str(path))
        client = BaseLanguageClient("lsp-bench", "1")
        arrived: dict[int, float] = {}
        counts: dict[int, int] = {}
        event = asyncio.Event()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            if params.uri == uri and params.version is not None:
                arrived.setdefault(params.version, time.perf_counter())
                counts[params.version] = len(params.diagnostics)
                event.set()

        env = {"PYTHONPATH": str(ROOT)}
        import os

        await client.start_io(sys.executable, "-m", "attrlint", "server", cwd=tmp, env={**os.environ, **env})
        await client.initialize_async(types.InitializeParams(
            process_id=None, root_uri=from_fs_path(tmp), capabilities=types.ClientCapabilities(),
            initialization_options={"project": False}))
        client.initialized(types.InitializedParams())

        async def wait_for(version: int) -> None:
            while version not in arrived:
                event.clear()
                await asyncio.wait_for(event.wait(), 60)

        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text)))
        await wait_for(1)
        version = 1
        isolated = []
        for n in range(edits):
            version += 1
            await asyncio.sleep(0.15)
            sent = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited(text, n))]))
            await wait_for(version)
            isolated.append((arrived[version] - sent) * 1000)
        bursts = []
        for b in range(5):
            await asyncio.sleep(0.3)
            for k in range(20):
                version += 1
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited(text, 1000 + b * 20 + k))]))
                last = time.perf_counter()
                await asyncio.sleep(0.01)
            await wait_for(version)
            bursts.append((arrived[version] - last) * 1000)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()

    from attrlint.core.config import Config
    from attrlint.lint.engine import Linter
    from attrlint.lint.suppression import Options

    linter = Linter(Config(), Options())
    inproc = []
    for n in range(edits):
        started = time.perf_counter()
        linter.lint_text(edited(text, n), "big.py")
        inproc.append((time.perf_counter() - started) * 1000)
    return {"isolated": isolated, "burst": bursts, "inproc": inproc, "findings": [counts.get(1, 0)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    result = asyncio.run(bench(args.edits, args.lines))

    def row(name: str, values: list[float]) -> str:
        values = sorted(values)
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        return (f"{name:<48} median {statistics.median(values):7.1f} ms   p90 {p90:7.1f} ms   "
                f"min {values[0]:7.1f} ms   max {values[-1]:7.1f} ms   (n={len(values)})")

    print(f"{args.lines}-line module, {result['findings'][0]} findings per check")
    print(row("didChange -> diagnostics, isolated edits", result["isolated"]))
    print(row("last of 20 changes 10 ms apart -> diagnostics", result["burst"]))
    print(row("per-file check in-process (the floor)", result["inproc"]))
    median = statistics.median(result["isolated"])
    floor = statistics.median(result["inproc"])
    print(f"server overhead over the floor: {median - floor:.1f} ms ({median / floor:.2f}x); "
          f"goal < 100 ms per isolated edit: {'met' if median < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()

"""The runtime's coverage table: each SDK call path the runtime records, with its sync, async
and streaming variants, run against the mock API by tests/runtime/test_coverage.py under
`instrument()` and under `install()`. The README's coverage matrix is rendered from this table
(`render_matrix`), and the test fails when the README says anything else.

Regenerate the README block with: cd tests && PYTHONPATH=.. python -m support.coverage ../README.md"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MESSAGES = [{"role": "user", "content": "hi"}]
BEGIN = "<!-- coverage-matrix: generated from tests/support/coverage.py; do not edit -->"
END = "<!-- /coverage-matrix -->"


@dataclass(frozen=True)
class Path_:
    sdk: str  # the catalogue's [sdks.NAME]
    method: str  # the catalogue's method path
    variant: str  # sync, async, stream, async stream
    run: Callable[[Any], Any]  # (client) -> result, possibly awaitable
    operation: str  # the ledger operation it records
    priced: bool = True
    rows: int = 1


def _consume(result: Any) -> Any:
    if inspect.isawaitable(result):
        return result
    if hasattr(result, "__iter__") and not isinstance(result, (dict, list, str, bytes)) and \
            type(result).__name__.endswith(("Stream", "Manager")):
        with result as stream:
            return list(stream)
    return result


async def _aconsume(result: Any) -> Any:
    result = await result if inspect.isawaitable(result) else result
    if hasattr(result, "__aiter__"):
        return [item async for item in result]
    return result


def _manager(result: Any) -> Any:
    with result as stream:
        return list(stream)


async def _amanager(result: Any) -> Any:
    async with result as stream:
        return [item async for item in stream]


def _image_file() -> tuple[str, bytes, str]:
    return ("cat.png", b"\x89PNG fake", "image/png")


def _openai(method: str, operation: str, kwargs: dict[str, Any], *, stream: bool = True, manager: bool = False,
            priced: bool = True) -> list[Path_]:
    def call(client: Any, **extra: Any) -> Any:
        target = client
        for part in method.split("."):
            target = getattr(target, part)
        return target(**kwargs, **extra)

    paths = [Path_("openai", method, "sync", lambda c: call(c), operation, priced),
             Path_("openai", method, "async", lambda c: call(c), operation, priced)]
    if manager:
        paths += [Path_("openai", method, "stream", lambda c: _manager(call(c)), operation, priced),
                  Path_("openai", method, "async stream", lambda c: _amanager(call(c)), operation, priced)]
    elif stream:
        paths += [Path_("openai", method, "stream", lambda c: list(call(c, stream=True)), operation, priced),
                  Path_("openai", method, "async stream", lambda c: _aconsume(call(c, stream=True)), operation,
                        priced)]
    return paths


def _anthropic(method: str, *, manager: bool = False, stream: bool = True) -> list[Path_]:
    kwargs = {"model": "claude-sonnet-4-6", "max_tokens": 50, "messages": MESSAGES}

    def call(client: Any, **extra: Any) -> Any:
        target = client
        for part in method.split("."):
            target = getattr(target, part)
        return target(**kwargs, **extra)

    paths = [Path_("anthropic", method, "sync", lambda c: call(c), "messages"),
             Path_("anthropic", method, "async", lambda c: call(c), "messages")]
    if manager:
        paths += [Path_("anthropic", method, "stream", lambda c: _manager(call(c)), "messages"),
                  Path_("anthropic", method, "async stream", lambda c: _amanager(call(c)), "messages")]
    elif stream:
        paths += [Path_("anthropic", method, "stream", lambda c: list(call(c, stream=True)), "messages"),
                  Path_("anthropic", method, "async stream", lambda c: _aconsume(call(c, stream=True)), "messages")]
    return paths


def _openai_batch(client: Any) -> Any:
    async def run_async() -> None:
        batch = await client.batches.create(input_file_id="file-in", endpoint="/v1/chat/completions",
                                            completion_window="24h")
        await client.batches.retrieve(batch.id)
        await (await client.files.content("file-out")).aread()

    if inspect.iscoroutinefunction(type(client).request):
        return run_async()
    batch = client.batches.create(input_file_id="file-in", endpoint="/v1/chat/completions", completion_window="24h")
    client.batches.retrieve(batch.id)
    return client.files.content("file-out").read()


def _anthropic_batch(client: Any) -> Any:
    requests = [{"custom_id": "q1", "params": {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": MESSAGES,
                                               "metadata": {"ticket_id": "T-7"}}}]

    async def run_async() -> None:
        await client.messages.batches.create(requests=requests)
        async for _ in await client.messages.batches.results("msgbatch_1"):
            pass

    if inspect.iscoroutinefunction(type(client).request):
        return run_async()
    client.messages.batches.create(requests=requests)
    return list(client.messages.batches.results("msgbatch_1"))


CHAT = {"model": "gpt-4o", "messages": MESSAGES}
PATHS: list[Path_] = [
    *_openai("chat.completions.create", "chat", CHAT),
    *_openai("chat.completions.parse", "chat", CHAT, stream=False),
    *_openai("chat.completions.stream", "chat", CHAT, stream=False, manager=True)[2:],
    *_openai("beta.chat.completions.create", "chat", CHAT, stream=False),
    *_openai("beta.chat.completions.parse", "chat", CHAT, stream=False),
    *_openai("beta.chat.completions.stream", "chat", CHAT, stream=False, manager=True)[2:],
    *_openai("responses.create", "responses", {"model": "gpt-4o", "input": "hi"}),
    *_openai("beta.responses.create", "responses", {"model": "gpt-4o", "input": "hi"}, stream=False),
    *_openai("responses.parse", "responses", {"model": "gpt-4o", "input": "hi"}, stream=False),
    *_openai("responses.stream", "responses", {"model": "gpt-4o", "input": "hi"}, stream=False, manager=True)[2:],
    *_openai("completions.create", "completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"},
             stream=False),
    *_openai("embeddings.create", "embeddings", {"model": "text-embedding-3-small", "input": "hi"}, stream=False),
    *_openai("images.generate", "images", {"model": "gpt-image-1", "prompt": "a cat"}, stream=False),
    *_openai("images.edit", "images", {"model": "gpt-image-1", "prompt": "a cat", "image": _image_file()},
             stream=False),
    *_openai("audio.speech.create", "audio", {"model": "tts-1", "voice": "alloy", "input": "hello"}, stream=False),
    *_openai("audio.transcriptions.create", "audio", {"model": "whisper-1", "file": ("a.mp3", b"ID3")},
             stream=False),
    *_openai("audio.translations.create", "audio", {"model": "whisper-1", "file": ("a.mp3", b"ID3")},
             stream=False),
    Path_("openai", "batches.create", "sync", _openai_batch, "chat"),
    Path_("openai", "batches.create", "async", _openai_batch, "chat"),
    *_anthropic("messages.create"),
    *_anthropic("messages.stream", stream=False, manager=True)[2:],
    *_anthropic("messages.parse", stream=False),
    *_anthropic("beta.messages.create"),
    *_anthropic("beta.messages.stream", stream=False, manager=True)[2:],
    *_anthropic("beta.messages.parse", stream=False),
    Path_("anthropic", "messages.batches.create", "sync", _anthropic_batch, "messages"),
    Path_("anthropic", "messages.batches.create", "async", _anthropic_batch, "messages"),
]


def render_matrix() -> str:
    """The README's coverage matrix, from PATHS and runtime.toml."""
    from attrlint.core.catalogue import load_catalogue
    from attrlint.runtime.providers import runtime_data

    lines = [BEGIN, "", "| SDK | call | variants | instrument() | install() | priced |", "|---|---|---|---|---|---|"]
    by_method: dict[tuple[str, str], list[Path_]] = {}
    for path in PATHS:
        by_method.setdefault((path.sdk, path.method), []).append(path)
    for (sdk, method), paths in by_method.items():
        variants = ", ".join(p.variant for p in paths)
        priced = "yes" if all(p.priced for p in paths) else "no (genai-prices has no price; recorded unpriced)"
        lines.append(f"| {sdk} | `{method}` | {variants} | yes | yes | {priced} |")
    data = runtime_data().sdks
    for name in load_catalogue().sdks:
        entry = data.get(name, {})
        for method, reason in entry.get("unsupported-methods", {}).items():
            lines.append(f"| {name} | `{method}` | - | no | no | - ({reason}) |")
        if entry.get("runtime") == "through":
            via = ", ".join(entry["via"])
            note = f" ({entry['attribution']})" if "attribution" in entry else ""
            lines.append(f"| {name} | its model calls | through {via} | the {via} client it is given | yes | "
                         f"as {via}{note} |")
        elif entry.get("runtime") == "unsupported":
            lines.append(f"| {name} | all | - | no | no | - ({entry['reason']}) |")
    lines += ["", END]
    return "\n".join(lines)


def readme_block(text: str) -> str | None:
    if BEGIN not in text or END not in text:
        return None
    return text[text.index(BEGIN):text.index(END) + len(END)]


def write(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    old = readme_block(text)
    if old is None:
        raise SystemExit(f"{readme}: no coverage-matrix block; add the BEGIN and END markers")
    readme.write_text(text.replace(old, render_matrix()), encoding="utf-8")


def run_path(path: Path_, client: Any) -> Any:
    result = path.run(client)
    if inspect.isawaitable(result):
        return asyncio.run(_aconsume(result))
    return result


if __name__ == "__main__":
    write(Path(sys.argv[1]))

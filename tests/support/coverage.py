"""The runtime's coverage table: each SDK call path the runtime records, with its sync, async
and streaming variants, run against fake APIs (tests/support/fake_api.py, fake_bedrock.py,
fake_sdks.py) by tests/runtime/test_coverage.py under `instrument()` and under `install()` (where
each applies: litellm's module functions have no client, so `install()` alone). The README's
coverage matrix is rendered from this table (`render_matrix`), and the test fails when the README
says anything else.

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
    client: str = ""  # the fake client `run` gets (tests/runtime/test_coverage.py); default: `sdk`
    hooks: tuple[str, ...] = ("instrument", "install")
    unpriced_under: tuple[str, ...] = ()  # hooks under which the provider's usage does not reach attrlint

    def priced_under(self, hook: str) -> bool:
        return self.priced and hook not in self.unpriced_under


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
    requests = [{"custom_id": "q1", "params": {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": MESSAGES,
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


# -- the other SDKs ---------------------------------------------------------------------------------

def _call(method: str, kwargs: dict[str, Any], after: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    """`client.<method>(**kwargs)`, then `after(result)` (to read a stream), awaited when async."""
    def run(client: Any) -> Any:
        target = client
        for part in method.split("."):
            target = getattr(target, part)
        result = target(**kwargs)
        if after is None:
            return result
        if inspect.isawaitable(result):
            async def finish() -> Any:
                value = after(await result)
                return await value if inspect.isawaitable(value) else value
            return finish()
        return after(result)

    return run


def _read_events(key: str) -> Callable[[Any], Any]:
    return lambda response: list(response[key])


async def _aread(stream: Any) -> list[Any]:
    return [item async for item in stream]


BEDROCK_MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
BEDROCK_MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]
BEDROCK_BODY = ('{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, '
                '"messages": [{"role": "user", "content": "hi"}]}')
CONVERSE = {"modelId": BEDROCK_MODEL, "messages": BEDROCK_MESSAGES}
INVOKE = {"modelId": BEDROCK_MODEL, "body": BEDROCK_BODY}


def _bedrock() -> list[Path_]:
    return [
        Path_("bedrock", "converse", "sync", _call("converse", CONVERSE), "chat"),
        Path_("bedrock", "converse_stream", "stream", _call("converse_stream", CONVERSE, _read_events("stream")),
              "chat"),
        Path_("bedrock", "invoke_model", "sync", _call("invoke_model", INVOKE, lambda r: r["body"].read()), "chat"),
        Path_("bedrock", "invoke_model_with_response_stream", "stream",
              _call("invoke_model_with_response_stream", INVOKE, _read_events("body")), "chat"),
    ]


GEMINI = {"model": "gemini-2.5-flash", "contents": "hi"}


def _genai() -> list[Path_]:
    from google.genai import types

    labelled = {**GEMINI, "config": types.GenerateContentConfig(labels={"ticket_id": "T-1"})}
    embed = {"model": "gemini-embedding-001", "contents": "hi"}
    image = {"model": "imagen-3.0-generate-002", "prompt": "a cat"}
    return [
        Path_("google-genai", "models.generate_content", "sync", _call("models.generate_content", GEMINI), "chat"),
        Path_("google-genai", "models.generate_content", "Vertex AI, labels", _call("models.generate_content",
                                                                                   labelled), "chat",
              client="google-genai-vertex"),
        Path_("google-genai", "models.generate_content_stream", "stream",
              _call("models.generate_content_stream", GEMINI, list), "chat"),
        Path_("google-genai", "aio.models.generate_content", "async", _call("aio.models.generate_content", GEMINI),
              "chat"),
        Path_("google-genai", "aio.models.generate_content_stream", "async stream",
              _call("aio.models.generate_content_stream", GEMINI, _aread), "chat"),
        Path_("google-genai", "models.embed_content", "sync", _call("models.embed_content", embed), "embeddings"),
        Path_("google-genai", "aio.models.embed_content", "async", _call("aio.models.embed_content", embed),
              "embeddings"),
        Path_("google-genai", "models.generate_images", "sync", _call("models.generate_images", image), "images",
              priced=False, client="google-genai-vertex"),
        Path_("google-genai", "aio.models.generate_images", "async", _call("aio.models.generate_images", image),
              "images", priced=False, client="google-genai-vertex"),
    ]


MISTRAL = {"model": "mistral-large-latest", "messages": MESSAGES}


def _mistral() -> list[Path_]:
    fim = {"model": "codestral-latest", "prompt": "def f(", "suffix": "return 1"}
    agent = {"agent_id": "ag-1", "messages": MESSAGES}
    embed = {"model": "mistral-embed", "inputs": ["hi"]}
    with_stream = (lambda stream: _manager(stream))
    return [
        Path_("mistral", "chat.complete", "sync", _call("chat.complete", MISTRAL), "chat"),
        Path_("mistral", "chat.complete_async", "async", _call("chat.complete_async", MISTRAL), "chat"),
        Path_("mistral", "chat.stream", "stream", _call("chat.stream", MISTRAL, with_stream), "chat"),
        Path_("mistral", "chat.stream_async", "async stream", _call("chat.stream_async", MISTRAL, _aread), "chat"),
        Path_("mistral", "fim.complete", "sync", _call("fim.complete", fim), "completions"),
        Path_("mistral", "fim.complete_async", "async", _call("fim.complete_async", fim), "completions"),
        Path_("mistral", "agents.complete", "sync", _call("agents.complete", agent), "chat"),
        Path_("mistral", "agents.complete_async", "async", _call("agents.complete_async", agent), "chat"),
        Path_("mistral", "embeddings.create", "sync", _call("embeddings.create", embed), "embeddings"),
        Path_("mistral", "embeddings.create_async", "async", _call("embeddings.create_async", embed), "embeddings"),
    ]


COHERE = {"model": "command-a-03-2025", "messages": MESSAGES}


def _cohere() -> list[Path_]:
    embed = {"model": "embed-v4.0", "texts": ["hi"], "input_type": "search_query", "embedding_types": ["float"]}
    rerank = {"model": "rerank-v3.5", "query": "q", "documents": ["a"]}
    v1 = {"model": "command-r-plus-08-2024", "message": "hi"}
    generate = {"model": "command-r-plus-08-2024", "prompt": "hi"}
    return [
        Path_("cohere", "chat", "sync (ClientV2)", _call("chat", COHERE), "chat"),
        Path_("cohere", "chat", "async (AsyncClientV2)", _call("chat", COHERE), "chat", client="cohere-async"),
        Path_("cohere", "chat", "sync (Client, v1)", _call("chat", v1), "chat", client="cohere-v1"),
        Path_("cohere", "chat_stream", "stream", _call("chat_stream", COHERE, list), "chat"),
        Path_("cohere", "chat_stream", "async stream", _call("chat_stream", COHERE, _aread), "chat",
              client="cohere-async"),
        Path_("cohere", "embed", "sync", _call("embed", embed), "embeddings"),
        Path_("cohere", "embed", "async", _call("embed", embed), "embeddings", client="cohere-async"),
        Path_("cohere", "generate", "sync (Client, v1)", _call("generate", generate), "completions",
              client="cohere-v1"),
        Path_("cohere", "rerank", "sync", _call("rerank", rerank), "rerank", priced=False),
    ]


LITELLM_MESSAGES = {"messages": MESSAGES}
CLAUDE = "anthropic/claude-sonnet-4-6"


def _litellm() -> list[Path_]:
    """litellm's functions (install() only: no client), over its own HTTP clients (Anthropic,
    Cohere) and over the openai SDK (OpenAI: recorded there, once); and a Router's methods."""
    import io

    chat = {"model": CLAUDE, **LITELLM_MESSAGES, "metadata": {"ticket_id": "T-1"}}
    openai_chat = {"model": "gpt-4o", **LITELLM_MESSAGES, "metadata": {"ticket_id": "T-1"}}
    embed = {"model": "cohere/embed-v4.0", "input": ["hi"]}
    openai_embed = {"model": "text-embedding-3-small", "input": ["hi"]}
    responses = {"model": "gpt-4o", "input": "hi"}
    text = {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"}
    image = {"model": "gpt-image-1", "prompt": "a cat"}
    transcription = {"model": "whisper-1", "file": ("a.mp3", b"ID3")}
    speech = {"model": "tts-1", "voice": "alloy", "input": "hello"}
    rerank = {"model": "cohere/rerank-v3.5", "query": "q", "documents": ["a"]}

    def edit(client: Any, asynchronous: bool) -> Any:
        function = client.aimage_edit if asynchronous else client.image_edit
        return function(model="gpt-image-1", prompt="a cat", image=io.BytesIO(b"\x89PNG fake"))

    def stream(function: str) -> Callable[[Any], Any]:
        return _call(function, {**chat, "stream": True}, _aread if function.startswith("a") else list)

    paths = [
        Path_("litellm", "completion", "sync (Anthropic)", _call("completion", chat), "chat"),
        Path_("litellm", "completion", "sync (OpenAI, through the openai SDK)", _call("completion", openai_chat),
              "chat"),
        Path_("litellm", "completion", "stream", stream("completion"), "chat"),
        Path_("litellm", "acompletion", "async", _call("acompletion", chat), "chat"),
        Path_("litellm", "acompletion", "async stream", stream("acompletion"), "chat"),
        Path_("litellm", "completion_with_retries", "sync", _call("completion_with_retries", chat), "chat"),
        Path_("litellm", "acompletion_with_retries", "async", _call("acompletion_with_retries", chat), "chat"),
        Path_("litellm", "embedding", "sync (Cohere)", _call("embedding", embed), "embeddings"),
        Path_("litellm", "embedding", "sync (OpenAI)", _call("embedding", openai_embed), "embeddings"),
        Path_("litellm", "aembedding", "async", _call("aembedding", embed), "embeddings"),
        Path_("litellm", "responses", "sync", _call("responses", responses), "responses"),
        Path_("litellm", "aresponses", "async", _call("aresponses", responses), "responses"),
        Path_("litellm", "text_completion", "sync", _call("text_completion", text), "completions"),
        Path_("litellm", "atext_completion", "async", _call("atext_completion", text), "completions"),
        Path_("litellm", "image_generation", "sync", _call("image_generation", image), "images"),
        Path_("litellm", "aimage_generation", "async", _call("aimage_generation", image), "images"),
        Path_("litellm", "image_edit", "sync", lambda c: edit(c, False), "images"),
        Path_("litellm", "aimage_edit", "async", lambda c: edit(c, True), "images"),
        Path_("litellm", "transcription", "sync", _call("transcription", transcription), "audio"),
        Path_("litellm", "atranscription", "async", _call("atranscription", transcription), "audio"),
        Path_("litellm", "speech", "sync", _call("speech", speech), "audio"),
        Path_("litellm", "aspeech", "async", _call("aspeech", speech), "audio"),
        Path_("litellm", "rerank", "sync", _call("rerank", rerank), "rerank", priced=False),
        Path_("litellm", "arerank", "async", _call("arerank", rerank), "rerank", priced=False),
    ]
    paths = [p.__class__(**{**p.__dict__, "hooks": ("install",)}) for p in paths]
    router = [
        ("completion", {"model": "claude", **LITELLM_MESSAGES}, "chat", True),
        ("acompletion", {"model": "claude", **LITELLM_MESSAGES}, "chat", True),
        ("embedding", {"model": "embed", "input": ["hi"]}, "embeddings", True),
        ("aembedding", {"model": "embed", "input": ["hi"]}, "embeddings", True),
        ("responses", {"model": "gpt", "input": "hi"}, "responses", True),
        ("aresponses", {"model": "gpt", "input": "hi"}, "responses", True),
        ("atext_completion", {"model": "instruct", "prompt": "hi"}, "completions", True),
        ("image_generation", {"model": "image", "prompt": "a cat"}, "images", True),
        ("aimage_generation", {"model": "image", "prompt": "a cat"}, "images", True),
        ("atranscription", {"model": "whisper", "file": ("a.mp3", b"ID3")}, "audio", True),
        ("aspeech", {"model": "tts", "voice": "alloy", "input": "hello"}, "audio", True),
        ("arerank", {"model": "rerank", "query": "q", "documents": ["a"]}, "rerank", False),
    ]
    # litellm's transcription response drops OpenAI's usage: only the openai SDK's hook (install())
    # sees the seconds billed; a Router instrumented alone records the call unpriced
    paths += [Path_("litellm", method, "Router" + (" async" if method.startswith("a") else ""),
                    _call(method, kwargs), operation, priced, client="litellm-router",
                    unpriced_under=("instrument",) if "transcription" in method else ())
              for method, kwargs, operation, priced in router]
    return paths


def other_paths() -> list[Path_]:
    """The cases of the SDKs beyond openai and anthropic (their modules load only here)."""
    return [*_bedrock(), *_genai(), *_mistral(), *_cohere(), *_litellm()]


PATHS += other_paths()


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
        if all(p.priced and not p.unpriced_under for p in paths):
            priced = "yes"
        elif any(p.priced for p in paths):
            priced = "under install() (litellm's own response drops the usage: unpriced under instrument())"
        else:
            priced = "no (genai-prices has no price; recorded unpriced)"
        instrumented = [p.variant for p in paths if "instrument" in p.hooks]
        if len(instrumented) == len(paths):
            under_instrument = "yes"
        elif instrumented:
            under_instrument = ", ".join(instrumented)
        else:
            under_instrument = "no (module functions: no client)"
        lines.append(f"| {sdk} | `{method}` | {variants} | {under_instrument} | yes | {priced} |")
    data = runtime_data().sdks
    for name in load_catalogue().sdks:
        entry = data.get(name, {})
        for method, reason in entry.get("unsupported-methods", {}).items():
            lines.append(f"| {name} | `{method}` | - | no | no | - ({reason}) |")
        for client, reason in entry.get("unsupported-clients", {}).items():
            lines.append(f"| {name} | {client} clients | - | no | no | - ({reason}) |")
        if entry.get("runtime") == "through":
            via = ", ".join(entry["via"])
            note = f" ({entry['attribution']})" if "attribution" in entry else ""
            gaps = f"; not: {entry['except']}" if "except" in entry else ""
            lines.append(f"| {name} | its model calls | through {via} | the SDK clients it is given | yes | "
                         f"as {via}{note}{gaps} |")
        elif entry.get("runtime") == "unverified":
            via = ", ".join(entry["via"])
            lines.append(f"| {name} | its model calls | through {via}, not verified | - | - | "
                         f"- ({entry['reason']}) |")
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
        return asyncio.run(_settled(_aconsume(result)))
    return result


async def _settled(work: Any) -> Any:
    """Await `work`, then let litellm's logging tasks (scheduled on this loop) finish before it closes."""
    import time

    result = await work
    pending = getattr(sys.modules.get("attrlint.runtime.sdks.litellm"), "_pending", None)
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    return result


if __name__ == "__main__":
    write(Path(sys.argv[1]))

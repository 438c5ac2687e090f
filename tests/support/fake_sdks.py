"""In-process Gemini, Mistral and Cohere APIs, the clients of their SDKs that talk to them, and
`Servers`: one of each fake (with the OpenAI/Anthropic MockAPI and the fake Bedrock) for a test,
plus `Servers.transports()`, which answers every httpx and httpx2 request in the process from
them (for litellm and the frameworks, which build their own HTTP clients). Nothing reaches a
network."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from support.fake_api import MockAPI
from support.fake_bedrock import FakeBedrock
from support.keys import fake_google_key, fake_key

GEMINI_MODEL = "gemini-2.5-flash"
GEMINI_USAGE = {"promptTokenCount": 1000, "cachedContentTokenCount": 200, "candidatesTokenCount": 50,
                "thoughtsTokenCount": 30, "totalTokenCount": 1080,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}]}
MISTRAL_USAGE = {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}
COHERE_USAGE = {"billed_units": {"input_tokens": 500, "output_tokens": 40},
                "tokens": {"input_tokens": 700, "output_tokens": 40}}


def _module(request: Any) -> Any:
    """httpx or httpx2: whichever the request came from."""
    return sys.modules[type(request).__module__.split(".", 1)[0]]


def _body(request: Any) -> dict[str, Any]:
    content = request.content
    if not content or request.headers.get("content-type", "").startswith("multipart/"):
        return {}
    try:
        return json.loads(content)
    except ValueError:
        return {}


def _streaming(module: Any, parts: list[bytes], asynchronous: bool, headers: dict[str, str]) -> Any:
    """A response whose body arrives in parts, as a real stream does (not read in advance)."""
    if asynchronous:
        async def chunks() -> Any:
            for part in parts:
                yield part

        return module.Response(200, content=chunks(), headers=headers)
    return module.Response(200, content=iter(parts), headers=headers)


@dataclass
class FakeGemini:
    """generateContent, streamGenerateContent, batchEmbedContents / embedContent and Imagen's
    predict, for the Gemini API and Vertex AI alike."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=lambda: dict(GEMINI_USAGE))
    fail_with: int | None = None

    def __call__(self, request: Any, asynchronous: bool = False) -> Any:
        module, body = _module(request), _body(request)
        path = request.url.path
        self.requests.append((path, body))
        if self.fail_with:
            return module.Response(self.fail_with, json={"error": {"code": self.fail_with, "message": "slow down",
                                                                   "status": "RESOURCE_EXHAUSTED"}})
        done = {"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "STOP"}],
                "usageMetadata": self.usage, "modelVersion": GEMINI_MODEL, "responseId": "resp-gemini-1"}
        if path.endswith(":streamGenerateContent"):
            first = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}],
                     "usageMetadata": {"promptTokenCount": self.usage["promptTokenCount"]},
                     "modelVersion": GEMINI_MODEL, "responseId": "resp-gemini-1"}
            parts = [f"data: {json.dumps(chunk)}\r\n\r\n".encode() for chunk in (first, done)]
            return _streaming(module, parts, asynchronous, {"content-type": "text/event-stream"})
        if path.endswith(":generateContent"):
            return module.Response(200, json={**done, "candidates": [
                {"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finishReason": "STOP"}]})
        if path.endswith((":batchEmbedContents", ":embedContent")):
            return module.Response(200, json={"embeddings": [{"values": [0.1, 0.2]}]})
        if path.endswith(":predict"):
            return module.Response(200, json={"predictions": [{"bytesBase64Encoded": "aGk=",
                                                               "mimeType": "image/png"}]})
        return module.Response(404, json={"error": {"code": 404, "message": "not mocked"}})


@dataclass
class FakeMistral:
    """chat (whole and streamed), FIM, agents and embeddings."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=lambda: dict(MISTRAL_USAGE))
    fail_with: int | None = None

    def __call__(self, request: Any, asynchronous: bool = False) -> Any:
        module, body = _module(request), _body(request)
        path = request.url.path
        self.requests.append((path, body))
        if self.fail_with:
            return module.Response(self.fail_with, json={"object": "error", "message": "slow down"})
        model = body.get("model") or ("codestral-latest" if "/fim/" in path else "mistral-large-latest")
        if path.endswith("/embeddings"):
            return module.Response(200, json={"id": "emb-1", "object": "list", "model": model, "data": [
                {"object": "embedding", "index": 0, "embedding": [0.1]}], "usage": {"prompt_tokens": 8,
                                                                                   "total_tokens": 8}})
        base = {"id": "cmpl-mistral-1", "created": 1700000000, "model": model}
        if body.get("stream"):
            events = [{**base, "object": "chat.completion.chunk", "choices": [
                          {"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}]},
                      {**base, "object": "chat.completion.chunk", "choices": [
                          {"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}], "usage": self.usage}]
            parts = [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]
            return _streaming(module, parts, asynchronous, {"content-type": "text/event-stream"})
        return module.Response(200, json={**base, "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
            "usage": self.usage})


@dataclass
class FakeCohere:
    """v2 chat (whole and streamed), embed and rerank; v1 chat."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=lambda: dict(COHERE_USAGE))
    fail_with: int | None = None

    def __call__(self, request: Any, asynchronous: bool = False) -> Any:
        module, body = _module(request), _body(request)
        path = request.url.path
        self.requests.append((path, body))
        headers = {"x-request-id": "req-cohere-1"}
        if self.fail_with:
            return module.Response(self.fail_with, json={"message": "slow down"}, headers=headers)
        if path.endswith("/embed"):
            return module.Response(200, headers=headers, json={
                "id": "emb-cohere-1", "embeddings": {"float": [[0.1]]}, "texts": body.get("texts") or [],
                "meta": {"billed_units": {"input_tokens": 3}}})
        if path.endswith("/rerank"):
            return module.Response(200, headers=headers, json={
                "id": "rerank-1", "results": [{"index": 0, "relevance_score": 0.9}],
                "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}})
        if body.get("stream"):
            events = [{"type": "message-start", "id": "chat-cohere-1", "delta": {"message": {"role": "assistant"}}},
                      {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hello"}}}},
                      {"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": self.usage}}]
            parts = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]
            return _streaming(module, parts, asynchronous, {**headers, "content-type": "text/event-stream"})
        if path.endswith("/v1/generate"):
            return module.Response(200, headers=headers, json={
                "id": "gen-cohere-1", "prompt": body.get("prompt"), "generations": [{"id": "g1", "text": "Hello"}],
                "meta": {"billed_units": self.usage["billed_units"]}})
        if path.endswith("/v1/chat"):
            return module.Response(200, headers=headers, json={
                "text": "Hello", "generation_id": "gen-1", "response_id": "chat-cohere-1", "finish_reason": "COMPLETE",
                "meta": {"billed_units": self.usage["billed_units"]}})
        return module.Response(200, headers=headers, json={
            "id": "chat-cohere-1", "finish_reason": "COMPLETE",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]}, "usage": self.usage})


# -- clients ----------------------------------------------------------------------------------------

def _transport(module: Any, server: Any, asynchronous: bool) -> Any:
    handler = (lambda request: server(request, True)) if asynchronous else server
    cls = module.AsyncClient if asynchronous else module.Client
    return cls(transport=module.MockTransport(handler))


def genai_client(server: FakeGemini, *, vertex: bool = False, location: str = "europe-west4") -> Any:
    """A `google.genai.Client` (the Gemini API, or Vertex AI with a fake token) answered by `server`."""
    import httpx2
    from google import genai
    from google.genai import types

    options = types.HttpOptions(httpx_client=_transport(httpx2, server, False),
                                httpx_async_client=_transport(httpx2, server, True))
    if vertex:
        from google.oauth2.credentials import Credentials

        return genai.Client(vertexai=True, project="acme-prod", location=location,
                            credentials=Credentials(token=fake_key("ya29.", 40)), http_options=options)
    return genai.Client(api_key=fake_google_key(), http_options=options)


def mistral_client(server: FakeMistral) -> Any:
    import httpx2
    from mistralai.client import Mistral

    return Mistral(api_key=fake_key("", 32), client=_transport(httpx2, server, False),
                   async_client=_transport(httpx2, server, True))


def cohere_client(server: FakeCohere, *, asynchronous: bool = False, v1: bool = False) -> Any:
    import cohere
    import httpx

    if v1:
        cls = cohere.AsyncClient if asynchronous else cohere.Client
    else:
        cls = cohere.AsyncClientV2 if asynchronous else cohere.ClientV2
    return cls(api_key=fake_key("", 40), httpx_client=_transport(httpx, server, asynchronous))


@dataclass
class Servers:
    """One of each fake API, for one test."""

    api: MockAPI = field(default_factory=MockAPI)
    bedrock: FakeBedrock = field(default_factory=FakeBedrock)
    gemini: FakeGemini = field(default_factory=FakeGemini)
    mistral: FakeMistral = field(default_factory=FakeMistral)
    cohere: FakeCohere = field(default_factory=FakeCohere)

    def route(self, request: Any, asynchronous: bool) -> Any:
        """Answer a request by its host, in the library it came from."""
        host = request.url.host
        module = _module(request)
        if host in ("api.openai.com", "api.anthropic.com"):
            answer = self.api(request)
            if module.__name__ != "httpx2":
                answer = module.Response(answer.status_code, headers=dict(answer.headers), content=answer.content)
            return answer
        if host.endswith("googleapis.com"):
            return self.gemini(request, asynchronous)
        if host == "api.mistral.ai":
            return self.mistral(request, asynchronous)
        if host.startswith("api.cohere."):
            return self.cohere(request, asynchronous)
        return module.Response(502, json={"error": f"no fake for {host}"})

    @contextlib.contextmanager
    def transports(self) -> Iterator[None]:
        """Answer every httpx and httpx2 request of the process from these fakes (and turn off
        litellm's aiohttp transport, so its async requests use httpx as well)."""
        patched: list[tuple[Any, str, Any]] = []
        for name in ("httpx", "httpx2"):
            module = __import__(name)
            for cls, method, asynchronous in ((module.HTTPTransport, "handle_request", False),
                                              (module.AsyncHTTPTransport, "handle_async_request", True)):
                patched.append((cls, method, cls.__dict__[method]))
                setattr(cls, method, self._handler(asynchronous))
        litellm = sys.modules.get("litellm")
        aiohttp_off = getattr(litellm, "disable_aiohttp_transport", None)
        if litellm is not None:
            litellm.disable_aiohttp_transport = True
        try:
            yield
        finally:
            for cls, method, original in patched:
                setattr(cls, method, original)
            if litellm is not None:
                litellm.disable_aiohttp_transport = aiohttp_off

    def _handler(self, asynchronous: bool) -> Any:
        servers = self

        if asynchronous:
            async def handle_async_request(transport: Any, request: Any) -> Any:
                await request.aread()
                return servers.route(request, True)

            return handle_async_request

        def handle_request(transport: Any, request: Any) -> Any:
            request.read()
            return servers.route(request, False)

        return handle_request


def litellm_settled(timeout: float = 10.0) -> None:
    """Wait until litellm's logger has handled every call it saw begin: litellm calls it from a
    thread pool (sync calls) or a task (async ones) after the call returns."""
    import time

    pending = getattr(sys.modules.get("attrlint.runtime.sdks.litellm"), "_pending", None)
    if pending is None:
        return
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        time.sleep(0.005)

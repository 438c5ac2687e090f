"""An in-process OpenAI/Anthropic API (httpx2.MockTransport) returning realistic bodies with usage, and SDK
clients that talk to it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx2
from support.keys import fake_anthropic_key, fake_openai_key

from attrlint.ledger import Ledger

OPENAI_MODEL = "gpt-4o-2024-08-06"
ANTHROPIC_MODEL = "claude-sonnet-4-6"

# usage reported by the mock unless a test overrides it
CHAT_USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
              "prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}
RESPONSES_USAGE = {"input_tokens": 1000, "input_tokens_details": {"cached_tokens": 400},
                   "output_tokens": 100, "output_tokens_details": {"reasoning_tokens": 30}, "total_tokens": 1100}
ANTHROPIC_USAGE = {"input_tokens": 1000, "cache_read_input_tokens": 400, "cache_creation_input_tokens": 200,
                   "output_tokens": 100, "service_tier": "standard"}


IMAGES_USAGE = {"input_tokens": 60, "input_tokens_details": {"text_tokens": 60, "image_tokens": 0},
                "output_tokens": 1056, "total_tokens": 1116}
BATCH_OUTPUT = (json.dumps({"id": "batch_req_1", "custom_id": "req-1", "error": None, "response": {
    "status_code": 200, "request_id": "req_b1", "body": {
        "id": "chatcmpl-b1", "object": "chat.completion", "created": 1780000000, "model": "gpt-4o-mini-2024-07-18",
        "choices": [], "usage": CHAT_USAGE}}}) + "\n").encode()
MESSAGE_BATCH_RESULTS = (json.dumps({"custom_id": "q1", "result": {"type": "succeeded", "message": {
    "id": "msg_b1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
    "stop_reason": "end_turn", "stop_sequence": None, "usage": ANTHROPIC_USAGE}}}) + "\n").encode()


def _sse(events: list[tuple[str | None, Any]]) -> bytes:
    out = []
    for name, data in events:
        if name:
            out.append(f"event: {name}\n")
        out.append(f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n")
    return "".join(out).encode()


@dataclass
class MockAPI:
    """Answers the covered endpoints; remembers every request it got."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_with: int | None = None
    chat_usage: dict[str, Any] = field(default_factory=lambda: dict(CHAT_USAGE))
    anthropic_usage: dict[str, Any] = field(default_factory=lambda: dict(ANTHROPIC_USAGE))
    model: str | None = None
    responses_usage: dict[str, Any] = field(default_factory=lambda: dict(RESPONSES_USAGE))
    response_output: list[Any] = field(default_factory=list)  # extra output items (web_search_call, ...)
    stream_ends: str = "completed"  # a Responses stream's last event: completed, failed or incomplete
    anthropic_stream_error: bool = False  # an `error` event after message_start
    extra: dict[str, Any] = field(default_factory=dict)  # per-endpoint bodies a test sets
    stored: dict[str, Any] = field(default_factory=dict)  # background responses and batches it was given

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        multipart = request.headers.get("content-type", "").startswith("multipart/")
        body = json.loads(request.content) if request.content and not multipart else {}
        path = request.url.path
        self.requests.append((path, body))
        if self.fail_with:
            if path.endswith("/messages"):
                err = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
                return httpx2.Response(self.fail_with, json=err, headers={"request-id": "req_err"})
            err = {"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}
            return httpx2.Response(self.fail_with, json=err, headers={"x-request-id": "req_err"})
        if path.endswith("/chat/completions"):
            return self.chat(body)
        if request.method == "GET" or path.endswith(("/batches", "/completions", "/images/generations",
                                                      "/images/edits", "/audio/transcriptions",
                                                      "/audio/translations", "/audio/speech")):
            found = self.more(request, path, body)
            if found is not None:
                return found
        if path.endswith("/responses"):
            return self.responses(body)
        if path.endswith("/embeddings"):
            return httpx2.Response(200, headers={"x-request-id": "req_emb"}, json={
                "object": "list", "model": "text-embedding-3-small",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
                "usage": {"prompt_tokens": 8, "total_tokens": 8}})
        if path.endswith("/messages"):
            return self.messages(body)
        return httpx2.Response(404, json={"error": {"message": "not mocked"}})

    # -- the other endpoints -------------------------------------------------------------------

    def more(self, request: httpx2.Request, path: str, body: dict[str, Any]) -> httpx2.Response | None:
        model = body.get("model")
        if path.endswith("/v1/completions"):
            return httpx2.Response(200, json={
                "id": "cmpl-1", "object": "text_completion", "created": 1700000000, "model": model,
                "choices": [{"index": 0, "text": "Hello", "finish_reason": "stop", "logprobs": None}],
                "usage": self.extra.get("completions_usage", {"prompt_tokens": 50, "completion_tokens": 7,
                                                               "total_tokens": 57})})
        if path.endswith(("/images/generations", "/images/edits")):
            edit = path.endswith("/edits")  # multipart: the model is in the form, and edits are gpt-image's
            usage = self.extra.get("images_usage", IMAGES_USAGE if edit or str(model).startswith("gpt-image") else None)
            return httpx2.Response(200, json={"created": 1700000000, "data": [{"b64_json": "aGk="}],
                                              **({"usage": usage} if usage else {})})
        if path.endswith(("/audio/transcriptions", "/audio/translations")):
            usage = self.extra.get("transcription_usage", {"type": "duration", "seconds": 12})
            return httpx2.Response(200, json={"text": "hello", "usage": usage})
        if path.endswith("/audio/speech"):
            return httpx2.Response(200, content=b"ID3fake-mp3", headers={"content-type": "audio/mpeg"})
        if path.endswith("/v1/batches"):
            batch = {"id": "batch_1", "object": "batch", "endpoint": body["endpoint"], "input_file_id":
                     body["input_file_id"], "completion_window": "24h", "status": "validating",
                     "created_at": 1780000000, "metadata": body.get("metadata")}
            self.stored["batch_1"] = batch
            return httpx2.Response(200, json=batch)
        if path.startswith("/v1/batches/"):
            batch = {**self.stored[path.rsplit("/", 1)[1]], "status": "completed", "output_file_id": "file-out"}
            return httpx2.Response(200, json=batch)
        if path == "/v1/files/file-out/content":
            return httpx2.Response(200, content=self.extra.get("batch_output", BATCH_OUTPUT))
        if request.method == "GET" and path.startswith("/v1/responses/"):
            stored = self.stored[path.rsplit("/", 1)[1]]
            done = self.extra.get("background_done", True)
            response = self._response("completed" if done else "in_progress", self.responses_usage if done else None)
            return httpx2.Response(200, json={**response, "id": stored["id"], "metadata": stored["metadata"],
                                              "background": True})
        if path.endswith("/v1/messages/batches"):
            self.stored["msgbatch_1"] = body
            return httpx2.Response(200, json=self._message_batch("in_progress"))
        if path.endswith("/v1/messages/batches/msgbatch_1"):
            return httpx2.Response(200, json=self._message_batch("ended"))
        if path.endswith("/v1/messages/batches/msgbatch_1/results"):
            return httpx2.Response(200, content=self.extra.get("message_batch_results", MESSAGE_BATCH_RESULTS),
                                   headers={"content-type": "application/binary"})
        return None

    def _message_batch(self, status: str) -> dict[str, Any]:
        return {"id": "msgbatch_1", "type": "message_batch", "processing_status": status,
                "request_counts": {"processing": 0, "succeeded": 2, "errored": 0, "canceled": 0, "expired": 0},
                "created_at": "2026-06-01T12:00:00Z", "expires_at": "2026-06-02T12:00:00Z",
                "ended_at": "2026-06-01T13:00:00Z" if status == "ended" else None, "archived_at": None,
                "cancel_initiated_at": None,
                "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_1/results"
                if status == "ended" else None}

    # -- openai -------------------------------------------------------------------------------

    def chat(self, body: dict[str, Any]) -> httpx2.Response:
        model = self.model or OPENAI_MODEL
        if body.get("stream"):
            base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                    "system_fingerprint": "fp_1", "service_tier": "default"}
            events: list[tuple[str | None, Any]] = [
                (None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                             "finish_reason": None}]}),
                (None, {**base, "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]}),
                (None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            ]
            if (body.get("stream_options") or {}).get("include_usage"):
                events.append((None, {**base, "choices": [], "usage": self.chat_usage}))
            events.append((None, "[DONE]"))
            return httpx2.Response(200, content=_sse(events),
                                   headers={"content-type": "text/event-stream", "x-request-id": "req_stream"})
        return httpx2.Response(200, headers={"x-request-id": "req_chat"}, json={
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": model,
            "system_fingerprint": "fp_1", "service_tier": "default",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": '{"answer": "Hello"}',
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": self.chat_usage})

    def _response(self, status: str, usage: Any) -> dict[str, Any]:
        return {
            "id": "resp_1", "object": "response", "created_at": 1700000000, "status": status,
            "model": self.model or OPENAI_MODEL, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "output": [] if status not in ("completed", "failed") else [*self.response_output, {
                "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "Hello", "annotations": []}]}],
            "usage": usage,
        }

    def responses(self, body: dict[str, Any]) -> httpx2.Response:
        if body.get("background"):
            self.stored["resp_bg"] = {"id": "resp_bg", "metadata": body.get("metadata") or {}}
            return httpx2.Response(200, json={**self._response("queued", None), "id": "resp_bg",
                                              "metadata": body.get("metadata") or {}, "background": True})
        if body.get("stream"):
            events: list[tuple[str | None, Any]] = [
                ("response.created", {"type": "response.created", "sequence_number": 0,
                                      "response": self._response("in_progress", None)}),
                ("response.output_item.added", {"type": "response.output_item.added", "sequence_number": 1,
                                                 "output_index": 0, "item": {
                                                     "type": "message", "id": "msg_1", "status": "in_progress",
                                                     "role": "assistant", "content": []}}),
                ("response.content_part.added", {"type": "response.content_part.added", "sequence_number": 1,
                                                 "item_id": "msg_1", "output_index": 0, "content_index": 0,
                                                 "part": {"type": "output_text", "text": "", "annotations": []}}),
                ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 1,
                                                "item_id": "msg_1", "output_index": 0, "content_index": 0,
                                                "delta": "Hello", "logprobs": []}),
                (f"response.{self.stream_ends}", {
                    "type": f"response.{self.stream_ends}", "sequence_number": 2,
                    "response": self._response(self.stream_ends, self.responses_usage)}),
            ]
            return httpx2.Response(200, content=_sse(events),
                                   headers={"content-type": "text/event-stream", "x-request-id": "req_rstream"})
        return httpx2.Response(200, json=self._response("completed", self.responses_usage),
                               headers={"x-request-id": "req_resp"})

    # -- anthropic ----------------------------------------------------------------------------

    def messages(self, body: dict[str, Any]) -> httpx2.Response:
        model = self.model or ANTHROPIC_MODEL
        usage = self.anthropic_usage
        if body.get("stream"):
            start_usage = {**usage, "output_tokens": 1}
            events: list[tuple[str | None, Any]] = [
                ("message_start", {"type": "message_start", "message": {
                    "id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
                    "stop_reason": None, "stop_sequence": None, "usage": start_usage}}),
                ("content_block_start", {"type": "content_block_start", "index": 0,
                                         "content_block": {"type": "text", "text": ""}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                         "delta": {"type": "text_delta", "text": "Hello"}}),
                *([("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})]
                  if self.anthropic_stream_error else []),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                      "stop_sequence": None},
                                   "usage": {"output_tokens": usage["output_tokens"]}}),
                ("message_stop", {"type": "message_stop"}),
            ]
            return httpx2.Response(200, content=_sse(events),
                                   headers={"content-type": "text/event-stream", "request-id": "req_astream"})
        return httpx2.Response(200, headers={"request-id": "req_msg"}, json={
            "id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": '{"answer": "Hello"}'}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": usage})


def _transport(api: MockAPI, asynchronous: bool) -> Any:
    client = httpx2.AsyncClient if asynchronous else httpx2.Client
    return client(transport=httpx2.MockTransport(api))


def openai_client(api: MockAPI, *, asynchronous: bool = False) -> Any:
    """An `openai.OpenAI` (or `AsyncOpenAI`) whose requests `api` answers, without retries."""
    import openai

    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(api_key=fake_openai_key(), max_retries=0, http_client=_transport(api, asynchronous))


def anthropic_client(api: MockAPI, *, asynchronous: bool = False) -> Any:
    """An `anthropic.Anthropic` (or `AsyncAnthropic`) whose requests `api` answers, without retries."""
    import anthropic

    cls = anthropic.AsyncAnthropic if asynchronous else anthropic.Anthropic
    return cls(api_key=fake_anthropic_key(), max_retries=0, http_client=_transport(api, asynchronous))


def only(ledger: Ledger) -> Any:
    """The one record the test produced."""
    ledger.flush()
    records = list(ledger.records())
    assert len(records) == 1, records
    return records[0]

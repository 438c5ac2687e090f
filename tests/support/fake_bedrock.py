"""An in-process Amazon Bedrock runtime for boto3 clients: botocore's `before-send` event answers
each request with the bytes the real service sends (JSON bodies, token-count headers, binary
event streams), so botocore parses, signs and streams exactly as it does against AWS."""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
from dataclasses import dataclass, field
from typing import Any

from support.keys import fake_aws_access_key, fake_key

CONVERSE_USAGE = {"inputTokens": 1000, "outputTokens": 100, "totalTokens": 1500, "cacheReadInputTokens": 300,
                  "cacheWriteInputTokens": 100}
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("B", len(raw_name)) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value


def event_message(event_type: str, payload: dict[str, Any], message_type: str = "event") -> bytes:
    """One message of AWS's binary event-stream encoding (prelude, headers, payload, CRCs)."""
    type_header = ":exception-type" if message_type == "exception" else ":event-type"
    headers = (_header(type_header, event_type) + _header(":content-type", "application/json")
               + _header(":message-type", message_type))
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


class _Raw(io.BytesIO):
    """What botocore reads a response body from (urllib3's response, in real life)."""

    def stream(self, amt: int = 1024, decode_content: bool | None = None) -> Any:
        while True:
            chunk = self.read(amt)
            if not chunk:
                return
            yield chunk


@dataclass
class FakeBedrock:
    """Answers Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=lambda: dict(CONVERSE_USAGE))
    fail_with: int | None = None
    stream_error: bool = False  # a throttling exception event after the first delta
    send_metadata: bool = True  # ConverseStream's last (usage) event

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        path = request.url.split("amazonaws.com", 1)[-1]
        body = json.loads(request.body) if request.body else {}
        self.requests.append((path, body))
        operation = path.rsplit("/", 1)[-1]
        headers = {"x-amzn-requestid": "req-bedrock-1"}
        if self.fail_with:
            headers["x-amzn-errortype"] = "ThrottlingException"
            return AWSResponse(request.url, self.fail_with, headers,
                               _Raw(json.dumps({"message": "Too many requests"}).encode()))
        if operation == "converse":
            payload = {"output": {"message": {"role": "assistant", "content": [{"text": "Hello"}]}},
                       "stopReason": "end_turn", "usage": self.usage, "metrics": {"latencyMs": 120}}
            return AWSResponse(request.url, 200, {**headers, "content-type": "application/json"},
                               _Raw(json.dumps(payload).encode()))
        if operation == "converse-stream":
            events = [event_message("messageStart", {"role": "assistant"}),
                      event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hello"}})]
            if self.stream_error:
                events.append(event_message("throttlingException", {"message": "slow down"}, "exception"))
            events.append(event_message("messageStop", {"stopReason": "end_turn"}))
            if self.send_metadata:
                events.append(event_message("metadata", {"usage": self.usage, "metrics": {"latencyMs": 120}}))
            return AWSResponse(request.url, 200, {**headers, "content-type": "application/vnd.amazon.eventstream"},
                               _Raw(b"".join(events)))
        usage = self.usage
        if operation == "invoke":
            headers.update({"content-type": "application/json",
                            "x-amzn-bedrock-input-token-count": str(usage["inputTokens"]),
                            "x-amzn-bedrock-output-token-count": str(usage["outputTokens"]),
                            "x-amzn-bedrock-cache-read-input-token-count": str(usage["cacheReadInputTokens"]),
                            "x-amzn-bedrock-cache-write-input-token-count": str(usage["cacheWriteInputTokens"])})
            payload = {"id": "msg_1", "type": "message", "role": "assistant", "content": [{"type": "text",
                                                                                          "text": "Hello"}],
                       "usage": {"input_tokens": usage["inputTokens"], "output_tokens": usage["outputTokens"]}}
            return AWSResponse(request.url, 200, headers, _Raw(json.dumps(payload).encode()))
        # invoke-with-response-stream: an Anthropic model's events, then the invocation metrics
        chunks = [
            {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                                  "content": [], "usage": {"input_tokens": usage["inputTokens"],
                                                                           "output_tokens": 1}}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
             "usage": {"output_tokens": usage["outputTokens"]}},
            {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": usage["inputTokens"], "outputTokenCount": usage["outputTokens"],
                "cacheReadInputTokenCount": usage["cacheReadInputTokens"],
                "cacheWriteInputTokenCount": usage["cacheWriteInputTokens"], "invocationLatency": 300,
                "firstByteLatency": 100}},
        ]
        events = [event_message("chunk", {"bytes": base64.b64encode(json.dumps(c).encode()).decode()})
                  for c in chunks]
        return AWSResponse(request.url, 200, {**headers, "content-type": "application/vnd.amazon.eventstream"},
                           _Raw(b"".join(events)))


def bedrock_client(api: FakeBedrock, region: str = "us-east-1") -> Any:
    """A boto3 `bedrock-runtime` client whose requests `api` answers (fake credentials, no retries)."""
    import boto3
    from botocore.config import Config

    client = boto3.client("bedrock-runtime", region_name=region, aws_access_key_id=fake_aws_access_key(),
                          aws_secret_access_key=fake_key("", 40),
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    client.meta.events.register("before-send.bedrock-runtime", api)
    return client


MESSAGES = [{"role": "user", "content": [{"text": "Summarise the ticket, please."}]}]


def invoke_body() -> str:
    return json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
                       "messages": [{"role": "user", "content": "Summarise the ticket, please."}]})

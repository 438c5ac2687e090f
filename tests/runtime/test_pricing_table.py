"""The ledger's cost of each kind of call equals genai-prices' `calc_price` on the call's full
usage, to the nano-dollar: each case makes the call through the runtime against the mock API,
then prices the same usage with genai-prices itself (its own usage extractor where it has one
for the endpoint, else the usage written out here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from support import fake_api
from support.keys import fake_openai_key
from support.ledgers import rows

from attrlint.ledger.records import to_nanos
from attrlint.runtime import attribution, instrument

MESSAGES = [{"role": "user", "content": "hi"}]
ATTRIBUTION = {"ticket_id": "T-1", "customer_id": "acme"}


@dataclass
class Case:
    name: str
    call: Callable[[Any, Any], Any]  # (api, ledger) -> None: makes the call
    model: str
    usage: dict[str, Any] | Callable[[Any], dict[str, Any]]  # genai-prices usage, or from the mock's body
    provider_id: str | None = None
    provider_url: str | None = None
    context: dict[str, str] | None = None
    setup: dict[str, Any] = field(default_factory=dict)  # MockAPI attributes


def openai_on(api: Any, ledger: Any, base_url: str | None = None) -> Any:
    import openai

    client = openai.OpenAI(api_key=fake_openai_key(), max_retries=0, base_url=base_url,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(api)))
    return instrument(client, agent_id="pricing", ledger=ledger)


def anthropic_on(api: Any, ledger: Any) -> Any:
    return instrument(fake_api.anthropic_client(api), agent_id="pricing", ledger=ledger)


def extracted(provider_id: str, flavor: str, body: dict[str, Any]) -> dict[str, Any]:
    """genai-prices' own reading of a response body's usage."""
    from genai_prices import extract_usage

    body = {k: v for k, v in body.items() if k != "model"}  # the case names the model
    usage = extract_usage(body, provider_id=provider_id, api_flavor=flavor).usage
    return {key: getattr(usage, key) for key in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                                  "cache_write_5m_tokens", "cache_write_1h_tokens",
                                                  "input_audio_tokens", "output_audio_tokens", "web_searches",
                                                  "input_text_tokens", "input_image_tokens", "output_tokens",
                                                  "output_image_tokens", "output_text_tokens")
            if usage.__dict__.get(key)}


CHAT_AUDIO = {"prompt_tokens": 2000, "completion_tokens": 900,
              "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 1500},
              "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 800}}
CACHE_1H = {"input_tokens": 100, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 50_000,
            "cache_creation": {"ephemeral_5m_input_tokens": 10_000, "ephemeral_1h_input_tokens": 40_000},
            "output_tokens": 300}
WEB = {"input_tokens": 3000, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "output_tokens": 400,
       "server_tool_use": {"web_search_requests": 3}}
LONG = {"input_tokens": 250_000, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
        "output_tokens": 2000}
RESPONSES_REASONING = {"input_tokens": 5000, "input_tokens_details": {"cached_tokens": 1000}, "output_tokens": 2500,
                       "output_tokens_details": {"reasoning_tokens": 2000}, "total_tokens": 7500}


def chat(model: str, base_url: str | None = None) -> Callable[[Any, Any], Any]:
    def run(api: Any, ledger: Any) -> None:
        openai_on(api, ledger, base_url).chat.completions.create(model=model, messages=MESSAGES)
    return run


def responses(model: str, **kwargs: Any) -> Callable[[Any, Any], Any]:
    def run(api: Any, ledger: Any) -> None:
        openai_on(api, ledger).responses.create(model=model, input="hi", **kwargs)
    return run


def messages(model: str) -> Callable[[Any, Any], Any]:
    def run(api: Any, ledger: Any) -> None:
        anthropic_on(api, ledger).messages.create(model=model, max_tokens=100, messages=MESSAGES)
    return run


def chat_usage(api: Any) -> dict[str, Any]:
    return extracted("openai", "chat", {"model": api.model, "usage": api.chat_usage})


def anthropic_usage(api: Any) -> dict[str, Any]:
    return extracted("anthropic", "default", {"model": api.model, "usage": api.anthropic_usage})


def responses_usage(api: Any) -> dict[str, Any]:
    return extracted("openai", "responses", {"model": api.model, "usage": api.responses_usage})


def tier_response(tier: str) -> Callable[[Any, Any], Any]:
    def run(api: Any, ledger: Any) -> None:
        original = api.responses

        def with_tier(body: dict[str, Any]) -> httpx2.Response:
            answer = original(body)
            data = json.loads(answer.content)
            return httpx2.Response(200, json={**data, "service_tier": tier})

        api.responses = with_tier
        openai_on(api, ledger).responses.create(model="gpt-5", input="hi", service_tier=tier)
    return run


def openai_batch(api: Any, ledger: Any) -> None:
    line = {"id": "batch_req_1", "custom_id": "req-1", "response": {"status_code": 200, "request_id": "r1", "body": {
        "id": "chatcmpl-9", "object": "chat.completion", "created": 1780000000, "model": "gpt-4o-mini-2024-07-18",
        "choices": [], "usage": {"prompt_tokens": 20_000, "completion_tokens": 3000,
                                 "prompt_tokens_details": {"cached_tokens": 0}}}}, "error": None}
    api.extra["batch_output"] = (json.dumps(line) + "\n").encode()
    client = openai_on(api, ledger)
    batch = client.batches.create(input_file_id="file-in", endpoint="/v1/chat/completions", completion_window="24h")
    client.batches.retrieve(batch.id)
    client.files.content("file-out").read()


def anthropic_batch(api: Any, ledger: Any) -> None:
    usage = {"input_tokens": 30_000, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
             "output_tokens": 4000}
    line = {"custom_id": "q1", "result": {"type": "succeeded", "message": {
        "id": "msg_b1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": "end_turn", "stop_sequence": None, "usage": usage}}}
    api.extra["message_batch_results"] = (json.dumps(line) + "\n").encode()
    client = anthropic_on(api, ledger)
    client.messages.batches.create(requests=[{"custom_id": "q1", "params": {
        "model": "claude-sonnet-4-5", "max_tokens": 10, "messages": MESSAGES}}])
    list(client.messages.batches.results("msgbatch_1"))


def images(api: Any, ledger: Any) -> None:
    api.extra["images_usage"] = {"input_tokens": 120, "input_tokens_details": {"text_tokens": 50, "image_tokens": 70},
                                 "output_tokens": 4160, "total_tokens": 4280}
    openai_on(api, ledger).images.generate(model="gpt-image-1", prompt="a cat")


def transcription(model: str, usage: dict[str, Any]) -> Callable[[Any, Any], Any]:
    def run(api: Any, ledger: Any) -> None:
        api.extra["transcription_usage"] = usage
        openai_on(api, ledger).audio.transcriptions.create(model=model, file=("a.mp3", b"ID3fake"))
    return run


def speech(api: Any, ledger: Any) -> None:
    openai_on(api, ledger).audio.speech.create(model="tts-1", voice="alloy", input="Hello there, how are you?")


def completions(api: Any, ledger: Any) -> None:
    openai_on(api, ledger).completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")


def embeddings(api: Any, ledger: Any) -> None:
    openai_on(api, ledger).embeddings.create(model="text-embedding-3-small", input="hi")


def bedrock(api: Any, ledger: Any) -> None:
    import anthropic

    client = anthropic.AnthropicBedrock(aws_region="eu-west-1", aws_access_key="AKIA" + "X" * 16,
                                        aws_secret_key="s" * 40, max_retries=0,
                                        http_client=httpx2.Client(transport=httpx2.MockTransport(api)))
    instrument(client, agent_id="pricing", ledger=ledger).messages.create(
        model="anthropic.claude-sonnet-4-5-20250929-v1:0", max_tokens=100, messages=MESSAGES)


def vertex(api: Any, ledger: Any) -> None:
    import anthropic

    client = anthropic.AnthropicVertex(region="us-east5", project_id="proj", access_token="ya29.test",
                                       max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(api)))
    instrument(client, agent_id="pricing", ledger=ledger).messages.create(
        model="claude-sonnet-4-5@20250929", max_tokens=100, messages=MESSAGES)


class Api(fake_api.MockAPI):
    """The mock API, also answering Bedrock's and Vertex's model URLs as messages."""

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.endswith(("/invoke", ":rawPredict")):
            body = json.loads(request.content)
            self.requests.append((path, body))
            return self.messages({**body, "stream": False})
        return super().__call__(request)


CASES = [
    Case("openai chat, cached prompt", chat("gpt-4o"), "gpt-4o-2024-08-06", chat_usage, "openai"),
    Case("openai chat, audio tokens", chat("gpt-audio"), "gpt-audio",
         lambda api: extracted("openai", "chat", {"usage": CHAT_AUDIO}), "openai",
         setup={"chat_usage": CHAT_AUDIO, "model": "gpt-audio"}),
    Case("openai responses, reasoning", responses("gpt-5"), "gpt-5", responses_usage, "openai",
         setup={"responses_usage": RESPONSES_REASONING, "model": "gpt-5"}),
    Case("openai responses, flex tier", tier_response("flex"), "gpt-5", responses_usage, "openai",
         context={"service_tier": "flex"}, setup={"model": "gpt-5"}),
    Case("openai responses, priority tier", tier_response("priority"), "gpt-5", responses_usage, "openai",
         context={"service_tier": "priority"}, setup={"model": "gpt-5"}),
    Case("openai responses, web search calls", responses("gpt-5"), "gpt-5",
         lambda api: {**responses_usage(api), "web_searches": 2}, "openai",
         setup={"model": "gpt-5", "response_output": [
             {"type": "web_search_call", "id": f"ws_{i}", "status": "completed",
              "action": {"type": "search", "query": "x"}} for i in range(2)]}),
    Case("openai embeddings", embeddings, "text-embedding-3-small", {"input_tokens": 8}, "openai"),
    Case("openai legacy completions", completions, "gpt-3.5-turbo-instruct",
         {"input_tokens": 50, "output_tokens": 7}, "openai"),
    Case("openai images, image tokens", images, "gpt-image-1",
         lambda api: extracted("openai", "images", {"usage": api.extra["images_usage"]}), "openai"),
    Case("openai transcription, audio tokens",
         transcription("gpt-4o-mini-transcribe", {"type": "tokens", "input_tokens": 900, "output_tokens": 120,
                                                  "input_token_details": {"text_tokens": 100, "audio_tokens": 800},
                                                  "total_tokens": 1020}),
         "gpt-4o-mini-transcribe", {"input_tokens": 900, "input_audio_tokens": 800, "input_text_tokens": 100,
                                    "output_tokens": 120}, "openai"),
    Case("openai transcription, whisper seconds", transcription("whisper-1", {"type": "duration", "seconds": 61.2}),
         "whisper-1", {"audio_seconds": 62}, "openai"),
    Case("openai speech, tts-1 characters", speech, "tts-1", {"input_characters": 25}, "openai"),
    Case("openai batch, batch price", openai_batch, "gpt-4o-mini-2024-07-18",
         {"input_tokens": 20_000, "output_tokens": 3000}, "openai", context={"processing": "batch"}),
    Case("anthropic, 5-minute cache writes", messages("claude-sonnet-4-5"), "claude-sonnet-4-5",
         anthropic_usage, "anthropic"),
    Case("anthropic, 1-hour cache writes", messages("claude-sonnet-4-5"), "claude-sonnet-4-5",
         anthropic_usage, "anthropic", setup={"anthropic_usage": CACHE_1H}),
    Case("anthropic, web search requests", messages("claude-sonnet-4-5"), "claude-sonnet-4-5",
         anthropic_usage, "anthropic", setup={"anthropic_usage": WEB}),
    Case("anthropic, long context tier", messages("claude-sonnet-4-5"), "claude-sonnet-4-5",
         anthropic_usage, "anthropic", setup={"anthropic_usage": LONG}),
    Case("anthropic message batch, batch price", anthropic_batch, "claude-sonnet-4-5",
         {"input_tokens": 30_000, "output_tokens": 4000}, "anthropic", context={"processing": "batch"}),
    Case("deepseek through the openai SDK", chat("deepseek-chat", "https://api.deepseek.com"), "deepseek-chat",
         chat_usage, provider_url="https://api.deepseek.com", setup={"model": "deepseek-chat"}),
    Case("openrouter model id", chat("anthropic/claude-sonnet-4.5", "https://openrouter.ai/api/v1"),
         "anthropic/claude-sonnet-4.5", chat_usage, provider_url="https://openrouter.ai/api/v1",
         setup={"model": "anthropic/claude-sonnet-4.5"}),
    Case("gemini's openai-compatible endpoint",
         chat("gemini-2.5-flash", "https://generativelanguage.googleapis.com/v1beta/openai/"), "gemini-2.5-flash",
         chat_usage, provider_url="https://generativelanguage.googleapis.com", setup={"model": "gemini-2.5-flash"}),
    Case("bedrock claude, regional price", bedrock, "anthropic.claude-sonnet-4-5-20250929-v1:0", anthropic_usage,
         "aws", setup={"model": "anthropic.claude-sonnet-4-5-20250929-v1:0"}),
    Case("vertex claude", vertex, "claude-sonnet-4-5@20250929", anthropic_usage,
         provider_url="https://us-east5-aiplatform.googleapis.com", setup={"model": "claude-sonnet-4-5@20250929"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ledger_cost_equals_genai_prices_on_the_full_usage(case, ledger):
    from genai_prices import Usage, calc_price

    api = Api(model=case.model)
    for name, value in case.setup.items():
        setattr(api, name, value)
    with attribution(**ATTRIBUTION):
        case.call(api, ledger)
    (record,) = [r for r in rows(ledger) if r.status != "pending"]
    usage = case.usage(api) if callable(case.usage) else case.usage
    expected = calc_price(Usage(**usage), case.model, provider_id=case.provider_id,
                          provider_api_url=case.provider_url, genai_request_timestamp=record.timestamp,
                          price_context=case.context)
    assert record.status == "ok" and record.model == case.model, record
    assert record.cost is not None and record.cost > 0
    assert to_nanos(record.cost) == to_nanos(Decimal(expected.total_price)), (record, usage)


def test_the_table_has_at_least_twenty_cases():
    assert len(CASES) >= 20

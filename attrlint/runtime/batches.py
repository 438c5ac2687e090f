"""Batches: one ledger row per request, at the batch price, carrying the attribution given when
the batch was submitted.

The runtime remembers a batch when it is submitted (`batches.create`, `messages.batches.create`;
OpenAI also keeps the attribution fields in the batch's `metadata`, so a batch fetched by another
process is attributed too) and records its results when they are fetched. `attrlint ledger
import-batch` records results files fetched outside the runtime with the same code.

Each row's id is derived from the batch and the request's `custom_id`, so recording the same
results twice is harmless once the ledger enforces unique ids."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from attrlint.runtime.call import ZERO, gather, stable_id, submit, with_attribution_metadata
from attrlint.runtime.settings import Settings
from attrlint.runtime.usage import get, response_status, usage_of

log = logging.getLogger("attrlint.runtime")

BATCH_TIER = "batch"
# OpenAI's batch output bodies -> the ledger's operation
_OPENAI_OBJECTS = {"chat.completion": "chat", "response": "responses", "list": "embeddings",
                   "text_completion": "completions"}
_OPENAI_ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/responses": "responses", "/v1/embeddings": "embeddings",
                     "/v1/completions": "completions"}


class Attribution(NamedTuple):
    fields: dict[str, str]
    agent_source: str | None
    attributed: bool


class Submitted(NamedTuple):
    """What attrlint knows of a submitted batch."""

    family: str
    settings: Settings
    batch: Attribution
    requests: dict[str, Attribution]  # custom_id -> that request's own attribution
    batch_id: str | None = None
    created_us: int | None = None
    operation: str | None = None


def prepare_submit(settings: Settings, family: str, body: dict[str, Any]) -> tuple[Submitted, dict[str, Any]]:
    """The batch's attribution (its metadata, the enclosing attribution(), the client's agent)
    and the body to send: OpenAI's with the fields added to the batch metadata, Anthropic's with
    attribution keys taken out of each request's `metadata` (its API accepts only `user_id`)."""
    call_meta = body.get("metadata") if family == "openai" else None
    fields, source, missing = gather(settings, call_meta)
    batch = Attribution(fields, source, not missing)
    requests: dict[str, Attribution] = {}
    if family == "openai":
        operation = _OPENAI_ENDPOINTS.get(str(body.get("endpoint")))
        return Submitted(family, settings, batch, requests, operation=operation), \
            with_attribution_metadata(body, fields)
    items = body.get("requests")
    if isinstance(items, list):
        new_items = []
        for item in items:
            params = get(item, "params")
            meta = get(params, "metadata")
            custom_id = get(item, "custom_id")
            if isinstance(meta, Mapping) and isinstance(params, Mapping):
                own, own_source, own_missing = gather(settings, meta)
                if custom_id is not None:
                    requests[str(custom_id)] = Attribution(own, own_source, not own_missing)
                if set(meta) - {"user_id"}:
                    params = dict(params)
                    kept = {"user_id": meta["user_id"]} if meta.get("user_id") is not None else None
                    if kept:
                        params["metadata"] = kept
                    else:
                        params.pop("metadata", None)
                    item = {**item, "params": params}
            new_items.append(item)
        body = {**body, "requests": new_items}
    return Submitted(family, settings, batch, requests, operation="messages"), body


def remember_outputs(batch: Any, settings: Settings, submitted: Any, outputs: Any) -> None:
    """An OpenAI batch object (from `batches.retrieve`): map its output file to its attribution."""
    batch_id = str(get(batch, "id") or "")
    output = get(batch, "output_file_id")
    if not batch_id:
        return
    known: Submitted | None = submitted.get(batch_id)
    created = get(batch, "created_at")
    created_us = int(created) * 1_000_000 if created else None
    if known is None:
        return_meta = get(batch, "metadata")
        operation = _OPENAI_ENDPOINTS.get(str(get(batch, "endpoint")))
        fields, source, missing = gather(settings, return_meta)
        known = Submitted("openai", settings, Attribution(fields, source, not missing), {}, operation=operation)
    known = known._replace(batch_id=batch_id, created_us=created_us)
    submitted.put(batch_id, known)
    if output:
        outputs.put(str(output), known)


def remember_created(batch: Any, submitted: Any) -> None:
    """An Anthropic batch object (`messages.batches.retrieve`, which `results()` calls first):
    note when it was created, the time its rows are recorded at."""
    batch_id = str(get(batch, "id") or "")
    known = submitted.get(batch_id) if batch_id else None
    created = get(batch, "created_at")
    if known is None or created is None:
        return
    stamp = created.timestamp() if hasattr(created, "timestamp") else None
    if stamp is None:
        import datetime as dt

        stamp = dt.datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp()
    submitted.put(batch_id, known._replace(batch_id=batch_id, created_us=int(stamp * 1_000_000)))


def record_openai_output(content: bytes, settings: Settings, known: Submitted | None, recorded: Any) -> int:
    """Record each line of an OpenAI batch output file; returns the rows queued."""
    if known is None:
        fields, source, missing = gather(settings, None)
        known = Submitted("openai", settings, Attribution(fields, source, not missing), {})
    lines = content.splitlines()
    if not lines or not _looks_like_batch_output(lines[0]):
        return 0
    return sum(1 for _ in record_lines("openai", (json.loads(line) for line in lines if line.strip()),
                                       known, recorded))


def _looks_like_batch_output(first: bytes) -> bool:
    try:
        line = json.loads(first)
    except ValueError:
        return False
    return isinstance(line, dict) and "custom_id" in line and ("response" in line or "result" in line)


def observe_anthropic_results(decoder: Any, settings: Settings, batch_id: str | None, submitted: Any,
                              recorded: Any) -> None:
    """`messages.batches.results(...)` streams its lines: record each as the caller reads it."""
    known: Submitted | None = submitted.get(str(batch_id)) if batch_id else None
    if known is None:
        fields, source, missing = gather(settings, None)
        known = Submitted("anthropic", settings, Attribution(fields, source, not missing), {}, batch_id=batch_id)
    inner = decoder._iterator
    if hasattr(inner, "__aiter__"):
        async def observed_async() -> Any:
            async for line in inner:
                _record_line("anthropic", _as_dict(line), known, recorded)
                yield line

        decoder.__dict__["_iterator"] = observed_async()
        return

    def observed() -> Iterator[Any]:
        for line in inner:
            _record_line("anthropic", _as_dict(line), known, recorded)
            yield line

    decoder.__dict__["_iterator"] = observed()


def _as_dict(line: Any) -> Any:
    if isinstance(line, Mapping):
        return line
    dump = getattr(line, "model_dump", None)
    return dump() if dump is not None else line


def record_lines(family: str, lines: Iterable[Mapping[str, Any]], known: Submitted, recorded: Any) -> Iterator[str]:
    """Record each results line; yields the ids of the rows queued."""
    for line in lines:
        row_id = _record_line(family, line, known, recorded)
        if row_id:
            yield row_id


def _record_line(family: str, line: Mapping[str, Any], known: Submitted, recorded: Any) -> str | None:
    try:
        return _record(family, line, known, recorded)
    except Exception:
        log.warning("attrlint: could not record a batch result", exc_info=True)
        return None


def _record(family: str, line: Mapping[str, Any], known: Submitted, recorded: Any) -> str | None:
    custom_id = str(line.get("custom_id") or "")
    own = known.requests.get(custom_id)
    attribution = known.batch
    fields = dict(attribution.fields)
    agent_source = attribution.agent_source
    attributed = attribution.attributed
    if own is not None:
        fields.update(own.fields)
        agent_source = own.agent_source or agent_source
        attributed = own.attributed
    if custom_id:
        fields["custom_id"] = custom_id
    status = "ok"
    cost = None
    tokens, extra, model, request_id, operation = (0, 0, 0, 0, 0), None, None, None, known.operation
    created_us = known.created_us
    if family == "openai":
        response = line.get("response") or {}
        body = response.get("body") or {}
        request_id = response.get("request_id") or line.get("id")
        if response.get("status_code", 200) >= 400 or line.get("error"):
            status, cost = "error", ZERO
        operation = _OPENAI_OBJECTS.get(str(body.get("object")), operation or "chat")
        if operation == "responses":
            status = response_status(_Obj(body)) if status == "ok" else status
        usage = body.get("usage")
        tokens, extra = usage_of(operation, usage)
        model = body.get("model")
        if body.get("created") or body.get("created_at"):
            created_us = created_us or int(body.get("created") or body.get("created_at")) * 1_000_000
    else:
        result = line.get("result") or {}
        kind = result.get("type")
        message = result.get("message") or {}
        operation = "messages"
        request_id = message.get("id")
        model = message.get("model")
        if kind != "succeeded":  # errored, canceled, expired: not billed
            status, cost = "error", ZERO
        else:
            tokens, extra = usage_of("messages", message.get("usage"))
    tier = BATCH_TIER
    row_id = stable_id(known.created_us or 0, "batch", known.batch_id or "", custom_id or str(request_id))
    if recorded is not None:
        if recorded.get(row_id):
            return None
        recorded.put(row_id, True)
    return submit(known.settings, fields, agent_source, attributed, operation=operation or "chat",
                  status=status, model=model, request_id=str(request_id) if request_id else None, tokens=tokens,
                  cost=cost, service_tier=tier, extra=extra, row_id=row_id, batch_id=known.batch_id,
                  ts_us=created_us or time.time_ns() // 1000)


class _Obj:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.status = data.get("status")


def import_results(lines: Iterable[Mapping[str, Any]], *, family: str, settings: Settings,
                   batch_id: str | None = None, requests: Mapping[str, Mapping[str, Any]] | None = None,
                   created_us: int | None = None) -> int:
    """Record a batch results file fetched outside the runtime (`attrlint ledger import-batch`):
    one row per request at the batch price, attributed by the enclosing attribution(...) and,
    per request, by the `metadata` of its line in the requests file. Returns the rows queued."""
    fields, source, missing = gather(settings, None)
    own = {cid: Attribution(*_own(settings, meta)) for cid, meta in (requests or {}).items()}
    known = Submitted(family, settings, Attribution(fields, source, not missing), own, batch_id=batch_id,
                      created_us=created_us)
    return sum(1 for _ in record_lines(family, lines, known, None))


def _own(settings: Settings, meta: Mapping[str, Any]) -> tuple[dict[str, str], str | None, bool]:
    fields, source, missing = gather(settings, meta)
    return fields, source, not missing


def request_metadata(lines: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """custom_id -> the request's metadata, from a batch requests (input) file of either provider."""
    out: dict[str, Mapping[str, Any]] = {}
    for line in lines:
        body = line.get("body") or line.get("params") or {}
        meta = body.get("metadata") if isinstance(body, Mapping) else None
        if line.get("custom_id") is not None and isinstance(meta, Mapping):
            out[str(line["custom_id"])] = meta
    return out

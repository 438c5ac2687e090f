"""Exact prices for LLM calls: `[tool.attrlint.pricing]` overrides first, then `genai-prices`.

Token conventions (the ledger's): `input_tokens` is the whole prompt, *including* cached reads
(`cached_input_tokens`) and cache writes (`cache_write_tokens`); `output_tokens` includes
reasoning tokens. The wrappers convert each SDK's usage object to this before pricing.

A full `genai_prices.calc_price` costs ~0.2 ms, so prices are resolved once per
(provider, model, quarter hour, service tier) and applied as per-million-token rates; models
with tiered prices (rate depends on prompt size) go through genai-prices, memoised per usage.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from attrlint.core.config import PriceOverride

log = logging.getLogger("attrlint.ledger")

_MILLION = Decimal(1_000_000)
_MISS: Any = object()
_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
_BUCKET_SECONDS = 900  # genai-prices has time-of-day prices; resolve rates per quarter hour

# The ledger's provider labels (attrlint.runtime.providers) -> genai-prices provider ids. A label
# with a region (`bedrock/eu-west-1`, `vertex/us-east5`) maps by the part before the slash.
_GENAI_PROVIDER = {"openai": "openai", "azure": "azure", "anthropic": "anthropic", "bedrock": "aws",
                   "vertex": "google", "google": "google", "deepseek": "deepseek", "openrouter": "openrouter",
                   "mistral": "mistral", "cohere": "cohere", "groq": "groq", "xai": "x-ai",
                   "together": "together", "fireworks": "fireworks", "perplexity": "perplexity"}
SELF_HOSTED = "self-hosted"


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0


_PICO_PER_USD_PER_MTOK = Decimal(1_000_000)  # $1 / M tokens = 1,000,000 pico-dollars / token


def _pico(rate: Decimal) -> int | None:
    """A per-million-token rate as whole pico-dollars per token, when it is one exactly."""
    value = rate * _PICO_PER_USD_PER_MTOK
    return int(value) if value == value.to_integral_value() else None


@dataclass(frozen=True)
class Rates:
    """USD per million tokens of each kind, plus a fixed per-request price."""

    source: str
    input: Decimal
    cache_read: Decimal
    cache_write: Decimal
    output: Decimal
    per_request: Decimal = Decimal(0)
    model_price: Any = None  # genai-prices' ModelPrice, for usage beyond the four token kinds

    def __post_init__(self) -> None:
        # Prices with at most six decimals (all of them, in practice) are whole pico-dollars per
        # token: cost them in integers, exactly, and far faster than Decimal arithmetic.
        picos = [_pico(r) for r in (self.input, self.cache_read, self.cache_write, self.output)]
        per_request = self.per_request * Decimal(10) ** 12
        exact = all(p is not None for p in picos) and per_request == per_request.to_integral_value()
        object.__setattr__(self, "_picos", (*picos, int(per_request)) if exact else None)

    def cost_nanos(self, inp: int, cached: int, cache_write: int, out: int) -> int:
        """The cost in nano-dollars, rounded half-even."""
        picos = self._picos  # type: ignore[attr-defined]
        if picos is None:
            return _to_nanos(self.cost(Usage(inp, cached, cache_write, out)))
        uncached = inp - cached - cache_write
        uncached = max(uncached, 0)
        total = uncached * picos[0] + cached * picos[1] + cache_write * picos[2] + out * picos[3] + picos[4]
        q, r = divmod(total, 1000)
        if r > 500 or (r == 500 and q & 1):
            q += 1
        return q

    def cost_extra(self, inp: int, cached: int, cache_write: int, out: int, extra: dict[str, int]) -> Decimal:
        """The cost of usage with other kinds (audio, images, 1-hour cache writes, searches...):
        genai-prices' own calculation on the whole usage. An override prices the four token
        kinds only."""
        if self.model_price is None:
            return self.cost(Usage(inp, cached, cache_write, out))
        return _calc(self.model_price, inp, cached, cache_write, out, extra)

    def cost(self, usage: Usage) -> Decimal:
        uncached = max(usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens, 0)
        total = (uncached * self.input + usage.cached_input_tokens * self.cache_read
                 + usage.cache_write_tokens * self.cache_write + usage.output_tokens * self.output)
        return total / _MILLION + self.per_request


class Pricer:
    """Prices usage at a timestamp. Thread-safe for the ledger's single writer thread and
    for callers: its caches are only ever filled with equal values."""

    def __init__(self, overrides: Iterable[PriceOverride] = ()) -> None:
        self._overrides: dict[tuple[str, str], list[PriceOverride]] = {}
        for override in overrides:
            self._overrides.setdefault((override.provider, override.model), []).append(override)
        for entries in self._overrides.values():
            entries.sort(key=lambda o: o.effective or dt.date.min, reverse=True)
        self._rates: dict[tuple[str, str, int, str | None], Rates | _Tiered | None] = {}

    @classmethod
    def configured(cls, config: Any = None) -> Pricer:
        """A pricer with the `[tool.attrlint.pricing]` overrides of `config` (default: the
        configuration in effect, `ATTRLINT_CONFIG` or the nearest pyproject.toml). A
        configuration that cannot be read leaves list prices, with a warning."""
        if config is None:
            from attrlint.core.config import config_from_env_or_cwd

            try:
                config = config_from_env_or_cwd()
            except Exception as exc:  # noqa: BLE001 - pricing must not stop recording
                log.warning("attrlint: price overrides not loaded: %s", exc)
                return cls()
        return cls(config.pricing)

    def price(self, provider: str, model: str | None, timestamp: dt.datetime, usage: Usage,
              service_tier: str | None = None, *, extra: dict[str, int] | None = None,
              host: str | None = None) -> tuple[Decimal | None, str | None]:
        """(cost in USD, what priced it), or (None, None) when no price is known for the model."""
        ts_us = int(timestamp.timestamp()) * 1_000_000 + timestamp.microsecond
        nanos, source = self.price_nanos(provider, model, ts_us, usage.input_tokens, usage.cached_input_tokens,
                                         usage.cache_write_tokens, usage.output_tokens, service_tier,
                                         extra=extra, host=host)
        if nanos is None:
            return None, None
        from attrlint.ledger.records import from_nanos

        return from_nanos(nanos), source

    def price_nanos(self, provider: str, model: str | None, ts_us: int, inp: int, cached: int,
                    cache_write: int, out: int, service_tier: str | None = None, *,
                    extra: dict[str, int] | None = None, host: str | None = None) -> tuple[int | None, str | None]:
        """The cost in integer nano-dollars of one call, and what priced it; (None, None) when no
        price is known. `extra` holds other usage kinds by genai-prices usage key (audio, image
        and 1-hour cache-write tokens, web searches...); `service_tier` selects the price variant
        ("batch" the batch price); `host` is where the request went, used when the provider label
        is not one genai-prices knows."""
        if not model:
            return None, None
        key = (provider, host, model, ts_us // (_BUCKET_SECONDS * 1_000_000), service_tier)
        rates = self._rates.get(key, _MISS) if not self._overrides and provider != SELF_HOSTED else _MISS
        if rates is _MISS:
            timestamp = dt.datetime.fromtimestamp(ts_us / 1_000_000, tz=dt.timezone.utc)
            override = self._override(provider, model, timestamp.date())
            if override is not None:
                return override.cost_nanos(inp, cached, cache_write, out), override.source
            if provider == SELF_HOSTED:
                # A server of the caller's own: its model names say nothing about its cost, so no
                # public list price ever applies. [tool.attrlint.pricing."self-hosted:*"] sets one.
                return 0, "self-hosted (no price configured)"
            rates = self._rates.get(key, _MISS)
            if rates is _MISS:
                rates = self._rates[key] = _genai_rates(provider, model, timestamp, service_tier, host)
        if rates is None:
            return None, None
        if extra:
            if not _known_usage_keys(extra):
                return None, None  # a usage kind genai-prices cannot price (DALL-E's image count)
            return _to_nanos(rates.cost_extra(inp, cached, cache_write, out, extra)), rates.source  # type: ignore[union-attr]
        return rates.cost_nanos(inp, cached, cache_write, out), rates.source  # type: ignore[union-attr]

    def _override(self, provider: str, model: str, day: dt.date) -> Rates | None:
        if not self._overrides:
            return None
        entries = (self._overrides.get((provider, model))
                   or self._overrides.get((provider, _DATE_SUFFIX.sub("", model)))
                   or self._overrides.get((provider, "*")))
        for entry in entries or ():
            if entry.effective is None or entry.effective <= day:
                return _override_rates(entry)
        return None


@functools.cache
def _override_rates(entry: PriceOverride) -> Rates:
    inp = entry.input if entry.input is not None else Decimal(0)
    since = f"@{entry.effective.isoformat()}" if entry.effective else ""
    return Rates(
        source=f"override {entry.provider}:{entry.model}{since}",
        input=inp,
        cache_read=entry.cache_read if entry.cache_read is not None else inp,
        cache_write=entry.cache_write if entry.cache_write is not None else inp,
        output=entry.output if entry.output is not None else Decimal(0),
    )


def _to_nanos(cost: Decimal) -> int:
    from attrlint.ledger.records import to_nanos

    return to_nanos(cost)  # type: ignore[return-value]


class _Tiered:
    """A model whose rates depend on prompt size: price through genai-prices, memoised."""

    def __init__(self, source: str, model_price: Any) -> None:
        self.source = source
        self.model_price = model_price
        self._memo: dict[Usage, Decimal] = {}

    def cost(self, usage: Usage) -> Decimal:
        cost = self._memo.get(usage)
        if cost is None:
            if len(self._memo) > 4096:
                self._memo.clear()
            cost = self._memo[usage] = _calc(self.model_price, usage.input_tokens, usage.cached_input_tokens,
                                              usage.cache_write_tokens, usage.output_tokens)
        return cost

    def cost_nanos(self, inp: int, cached: int, cache_write: int, out: int) -> int:
        return _to_nanos(self.cost(Usage(inp, cached, cache_write, out)))

    def cost_extra(self, inp: int, cached: int, cache_write: int, out: int, extra: dict[str, int]) -> Decimal:
        return _calc(self.model_price, inp, cached, cache_write, out, extra)


def _calc(model_price: Any, inp: int, cache_read: int, cache_write: int, out: int,
          extra: dict[str, int] | None = None) -> Decimal:
    from genai_prices import Usage as GenaiUsage

    usage = GenaiUsage(input_tokens=inp, cache_read_tokens=cache_read,
                       cache_write_tokens=cache_write, output_tokens=out, **(extra or {}))
    return Decimal(model_price.calc_price(usage)["total_price"])


def _known_usage_keys(extra: dict[str, int]) -> bool:
    from genai_prices.types import _reported_usage_keys  # the usage keys genai-prices prices

    return set(extra) <= _reported_usage_keys()


def price_context(service_tier: str | None) -> dict[str, str] | None:
    """genai-prices' price context for a stored service tier: batch is a processing mode there,
    the others (flex, priority, ...) are service tiers."""
    if not service_tier:
        return None
    if service_tier == "batch":
        return {"processing": "batch"}
    return {"service_tier": service_tier}


def genai_provider_id(provider: str) -> str:
    """The genai-prices provider id for a ledger provider label (`bedrock/us-east-1` -> `aws`)."""
    base = provider.partition("/")[0]
    return _GENAI_PROVIDER.get(base, base)


def genai_version() -> str:
    import genai_prices

    return str(genai_prices.__version__)


def _find_model(provider: str, model: str, host: str | None) -> tuple[Any, Any] | None:
    """genai-prices' (provider, model) for a call: by the provider label, else by the host's API
    URL, else (a proxy, a gateway) by the model name alone."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    attempts: list[tuple[str | None, str | None]] = [(genai_provider_id(provider), None)]
    if host:
        attempts.append((None, f"https://{host}"))
    attempts.append((None, None))
    for provider_id, url in attempts:
        try:
            return snapshot.find_provider_model(model, None, provider_id, url)  # type: ignore[no-any-return]
        except LookupError:
            continue
    return None


def _genai_rates(provider: str, model: str, timestamp: dt.datetime,
                 service_tier: str | None, host: str | None = None) -> Rates | _Tiered | None:
    from genai_prices import data_snapshot
    from genai_prices.types import TieredPrices

    snapshot = data_snapshot.get_snapshot()
    found = _find_model(provider, model, host)
    if found is None:
        return None
    found_provider, info = found
    model_price = info.get_prices(timestamp, price_context(service_tier))
    when = "auto-updated " + snapshot.timestamp.date().isoformat() if snapshot.from_auto_update else "bundled"
    source = f"genai-prices {genai_version()} ({when}) {found_provider.id}/{info.id}"
    if service_tier:
        source += f" tier={service_tier}"
    if any(isinstance(v, TieredPrices) for v in model_price.__dict__.values()):
        return _Tiered(source=source + " tiered", model_price=model_price)
    # Prices are linear in each kind of token: derive per-million rates by pricing unit usages.
    base = _calc(model_price, 0, 0, 0, 0)
    inp = _calc(model_price, 1_000_000, 0, 0, 0) - base
    return Rates(
        source=source,
        input=inp,
        cache_read=_calc(model_price, 1_000_000, 1_000_000, 0, 0) - base,
        cache_write=_calc(model_price, 1_000_000, 0, 1_000_000, 0) - base,
        output=_calc(model_price, 0, 0, 0, 1_000_000) - base,
        per_request=base,
        model_price=model_price,
    )

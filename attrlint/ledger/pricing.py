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

# genai-prices names providers by these ids; the ledger's provider names map onto them.
_GENAI_PROVIDER = {"openai": "openai", "azure": "azure", "anthropic": "anthropic"}


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
              service_tier: str | None = None) -> tuple[Decimal | None, str | None]:
        """(cost in USD, what priced it), or (None, None) when no price is known for the model."""
        if not model:
            return None, None
        override = self._override(provider, model, timestamp.date())
        if override is not None:
            return override.cost(usage), override.source
        key = (provider, model, int(timestamp.timestamp()) // _BUCKET_SECONDS, service_tier)
        try:
            rates = self._rates[key]
        except KeyError:
            rates = self._rates[key] = _genai_rates(provider, model, timestamp, service_tier)
        if rates is None:
            return None, None
        return rates.cost(usage), rates.source

    def price_nanos(self, provider: str, model: str | None, ts_us: int, inp: int, cached: int,
                    cache_write: int, out: int, service_tier: str | None = None) -> tuple[int | None, str | None]:
        """`price` for the ledger's writer: integer nano-dollars, from a microsecond timestamp."""
        if not model:
            return None, None
        key = (provider, model, ts_us // (_BUCKET_SECONDS * 1_000_000), service_tier)
        rates = self._rates.get(key, _MISS) if not self._overrides else _MISS
        if rates is _MISS:
            timestamp = dt.datetime.fromtimestamp(ts_us / 1_000_000, tz=dt.timezone.utc)
            override = self._override(provider, model, timestamp.date())
            if override is not None:
                return override.cost_nanos(inp, cached, cache_write, out), override.source
            rates = self._rates.get(key, _MISS)
            if rates is _MISS:
                rates = self._rates[key] = _genai_rates(provider, model, timestamp, service_tier)
        if rates is None:
            return None, None
        return rates.cost_nanos(inp, cached, cache_write, out), rates.source  # type: ignore[union-attr]

    def _override(self, provider: str, model: str, day: dt.date) -> Rates | None:
        if not self._overrides:
            return None
        entries = self._overrides.get((provider, model)) or self._overrides.get(
            (provider, _DATE_SUFFIX.sub("", model)))
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


def _calc(model_price: Any, inp: int, cache_read: int, cache_write: int, out: int) -> Decimal:
    from genai_prices import Usage as GenaiUsage

    usage = GenaiUsage(input_tokens=inp, cache_read_tokens=cache_read,
                       cache_write_tokens=cache_write, output_tokens=out)
    return Decimal(model_price.calc_price(usage)["total_price"])


def genai_version() -> str:
    import genai_prices

    return str(genai_prices.__version__)


def _genai_rates(provider: str, model: str, timestamp: dt.datetime,
                 service_tier: str | None) -> Rates | _Tiered | None:
    from genai_prices import data_snapshot
    from genai_prices.types import TieredPrices

    snapshot = data_snapshot.get_snapshot()
    try:
        found_provider, info = snapshot.find_provider_model(
            model, None, _GENAI_PROVIDER.get(provider, provider), None)
    except LookupError:
        try:  # a provider genai-prices does not know (a proxy, a gateway): match on model alone
            found_provider, info = snapshot.find_provider_model(model, None, None, None)
        except LookupError:
            return None
    context = {"service_tier": service_tier} if service_tier else None
    model_price = info.get_prices(timestamp, context)
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
    )

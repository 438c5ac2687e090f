"""Pricing: the fast integer path agrees with Decimal arithmetic and with genai-prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from attrlint.core.config import PriceOverride
from attrlint.ledger.records import to_nanos
from attrlint.ledger.pricing import Pricer, Rates, Usage

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
NOW_US = int(NOW.timestamp() * 1_000_000)
tokens = st.integers(min_value=0, max_value=2_000_000)
prices = st.decimals(min_value=0, max_value=200, places=4, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(inp=tokens, cached=tokens, write=tokens, out=tokens, a=prices, b=prices, c=prices, d=prices)
def test_integer_costing_equals_decimal_costing(inp, cached, write, out, a, b, c, d):
    rates = Rates(source="t", input=a, cache_read=b, cache_write=c, output=d)
    inp = inp + cached + write
    assert rates.cost_nanos(inp, cached, write, out) == to_nanos(rates.cost(Usage(inp, cached, write, out)))


@settings(max_examples=50, deadline=None)
@given(inp=st.integers(0, 300_000), cached=st.integers(0, 50_000), out=st.integers(0, 20_000))
def test_rates_agree_with_genai_prices(inp, cached, out):
    from genai_prices import Usage as GenaiUsage
    from genai_prices import calc_price

    inp += cached
    expected = calc_price(GenaiUsage(input_tokens=inp, cache_read_tokens=cached, output_tokens=out),
                          "gpt-4o", provider_id="openai", genai_request_timestamp=NOW).total_price
    nanos, source = Pricer().price_nanos("openai", "gpt-4o-2024-08-06", NOW_US, inp, cached, 0, out)
    assert nanos == to_nanos(Decimal(expected)) and "genai-prices" in source


def test_tiered_model_prices_long_prompts_at_the_higher_rate():
    pricer = Pricer()
    short, _ = pricer.price_nanos("anthropic", "claude-sonnet-4-5", NOW_US, 100_000, 0, 0, 0)
    long, source = pricer.price_nanos("anthropic", "claude-sonnet-4-5", NOW_US, 300_000, 0, 0, 0)
    assert short == 300_000_000  # $3 / M
    assert long > 3 * short and "tiered" in source


def test_override_applies_from_its_effective_date():
    override = PriceOverride("openai", "gpt-4o", input=Decimal(1), output=Decimal(2),
                             effective=dt.date(2026, 6, 1))
    pricer = Pricer([override])
    before = int(dt.datetime(2026, 5, 31, tzinfo=dt.timezone.utc).timestamp() * 1_000_000)
    cost, source = pricer.price_nanos("openai", "gpt-4o-2024-08-06", NOW_US, 1_000_000, 0, 0, 1_000_000)
    assert (cost, source) == (3_000_000_000, "override openai:gpt-4o@2026-06-01")
    cost, source = pricer.price_nanos("openai", "gpt-4o", before, 1_000_000, 0, 0, 0)
    assert cost == 2_500_000_000 and source.startswith("genai-prices")


def test_service_tier_selects_the_variant_price_in_force_at_the_call():
    pricer = Pricer()
    later = int(dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc).timestamp() * 1_000_000)
    standard, _ = pricer.price_nanos("openai", "gpt-5", later, 1_000_000, 0, 0, 0)
    flex, source = pricer.price_nanos("openai", "gpt-5", later, 1_000_000, 0, 0, 0, "flex")
    assert (standard, flex) == (1_250_000_000, 625_000_000) and "tier=flex" in source
    # genai-prices dates gpt-5's flex price from 2026-10-12: before that, flex cost the standard rate
    assert pricer.price_nanos("openai", "gpt-5", NOW_US, 1_000_000, 0, 0, 0, "flex")[0] == standard


def test_unknown_model():
    assert Pricer().price_nanos("openai", "acme-llm-9", NOW_US, 10, 0, 0, 10) == (None, None)

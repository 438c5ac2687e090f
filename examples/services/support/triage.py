"""Triage uses a second OpenAI key for the same agent: ATR105."""

import json
import os

from openai import OpenAI

triage_client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT_TRIAGE"])


def classify(ticket):
    return triage_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": ticket.body}],
        metadata={"ticket_id": ticket.id, "customer_id": ticket.customer_id, "agent_id": "support"},
    )


def classify_bulk(tickets):
    # ATR002: bulk_metadata() below builds the metadata, and it has no customer_id
    return triage_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": t.body} for t in tickets],
        metadata=bulk_metadata(tickets),
    )


def bulk_metadata(tickets):
    # ATR900 (selected in pyproject.toml): this noqa suppresses nothing any more
    return {"ticket_id": ",".join(t.id for t in tickets), "agent_id": "support"}  # noqa: ATR004


def classify_with_options(ticket, raw_options):
    # ATR008: the arguments come from outside the code (a JSON string): they cannot be checked
    return triage_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": ticket.body}],
        **json.loads(raw_options),
    )

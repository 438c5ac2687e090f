"""Triage uses a second OpenAI key for the same agent: ATR105."""

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
    # ATR008 (strict): the metadata is built elsewhere and cannot be checked here
    return triage_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": t.body} for t in tickets],
        metadata=bulk_metadata(tickets),
    )


def bulk_metadata(tickets):
    # ATR900 (selected in pyproject.toml): this noqa suppresses nothing any more
    return {"ticket_id": ",".join(t.id for t in tickets), "agent_id": "support"}  # noqa: ATR004

"""The billing agent explains invoices."""

import os

import litellm
from openai import OpenAI

# ATR103: billing borrows the support agent's key
client = OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"])


def explain(invoice):
    # ATR001: no attribution at all
    return client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": invoice.text}],
    )


def dispute(invoice):
    # ATR004: a placeholder ticket; ATR006: an e-mail address in metadata
    return litellm.completion(
        model="gpt-4o",
        messages=[{"role": "user", "content": invoice.text}],
        metadata={
            "ticket_id": "TODO",
            "customer_id": invoice.customer_id,
            "agent_id": "billing",
            "email": invoice.customer_email,
        },
    )


def summarise(invoice):
    # ATR007: OpenAI metadata values must be strings
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": invoice.text}],
        metadata={"ticket_id": invoice.ticket, "customer_id": invoice.customer_id,
                  "agent_id": "billing", "amount_cents": 129900},
    )

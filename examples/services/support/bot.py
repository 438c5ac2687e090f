"""The support agent answers tickets. Its main call is fully attributed."""

import os

from attrlint.runtime import attribution, instrument
from openai import OpenAI

client = instrument(OpenAI(api_key=os.environ["OPENAI_KEY_SUPPORT"]), agent_id="support")


def answer(ticket):
    with attribution(ticket_id=ticket.id, customer_id=ticket.customer_id):
        return client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": ticket.body}],
        )


def summarise(ticket):
    # ATR002: names ticket and agent, but not the customer
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": ticket.body}],
        metadata={"ticket_id": ticket.id},
    )


def tag(ticket):
    # ATR003: `ticketId` and `cust_id` are nonstandard spellings (fixable)
    return client.responses.create(
        model="gpt-4o-mini",
        input=ticket.body,
        metadata={"ticketId": ticket.id, "cust_id": ticket.customer_id, "agent_id": "support"},
    )

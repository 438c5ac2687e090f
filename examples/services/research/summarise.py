"""The research agent summarises papers with Claude."""

import os

from anthropic import Anthropic
from google import genai

# ATR104: ANTHROPIC_KEY_RESEARCH expired on 2025-06-30
claude = Anthropic(api_key=os.environ["ANTHROPIC_KEY_RESEARCH"])

# ATR104: GEMINI_KEY_RESEARCH is not in the key registry
GEMINI_KEY = os.environ.get("GEMINI_KEY_RESEARCH")

# ATR106: when GEMINI_KEY_RESEARCH is unset the key is None, and the client silently uses GEMINI_API_KEY
gemini = genai.Client(api_key=GEMINI_KEY)

# ATR101: a literal passed as a key (shown redacted in every output)
scratch = Anthropic(api_key="q7Hc2Lr9Vx4Bn8Kd3Fm6Tz1Wp5Ys0Gj")


def summarise(paper_id, text):
    # ATR007: the Messages API accepts only `user_id` in metadata
    return claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": text}],
        metadata={"ticket_id": paper_id, "agent_id": "research"},
    )

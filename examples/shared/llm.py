"""A shared helper library used by every agent (it belongs to no agent)."""

import os

from openai import OpenAI

# ATR102: the generic, shared variable: every agent's calls land on one key
default_client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])

# ATR102: no key at all: the SDK silently reads OPENAI_API_KEY
fallback_client = OpenAI()

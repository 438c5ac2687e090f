"""The semantic layer: what values are (clients, dicts, project instances), which calls are
LLM calls and what attribution reaches them. It knows nothing about rules; rules ask it."""

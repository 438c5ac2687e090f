from __future__ import annotations

from attrlint.lint.rules.base import FileContext, Rule


class Unparsable(Rule):
    code = "ATR000"
    name = "unparsable-file"
    summary = "A file that cannot be read or parsed"
    what = ("Reports a file that attrlint cannot decode or parse, at the error position, "
            "like flake8's E999. The run continues with the other files. Files whose text "
            "cannot hold a finding (no LLM SDK name, key variable or key-shaped literal) are "
            "never parsed, so their syntax errors are left to your Python linter.")
    why = "A file that does not parse is not checked at all: its LLM calls and keys go unseen."
    example = """
        def f(:
            client.chat.completions.create(model="gpt-4o")
    """
    instead = """
        def f():
            client.chat.completions.create(model="gpt-4o", metadata={...})
    """
    # Files with no LLM-related text are skipped before parsing, so the examples mention an SDK.
    invalid = ("import openai\ndef f(:\n    openai.chat.completions.create()\n",)
    valid = ("import openai\nx = 1\n",)

    def check(self, ctx: FileContext) -> None:
        """Reported by the engine when parsing fails."""


RULES = [Unparsable]

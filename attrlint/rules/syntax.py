from __future__ import annotations

from .base import FileContext, Rule


class Unparsable(Rule):
    code = "ATR000"
    name = "unparsable-file"
    summary = "A file that cannot be read or parsed"
    what = ("Reports a file that attrlint cannot decode or parse, at the error position, "
            "like flake8's E999. The run continues with the other files.")
    why = "A file that does not parse is not checked at all: its LLM calls and keys go unseen."
    example = """
        def f(:
            client.chat.completions.create(model="gpt-4o")
    """
    instead = """
        def f():
            client.chat.completions.create(model="gpt-4o", metadata={...})
    """
    invalid = ("def f(:\n    pass\n",)
    valid = ("x = 1\n",)

    def check(self, ctx: FileContext) -> None:
        """Reported by the engine when parsing fails."""


RULES = [Unparsable]

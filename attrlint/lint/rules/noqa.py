"""ATR900: `# noqa` directives that suppress nothing (ruff's RUF100 for attrlint's codes)."""

from __future__ import annotations

from attrlint.lint.noqa import UNUSED_NOQA
from attrlint.lint.rules.base import FileContext, Rule


class UnusedNoqa(Rule):
    code = UNUSED_NOQA
    name = "unused-noqa"
    summary = "A `# noqa` directive with attrlint codes that suppress nothing"
    what = ("Reports the attrlint codes in a `# noqa: ...` directive that suppress no finding on "
            "their line: codes whose finding is gone, codes of rules that are not enabled, and "
            "codes that name no rule at all (a typo such as `ATR01`). Other linters' codes and a "
            "bare `# noqa` are left alone: they may serve another tool. `attrlint check` judges "
            "every code once the project-wide rules have run; a single file (standard input, the "
            "editor) judges only the codes of per-file rules.")
    why = ("A stale or mistyped noqa hides the next real finding on its line, and one that names "
           "no rule suppresses nothing while looking as if it did.")
    example = """
        import os
        key = os.environ["OPENAI_KEY_SUPPORT"]  # noqa: ATR101
    """
    instead = """
        import os
        key = os.environ["OPENAI_KEY_SUPPORT"]
    """
    fix_safety = ("Safe: only the unused codes are taken out of the directive; the comment goes "
                  "when nothing else is left in it.")
    fixable = True
    default_enabled = False
    family = "suppression"
    invalid = (
        'import os\nkey = os.environ["OPENAI_KEY_SUPPORT"]  # noqa: ATR101\n',
        'import litellm\nlitellm.completion(model="m", messages=[])  # noqa: ATR01\n',
    )
    valid = (
        'import litellm\nlitellm.completion(model="m", messages=[])  # noqa: ATR001\n',
        'import os\nkey = os.environ["OPENAI_KEY_SUPPORT"]  # noqa: E501\n',
        'import os\nkey = os.environ["OPENAI_KEY_SUPPORT"]  # noqa\n',
    )

    def check(self, ctx: FileContext) -> None:
        """Reported by the engine once suppression has run (attrlint.lint.noqa)."""


RULES = [UnusedNoqa]

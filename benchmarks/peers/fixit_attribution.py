"""The fixit peer of attrlint's attribution check, used only by benchmarks/lint_bench.py:
an OpenAI-style `X.chat.completions.create(...)` call with no `metadata=` keyword."""

from typing import ClassVar

import libcst as cst
import libcst.matchers as m
from fixit import Invalid, LintRule, Valid

_CREATE = m.Attribute(
    value=m.Attribute(value=m.Attribute(attr=m.Name("chat")), attr=m.Name("completions")),
    attr=m.Name("create"),
)


class ChatCompletionWithoutMetadata(LintRule):
    MESSAGE = "LLM call without cost-attribution metadata="
    VALID: ClassVar[list[Valid]] = [
        Valid('client.chat.completions.create(model="x", metadata={"team": "a"})')
    ]
    INVALID: ClassVar[list[Invalid]] = [Invalid('client.chat.completions.create(model="x")')]

    def visit_Call(self, node: cst.Call) -> None:
        if m.matches(node.func, _CREATE) and not any(
            arg.keyword is not None and arg.keyword.value == "metadata" for arg in node.args
        ):
            self.report(node)

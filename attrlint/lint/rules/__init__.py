"""attrlint's rules, one class each, with their documentation and examples.

A rule declares where it runs (`Phase`) and its family as data on its class; `all_rules()`
is the registry every front end reads.
"""

from __future__ import annotations

import functools

from attrlint.lint.rules.base import FileContext, Phase, Rule

__all__ = ["FileContext", "Phase", "Rule", "all_rules", "file_rules", "rules_by_code"]


@functools.cache
def _registry() -> tuple[type[Rule], ...]:
    from attrlint.lint.rules import attribution, governance, keys, noqa, policy, syntax

    rules: list[type[Rule]] = []
    for module in (syntax, attribution, keys, governance, policy, noqa):
        rules.extend(module.RULES)
    return tuple(sorted(rules, key=lambda r: r.code))


def all_rules() -> list[type[Rule]]:
    return list(_registry())


def rules_by_code() -> dict[str, type[Rule]]:
    return {r.code: r for r in _registry()}


def file_rules(codes: frozenset[str]) -> list[Rule]:
    """Instances of the enabled rules that check each file (ATR000 and ATR900 are the engine's own)."""
    return [r() for r in _registry() if Phase.FILE in r.phases and r.code in codes and r.code not in ("ATR000", "ATR900")]

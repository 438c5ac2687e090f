"""attrlint's rules, one class each, with their documentation and examples."""

from attrlint.lint.rules.base import FileContext, Rule, all_rules, rules_by_code

__all__ = ["FileContext", "Rule", "all_rules", "rules_by_code"]

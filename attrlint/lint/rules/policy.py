"""Rules about the policy itself, in PR mode (ATR201, ATR202).

A change can pass a check by weakening it. With `attrlint check --new-since REF`, the
baseline and the `[tool.attrlint]` configuration are read as they were at REF and compared
with the working tree (attrlint.lint.policy); what the change accepts or relaxes is reported
here, in the baseline or configuration file, whatever lines the change touched.

Each example is a pair, the file at REF and the file now, separated by a line
`=== after ===`; tests/lint/test_policy.py runs them.
"""

from __future__ import annotations

from attrlint.lint.rules.base import Phase, Rule

EXAMPLE_SEPARATOR = "=== after ==="


def split_example(example: str) -> tuple[str, str]:
    """(the file at REF, the file now) of an example."""
    before, _, after = example.partition(f"\n{EXAMPLE_SEPARATOR}\n")
    return before.strip("\n") + "\n", after.strip("\n") + "\n"


class PolicyRule(Rule):
    phases = Phase.POLICY
    family = "policy"


def _pair(before: str, after: str) -> str:
    return f"{before.strip()}\n{EXAMPLE_SEPARATOR}\n{after.strip()}\n"


_BASELINE_ENTRY = '{{"path": "{path}", "code": "ATR001", "hash": "{digest}"}}'


def _baseline(*entries: tuple[str, str]) -> str:
    items = ",\n  ".join(_BASELINE_ENTRY.format(path=p, digest=d) for p, d in entries)
    return '{"version": 1, "entries": [\n  ' + items + "\n]}" if entries else '{"version": 1, "entries": []}'


class BaselineEntryAdded(PolicyRule):
    code = "ATR201"
    name = "baseline-entry-added"
    summary = "A change adds an entry to the baseline (with --new-since)"
    what = ("With `--new-since REF`: finds each entry the change adds to the baseline file "
            "(`.attrlint-baseline.json` or `--baseline`), and each entry whose count it raises, "
            "compared with the file at REF. Reported at the entry's line in the baseline file. "
            "Baseline entries and the `--new-since` line filter never hide it.")
    why = ("A baseline entry accepts a finding instead of fixing it. Added in the same change as "
           "the code it excuses, it lets a pull request pass its own check with nothing in the "
           "output saying that the rules moved.")
    example = """
        // .attrlint-baseline.json in the pull request
        {"version": 1, "entries": [
          {"path": "services/billing/invoices.py", "code": "ATR001", "hash": "3f9a..."}
        ]}
    """
    instead = """
        # fix the finding; or land the baseline update on its own, reviewed, and let that
        # one pipeline run pass with:
        attrlint check --new-since origin/main --allow-policy-changes
    """
    fix_safety = ("No automatic fix: whether to accept a finding is a decision for a reviewer. "
                  "`--allow-policy-changes` reports the entry as a note and does not fail.")
    valid = (
        _pair(_baseline(("app.py", "aaaa")), _baseline(("app.py", "aaaa"))),
        _pair(_baseline(("app.py", "aaaa"), ("lib.py", "bbbb")), _baseline(("app.py", "aaaa"))),
        _pair(_baseline(("app.py", "aaaa")), _baseline()),
    )
    invalid = (
        _pair(_baseline(), _baseline(("app.py", "aaaa"))),
        _pair(_baseline(("app.py", "aaaa")), _baseline(("app.py", "aaaa"), ("app.py", "aaaa"))),
        _pair("", _baseline(("app.py", "aaaa"))),
    )


class PolicyRelaxed(PolicyRule):
    code = "ATR202"
    name = "policy-relaxed"
    summary = "A change disables or narrows a check in the configuration (with --new-since)"
    what = ("With `--new-since REF`: compares each `[tool.attrlint]` configuration of the run with "
            "the one that applied at REF and reports every relaxation at its line: a rule disabled "
            "(`ignore` gains it, `select`/`extend-select` lose it, `strict` turned off), "
            "`per-file-ignores` added or widened, `exclude`/`extend-exclude` patterns added, "
            "`required-fields` reduced (globally or for an agent), an agent removed or its `paths` "
            "changed, the key registry relaxed (a key added to a registry that had keys, the "
            "registry emptied, `expires` moved later, a key's `agent`, `provider` or `environment` "
            "changed), an alias added or retargeted, a placeholder value dropped, "
            "`max-metadata-fields` raised, or a wrapper declared or given more fields. A "
            "configuration that did not exist at REF is compared with the one that applied "
            "there (a parent directory's, else attrlint's defaults).")
    why = ("Configuration decides what is checked. A pull request that ignores the rule its code "
           "breaks, or excludes its own files, passes its own check unless the change of policy "
           "is itself reported.")
    example = """
        # pyproject.toml at the base ref
        [tool.attrlint]
        required-fields = ["ticket_id", "customer_id", "agent_id"]

        # pyproject.toml in the pull request
        [tool.attrlint]
        required-fields = ["ticket_id"]          # ATR202: customer_id, agent_id dropped
        ignore = ["ATR001"]                      # ATR202: ATR001 disabled
        per-file-ignores = {"billing/*" = ["ATR0"]}
    """
    instead = """
        # fix what the checks report; or land the policy change on its own, reviewed, and
        # let that one pipeline run pass with:
        attrlint check --new-since origin/main --allow-policy-changes
    """
    fix_safety = ("No automatic fix: a policy change may be intended. `--allow-policy-changes` "
                  "reports it as a note and does not fail.")
    valid = (
        _pair('[tool.attrlint]\nignore = ["ATR001"]', "[tool.attrlint]\nignore = []"),
        _pair("[tool.attrlint]", '[tool.attrlint]\nextend-select = ["ATR008"]'),
        _pair('[tool.attrlint]\nrequired-fields = ["ticket_id"]',
              '[tool.attrlint]\nrequired-fields = ["ticket_id", "customer_id"]'),
        _pair('[tool.attrlint]\nextend-exclude = ["build/gen"]', '[tool.attrlint]\nexclude = []'),
        _pair("[tool.attrlint]", '[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nagent = "support"\n'
                                 'owner = "a@example.com"\nexpires = 2030-01-01'),
        _pair('[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nexpires = 2030-01-01',
              '[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nexpires = 2029-01-01'),
        _pair('[tool.attrlint.agents.support]\npaths = ["support/**"]',
              '[tool.attrlint.agents.support]\npaths = ["support/**"]\n\n'
              '[tool.attrlint.agents.billing]\npaths = ["billing/**"]'),
        _pair("[tool.attrlint]", '[tool.attrlint]\nplaceholders = ["n.a."]'),
        _pair('[tool.ruff]\nignore = ["E501"]\n\n[tool.attrlint]',
              '[tool.ruff]\nignore = ["E501", "F401"]\n\n[tool.attrlint]'),
    )
    invalid = (
        _pair("[tool.attrlint]", '[tool.attrlint]\nignore = ["ATR001"]'),
        _pair('[tool.attrlint]\nselect = ["ATR0", "ATR1"]', '[tool.attrlint]\nselect = ["ATR0"]'),
        _pair("[tool.attrlint]\nstrict = true", "[tool.attrlint]\nstrict = false"),
        _pair("[tool.attrlint]", '[tool.attrlint.per-file-ignores]\n"billing/*" = ["ATR001"]'),
        _pair('[tool.attrlint.per-file-ignores]\n"billing/old.py" = ["ATR001"]',
              '[tool.attrlint.per-file-ignores]\n"billing/old.py" = ["ATR0"]'),
        _pair("[tool.attrlint]", '[tool.attrlint]\nextend-exclude = ["billing"]'),
        _pair("[tool.attrlint]", '[tool.attrlint]\nrequired-fields = ["ticket_id"]'),
        _pair('[tool.attrlint.agents.support]\npaths = ["support/**"]',
              '[tool.attrlint.agents.support]\npaths = ["support/**"]\nrequired-fields = ["ticket_id"]'),
        _pair('[tool.attrlint.agents.support]\npaths = ["support/**"]',
              '[tool.attrlint.agents.support]\npaths = ["support/bot.py"]'),
        _pair('[tool.attrlint.agents.support]\npaths = ["support/**"]', "[tool.attrlint]"),
        _pair('[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nexpires = 2030-01-01',
              '[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nexpires = 2030-01-01\n\n'
              '[tool.attrlint.keys.OPENAI_KEY_BILLING]\nexpires = 2030-01-01'),
        _pair('[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nexpires = 2030-01-01',
              '[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nexpires = 2031-01-01'),
        _pair('[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nagent = "support"',
              '[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nagent = "billing"'),
        _pair('[tool.attrlint.keys.OPENAI_KEY_SUPPORT]\nagent = "support"', "[tool.attrlint]"),
        _pair("[tool.attrlint]", '[tool.attrlint.aliases]\nref = "ticket_id"'),
        _pair('[tool.attrlint]\nplaceholders = ["n.a."]', "[tool.attrlint]"),
        _pair("[tool.attrlint]", "[tool.attrlint]\nmax-metadata-fields = 20"),
        _pair("[tool.attrlint]", '[tool.attrlint.wrappers."app.llm:ask"]\nsupplies = {ticket_id = "ticket"}'),
        _pair('[tool.attrlint]\nrequired-fields = ["ticket_id", "customer_id", "agent_id", "team_id"]', ""),
    )


RULES = [BaselineEntryAdded, PolicyRelaxed]

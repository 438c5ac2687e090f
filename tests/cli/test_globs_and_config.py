"""The one glob matcher (exclude, extend-exclude, per-file-ignores, agent paths) and the
configuration's validation: every bad value is one line naming the file and key, exit 2."""

from __future__ import annotations

import json

import pytest
from support.source import write_tree

from attrlint.core.config import ConfigError, parse_config
from attrlint.core.globs import GlobError, Globs, check_pattern

UNATTRIBUTED = 'import litellm\nlitellm.completion(model="m", messages=[])\n'

# (patterns, path, is_dir, matched): the semantics the README documents.
SEMANTICS = [
    # unanchored: a name at any depth, file or folder, and everything under a folder
    (["build"], "build/x.py", False, True),
    (["build"], "src/build/x.py", False, True),
    (["build"], "builder/x.py", False, False),
    (["*.egg-info"], "pkg.egg-info/x.py", False, True),
    (["test_*.py"], "a/b/test_x.py", False, True),
    # anchored by a slash at the start or in the middle
    (["scripts/*.py"], "scripts/a.py", False, True),
    (["scripts/*.py"], "src/scripts/a.py", False, False),
    (["scripts/*.py"], "scripts/sub/a.py", False, False),  # `*` does not cross `/`
    (["pkg/sub"], "pkg/sub/b.py", False, True),
    (["pkg/sub"], "x/pkg/sub/b.py", False, False),
    (["/setup.py"], "setup.py", False, True),
    (["/setup.py"], "sub/setup.py", False, False),
    (["./setup.py"], "sub/setup.py", False, False),  # `./x` is `/x`
    # `**`
    (["scripts/**"], "scripts/a/b/c.py", False, True),
    (["**/generated/*.py"], "a/b/generated/x.py", False, True),
    (["**/generated/*.py"], "generated/x.py", False, True),
    (["a/**/b"], "a/b/x.py", False, True),
    (["a/**/b"], "a/x/y/b/z.py", False, True),
    # a trailing slash matches folders only
    (["out/"], "out", True, True),
    (["out/"], "out", False, False),
    (["out/"], "out/x.py", False, True),
    # negation: the last matching pattern decides
    (["legacy/*", "!legacy/keep.py"], "legacy/keep.py", False, False),
    (["legacy/*", "!legacy/keep.py"], "legacy/other.py", False, True),
    (["legacy/", "!legacy/keep.py"], "legacy/keep.py", False, False),
    (["legacy", "!keep.py"], "legacy/a/keep.py", False, False),
]


@pytest.mark.parametrize(("patterns", "path", "is_dir", "matched"), SEMANTICS)
def test_glob_semantics(patterns, path, is_dir, matched):
    assert Globs(patterns).matches(path, is_dir=is_dir) is matched


@pytest.mark.parametrize(("pattern", "fragment"), [
    ("", "empty pattern"),
    ("!", "`!` alone"),
    ("#generated", "comment"),
    ("scripts\\x.py", "use `/`"),
    ("src/[abc.py", "unclosed `[`"),
    ("../other", "`..` cannot match"),
    ("a//b", "`//`"),
])
def test_bad_patterns_are_errors(pattern, fragment):
    with pytest.raises(GlobError) as caught:
        check_pattern(pattern)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("exclude", [["scripts/*.py"], ["scripts/**"], ["scripts"], ["/scripts/"]])
@pytest.mark.parametrize("args", [(), (".",), ("scripts",)])
def test_exclude_with_a_slash_excludes_on_every_invocation(run_cli, tmp_path, exclude, args):
    write_tree(tmp_path, {
        "pyproject.toml": f"[tool.attrlint]\nexclude = {json.dumps(exclude)}\n",
        "scripts/a.py": UNATTRIBUTED,
        "app.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--output-format", "json", *args, cwd=tmp_path)
    paths = [f["path"] for f in json.loads(result.stdout)["findings"]]
    assert "scripts/a.py" not in paths
    if not args or args == (".",):
        assert paths == ["app.py"]


def test_negated_exclude_reincludes_and_the_walk_finds_it(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.attrlint]\nextend-exclude = ["legacy/", "!legacy/keep/**"]\n',
        "legacy/old.py": UNATTRIBUTED,
        "legacy/keep/new.py": UNATTRIBUTED,
        "app.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--output-format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["app.py", "legacy/keep/new.py"]


def test_exclude_of_a_nested_folder(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.attrlint]\nexclude = ["pkg/sub", "tests/fixtures"]\n',
        "pkg/sub/b.py": UNATTRIBUTED,
        "pkg/c.py": UNATTRIBUTED,
        "tests/fixtures/f.py": UNATTRIBUTED,
    })
    for args in ((), (".",), ("pkg",), ("tests",)):
        result = run_cli("check", "--output-format", "json", *args, cwd=tmp_path)
        paths = [f["path"] for f in json.loads(result.stdout)["findings"]]
        assert "pkg/sub/b.py" not in paths and "tests/fixtures/f.py" not in paths, (args, paths)
    assert run_cli("check", "--force-exclude", "pkg/sub/b.py", cwd=tmp_path).exit_code == 0
    assert run_cli("check", "pkg/sub/b.py", cwd=tmp_path).exit_code == 1  # named explicitly: checked


def test_per_file_ignores_and_agent_paths_use_the_same_globs(tmp_path):
    config = parse_config({
        "per-file-ignores": {"tests/**": ["ATR001"], "!src/**": ["ATR102"], "conftest.py": ["ATR003"]},
        "agents": {"support": {"paths": ["services/support", "!services/support/vendored/**"]}},
    }, path=tmp_path / "pyproject.toml")
    assert config.ignored_codes_for(tmp_path / "tests/a/test_x.py") == ("ATR001", "ATR102")
    assert config.ignored_codes_for(tmp_path / "src/app.py") == ()
    assert config.ignored_codes_for(tmp_path / "src/pkg/conftest.py") == ("ATR003",)
    assert config.agent_for(tmp_path / "services/support/bot.py") == "support"
    assert config.agent_for(tmp_path / "services/support/vendored/lib.py") is None
    assert config.agent_for(tmp_path / "services/billing/bot.py") is None


@pytest.mark.parametrize(("toml", "message"), [
    ('exclude = ["src/[ab.py"]', "[tool.attrlint] exclude: pattern 'src/[ab.py': unclosed `[`"),
    ('extend-exclude = ["../x"]', "[tool.attrlint] extend-exclude: pattern '../x': `..` cannot match"),
    ('per-file-ignores = {"tests/**" = ["ATR01x"]}',
     "[tool.attrlint] per-file-ignores.\"tests/**\": 'ATR01x' is not a rule code"),
    ('per-file-ignores = {"#x" = ["ATR001"]}', "[tool.attrlint] per-file-ignores.\"#x\": pattern '#x'"),
    ('required-fields = []', "[tool.attrlint] required-fields: empty: list at least one field"),
    ('required-fields = ["ticket id"]', "[tool.attrlint] required-fields: 'ticket id' is not a metadata field"),
    ('[tool.attrlint.agents.bot]\npaths = ["bot/**"]\nrequired-fields = []',
     "[tool.attrlint] agents.bot.required-fields: empty"),
    ('[tool.attrlint.agents.bot]\npaths = ["bot/[x"]', "[tool.attrlint] agents.bot.paths: pattern 'bot/[x'"),
    ('[tool.attrlint.agents.bot]\npaths = "bot/**"', "[tool.attrlint] agents.bot.paths: expected a list of strings"),
    ('[tool.attrlint.keys.OPENAI_KEY_BOT]\nenvironment = "production"',
     "[tool.attrlint] keys.OPENAI_KEY_BOT.environment: 'production' is not an environment; write 'prod'"),
    ('[tool.attrlint.keys.OPENAI_KEY_BOT]\nenvironment = "live"',
     "[tool.attrlint] keys.OPENAI_KEY_BOT.environment: 'live' is not an environment; use one of prod, staging"),
])
def test_bad_configuration_is_one_line_naming_the_key(run_cli, tmp_path, toml, message):
    text = toml if toml.startswith("[") else "[tool.attrlint]\n" + toml
    write_tree(tmp_path, {"pyproject.toml": text + "\n", "app.py": UNATTRIBUTED})
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("attrlint: error: ") and "pyproject.toml: " in lines[0]
    assert message in lines[0]


def test_agent_required_fields_that_are_not_canonical_count_when_present(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": """
            [tool.attrlint.agents.claims]
            paths = ["claims/**"]
            required-fields = ["claim_id", "customer_id", "agent_id"]
        """,
        "claims/handle.py": """
            import litellm
            litellm.completion(model="m", messages=[],
                               metadata={"claim_id": "C-1", "customer_id": "acme", "agent_id": "claims"})
            litellm.completion(model="m", messages=[], metadata={"customer_id": "acme", "agent_id": "claims"})
        """,
    })
    result = run_cli("check", "--output-format", "json", cwd=tmp_path)
    found = [(f["line"], f["code"], f["message"]) for f in json.loads(result.stdout)["findings"]]
    assert [(line, code) for line, code, _ in found] == [(4, "ATR002")]
    assert "claim_id" in found[0][2]
    assert result.exit_code == 1


@pytest.mark.parametrize("name", ["attrlint.toml", ".attrlint.toml"])
def test_attrlint_toml_is_discovered_and_wins_over_pyproject(run_cli, tmp_path, name):
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.attrlint]\nexclude = ["nothing"]\n',
        name: 'exclude = ["legacy"]\n',
        "legacy/old.py": UNATTRIBUTED,
        "app.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--output-format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["app.py"]
    (tmp_path / name).write_text('selct = ["ATR001"]\n')
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert f"{name}: selct: unknown key" in result.stderr  # no [tool.attrlint] in a standalone file


def test_nested_attrlint_toml_applies_to_its_folder(run_cli, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": "[tool.attrlint]\n",
        "sub/attrlint.toml": 'ignore = ["ATR001"]\n',
        "sub/a.py": UNATTRIBUTED,
        "b.py": UNATTRIBUTED,
    })
    result = run_cli("check", "--output-format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["b.py"]


def test_config_error_without_a_file_names_the_key():
    with pytest.raises(ConfigError, match=r"\[tool.attrlint\] exclude: pattern ''"):
        parse_config({"exclude": [""]})

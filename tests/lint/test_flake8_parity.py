"""The flake8 plugin reports what `attrlint check` reports for the per-file rules."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import subprocess_env
from support.source import LLM_FILE

from attrlint.lint import runner
from attrlint.lint.suppression import Options

FILES = {
    "a.py": LLM_FILE.format(n=1),
    "b.py": "import litellm\nlitellm.completion(model='m', messages=[])\n",
    "c.py": "import os\nfrom anthropic import Anthropic\nc = Anthropic(api_key=os.environ['ANTHROPIC_API_KEY'])\n"
            "c.messages.create(model='m', max_tokens=1, messages=[], metadata={'user_id': 'u'})\n",
    "d.py": "def helper(x):\n    return x.chat.completions.create(model='m', messages=[])\n",
    "e.py": "import os\nkey = os.environ.get('MY_TEAM_KEY')\n",
    "f.py": "x = 1\n",
}


def test_flake8_plugin_matches_check_on_per_file_rules(tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True,
                           env=subprocess_env(), timeout=60)
    if "attrlint" not in probe.stdout:
        pytest.skip("the flake8 plugin is not registered in this environment")
    (tmp_path / "pyproject.toml").write_text("[tool.attrlint]\n[tool.attrlint.keys.MY_TEAM_KEY]\nowner = 'x@y.z'\n")
    for name, source in FILES.items():
        (tmp_path / name).write_text(source)
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "ATR", "--isolated", "."], cwd=tmp_path,
                          capture_output=True, text=True, env=subprocess_env(), timeout=120)
    plugin = set()
    for line in done.stdout.splitlines():
        match = re.match(r"\./(\S+?):(\d+):(\d+): (ATR\d+)", line)
        assert match, line
        plugin.add((match[1], int(match[2]), int(match[3]), match[4]))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = runner.run(["."], options=Options(), jobs=1, project_rules=False, warn=lambda m: None)
    finally:
        os.chdir(cwd)
    check = {(f.path.removeprefix("./"), f.line, f.column, f.code) for f in result.findings}
    assert check and plugin == check

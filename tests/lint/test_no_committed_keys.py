"""No file of this repository holds a key in a provider's format: the suite builds its keys at
run time (tests/support/keys.py), and attrlint's own key scanner checks every tracked file."""

from __future__ import annotations

import subprocess

import pytest
from support.cli import ROOT

from attrlint.core.catalogue import load_catalogue
from attrlint.core.keyscan import find_keys
from attrlint.core.redact import redact


def _tracked() -> list[str]:
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=60, check=False)
    except OSError:
        listing = None
    if listing is None or listing.returncode != 0:
        pytest.skip("the source tree is not a git work tree: nothing says which files are committed")
    return [name for name in listing.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def test_no_tracked_file_holds_a_key():
    catalogue = load_catalogue()
    found = []
    for name in _tracked():
        path = ROOT / name
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", "replace")
        found += [f"{name}: {match.format_name} {redact(match.key)}" for match in find_keys(text, catalogue)]
    assert not found, "key-shaped literals committed (build them at run time with tests/support/keys.py):\n" + \
        "\n".join(found)

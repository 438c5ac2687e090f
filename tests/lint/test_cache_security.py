"""A repository cannot run code through the result cache or forge its results.

The attacks are the ones a pull request can make: commit files where the cache lives (the
old pickle layout and the new one), forge an entry that says a noncompliant file is clean,
or commit symbolic links that point the cache elsewhere.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import stat
import subprocess
from pathlib import Path

import pytest
from support.cli import run_module

from attrlint.core.config import load_config
from attrlint.keys.governance import KeyRef
from attrlint.lint import cache as cache_module
from attrlint.lint import cache_auth, cache_data, runner
from attrlint.lint.cache import MAGIC, Cache, cache_root, digest, linter_fingerprint, shard_of
from attrlint.lint.diagnostics import Edit, FileResult, Finding, NoqaComment, NoqaUse
from attrlint.lint.engine import Linter
from attrlint.lint.suppression import Options

NONCOMPLIANT = """\
from openai import OpenAI

client = OpenAI()
client.chat.completions.create(model="gpt-4o", messages=[])
"""


class _Payload:
    """Unpickling this creates the directory `marker`: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.attrlint]\n")
    (root / "app.py").write_text(NONCOMPLIANT)
    return root


def _fingerprint(root: Path) -> str:
    return linter_fingerprint(Linter(load_config(root / "pyproject.toml"), Options()))


def _clean_entry(path: Path, shown: str) -> dict:
    """A shard that says `shown` (the file at `path`) has no findings, in the cache's format."""
    data = path.read_bytes()
    st = path.stat()
    return {shown: [st.st_size, st.st_mtime_ns, st.st_ino, digest(data).hex(), cache_module._today(),
                    [[], [], 1, False, None], False]}


def _sealed(fingerprint: str, name: str, data: object, key: bytes) -> bytes:
    body = json.dumps(data).encode()
    context = f"{cache_module.LAYOUT}/{fingerprint}/{name}".encode()
    return MAGIC + cache_auth.tag(context, body, key=key).hex().encode() + b"\n" + body


def _plant_forgery(project: Path, key: bytes) -> None:
    """What an attacker commits: a shard claiming app.py is clean, sealed with `key`."""
    fingerprint = _fingerprint(project)
    folder = project / ".attrlint_cache" / cache_module.LAYOUT / fingerprint
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{shard_of('app.py'):02d}.json"
    (folder / name).write_bytes(_sealed(fingerprint, name, _clean_entry(project / "app.py", "app.py"), key))


def _check(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`attrlint check .` in `project` as CI runs it: the default cache place, a fresh user."""
    return run_module("check", ".", cwd=project, env={"XDG_CACHE_HOME": str(project.parent / "home-cache"),
                                                      "CI": "true", **env})


# -- no code runs -----------------------------------------------------------------------


def test_the_payload_works_when_unpickled(tmp_path: Path) -> None:
    """The control for the tests below: this payload does run when something unpickles it."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.is_dir()


@pytest.mark.parametrize("where", ["v1/{fp}/00.pickle", "v1/{fp}/project.pickle", "v2/{fp}/{shard}.json",
                                   "v2/{fp}/{shard}.facts.json", "v2/{fp}/project.json", "v2/{fp}/{shard}.pickle"])
def test_a_planted_pickle_never_runs(tmp_path: Path, where: str) -> None:
    project = _project(tmp_path / "repo")
    marker = tmp_path / "pwned"
    target = project / ".attrlint_cache" / where.format(fp=_fingerprint(project), shard=f"{shard_of('app.py'):02d}")
    target.parent.mkdir(parents=True)
    target.write_bytes(pickle.dumps(_Payload(marker)))
    done = _check(project)
    assert not marker.exists()
    assert done.returncode == 1, done.stderr
    assert "ATR001" in done.stdout and "internal error" not in done.stderr


def test_a_payload_in_the_new_format_is_data(tmp_path: Path) -> None:
    """A sealed file that holds a pickle, or JSON shaped like one, is read as data or not at all."""
    project = _project(tmp_path / "repo")
    marker = tmp_path / "pwned"
    fingerprint = _fingerprint(project)
    folder = project / ".attrlint_cache" / "v2" / fingerprint
    folder.mkdir(parents=True)
    name = f"{shard_of('app.py'):02d}.json"
    body = pickle.dumps(_Payload(marker))
    context = f"v2/{fingerprint}/{name}".encode()
    (folder / name).write_bytes(MAGIC + cache_auth.tag(context, body, key=b"k" * 32).hex().encode() + b"\n" + body)
    (folder / "project.json").write_text(json.dumps({"__reduce__": ["os.mkdir", [str(marker)]]}))
    done = _check(project)
    assert not marker.exists()
    assert "ATR001" in done.stdout and done.returncode == 1


# -- a forged cache changes nothing --------------------------------------------------------


def _findings(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    """An in-process `check .` in `project` with the cache in its default place."""
    monkeypatch.chdir(project)
    monkeypatch.delenv("ATTRLINT_CACHE_DIR", raising=False)
    return runner.run(["."], options=Options(), jobs=1, use_cache=True, warn=lambda message: None).findings


def _run(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return [f.code for f in _findings(project, monkeypatch)]


def test_a_forged_clean_entry_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    _plant_forgery(project, key=b"attacker-key-000000000000000000")
    assert "ATR001" in _run(project, monkeypatch)


def test_the_forgery_is_honoured_only_with_the_users_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the same entry sealed with this user's key is a hit, so the test above
    fails if authentication stops being checked."""
    project = _project(tmp_path / "repo")
    _plant_forgery(project, key=cache_auth.user_key())
    assert _run(project, monkeypatch) == []


def test_a_tampered_genuine_shard_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    genuine = sorted(f.message for f in _findings(project, monkeypatch))
    [shard] = (project / ".attrlint_cache" / "v2").glob("*/[0-9][0-9].json")
    raw = shard.read_bytes()
    assert b"has no attribution" in raw
    shard.write_bytes(raw.replace(b"has no attribution", b"is attributed, ok"))  # still well-formed
    assert sorted(f.message for f in _findings(project, monkeypatch)) == genuine
    shard.write_bytes(raw.replace(b"has no attribution", b"is attributed, ok"))
    os.utime(project / "app.py", ns=(1, 1))  # no stat hit: the digest path is tried too
    assert sorted(f.message for f in _findings(project, monkeypatch)) == genuine


def test_a_genuine_shard_moved_to_another_configuration_is_a_miss(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Tags bind a file to its place: a shard from a laxer configuration copied over a
    stricter one's does not verify there."""
    project = _project(tmp_path / "repo")
    (project / "pyproject.toml").write_text('[tool.attrlint]\nignore = ["ATR0"]\n')
    assert _run(project, monkeypatch) == ["ATR102"]
    lax = next((project / ".attrlint_cache" / "v2").iterdir())
    (project / "pyproject.toml").write_text("[tool.attrlint]\n")
    strict_dir = project / ".attrlint_cache" / "v2" / _fingerprint(project)
    strict_dir.mkdir()
    for shard in lax.glob("*.json"):
        (strict_dir / shard.name).write_bytes(shard.read_bytes())
    assert "ATR001" in _run(project, monkeypatch)


def test_a_committed_cache_changes_nothing_in_ci(tmp_path: Path) -> None:
    """Two CI runs on fresh runners, one checkout with a committed (forged) cache folder and one
    without: the same report and exit status."""
    project = _project(tmp_path / "repo")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(project)], check=True)
    subprocess.run([*git, "-C", str(project), "add", "."], check=True)
    subprocess.run([*git, "-C", str(project), "commit", "-qm", "app"], check=True)
    clean = tmp_path / "clean"
    subprocess.run(["git", "clone", "-q", str(project), str(clean)], check=True)
    _plant_forgery(project, key=b"attacker-key-000000000000000000")
    subprocess.run([*git, "-C", str(project), "add", "-f", ".attrlint_cache"], check=True)
    subprocess.run([*git, "-C", str(project), "commit", "-qm", "cache"], check=True)
    poisoned = tmp_path / "poisoned"
    subprocess.run(["git", "clone", "-q", str(project), str(poisoned)], check=True)
    assert list((poisoned / ".attrlint_cache").rglob("*.json"))
    with_cache, without = _check(poisoned), _check(clean)
    assert (with_cache.returncode, with_cache.stdout) == (without.returncode, without.stdout) == (1, without.stdout)
    assert "ATR001" in without.stdout


# -- links committed into the cache folder ---------------------------------------------------


def test_a_linked_cache_folder_in_the_project_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / ".attrlint_cache").symlink_to(elsewhere)
    assert "ATR001" in _run(project, monkeypatch)
    assert list(elsewhere.iterdir()) == []


def test_a_linked_layout_folder_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    victim = tmp_path / "victim"
    (victim / "0123456789abcdef0123").mkdir(parents=True)  # named like a fingerprint, old
    os.utime(victim / "0123456789abcdef0123", (1, 1))
    (project / ".attrlint_cache").mkdir()
    (project / ".attrlint_cache" / "v2").symlink_to(victim)
    assert "ATR001" in _run(project, monkeypatch)
    assert [p.name for p in victim.iterdir()] == ["0123456789abcdef0123"]


def test_pruning_removes_only_old_fingerprint_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    layout = project / ".attrlint_cache" / "v2"
    old = layout / "00000000000000000000"
    other = layout / "not-a-fingerprint"
    linked = layout / "11111111111111111111"
    outside = tmp_path / "outside"
    for folder in (old, other, outside):
        folder.mkdir(parents=True)
        os.utime(folder, (1, 1))
    linked.symlink_to(outside)
    _run(project, monkeypatch)
    assert not old.exists()
    assert other.is_dir() and outside.is_dir() and linked.is_symlink()


def test_a_linked_shard_is_not_read_and_is_replaced_not_written_through(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    folder = project / ".attrlint_cache" / "v2" / _fingerprint(project)
    folder.mkdir(parents=True)
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (folder / f"{shard_of('app.py'):02d}.json").symlink_to(target)
    assert "ATR001" in _run(project, monkeypatch)
    assert target.read_text() == "keep me"
    assert not (folder / f"{shard_of('app.py'):02d}.json").is_symlink()


# -- the key --------------------------------------------------------------------------------


@pytest.fixture
def fresh_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache_auth.forget_key()
    yield tmp_path / "xdg" / "attrlint" / cache_auth.KEY_NAME
    cache_auth.forget_key()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_the_key_is_private_and_kept(fresh_key: Path) -> None:
    key = cache_auth.user_key()
    assert len(key) == 32 and not cache_auth.key_is_ephemeral()
    assert stat.S_IMODE(fresh_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh_key.parent.stat().st_mode) == 0o700
    cache_auth.forget_key()
    assert cache_auth.user_key() == key


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_readable_or_linked_key_file_is_replaced(fresh_key: Path, tmp_path: Path) -> None:
    """A key others could read (as git checks files out) is not trusted: a new one replaces it."""
    fresh_key.parent.mkdir(parents=True)
    fresh_key.write_bytes(b"k" * 32)
    fresh_key.chmod(0o644)
    key = cache_auth.user_key()
    assert key != b"k" * 32 and fresh_key.read_bytes() == key
    assert stat.S_IMODE(fresh_key.stat().st_mode) == 0o600
    cache_auth.forget_key()
    planted = tmp_path / "planted.key"
    planted.write_bytes(b"p" * 32)
    planted.chmod(0o600)
    fresh_key.unlink()
    fresh_key.symlink_to(planted)
    assert cache_auth.user_key() != b"p" * 32


def test_no_usable_key_directory_means_a_key_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no directory can be made under it
    cache_auth.forget_key()
    try:
        assert len(cache_auth.user_key()) == 32 and cache_auth.key_is_ephemeral()
        project = _project(tmp_path / "repo")
        assert "ATR001" in _run(project, monkeypatch)
        assert "ATR001" in _run(project, monkeypatch)
    finally:
        cache_auth.forget_key()


@pytest.mark.skipif(os.name == "nt", reason="XDG applies to POSIX systems")
def test_a_relative_xdg_cache_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_auth.user_cache_dir() == tmp_path / ".cache" / "attrlint"


# -- placement ------------------------------------------------------------------------------


def test_the_cache_sits_next_to_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    (project / "sub").mkdir()
    (project / "sub" / "mod.py").write_text(NONCOMPLIANT)
    monkeypatch.chdir(project / "sub")
    monkeypatch.delenv("ATTRLINT_CACHE_DIR")
    runner.run(["."], options=Options(), jobs=1, use_cache=True, warn=lambda message: None)
    assert (project / ".attrlint_cache" / "CACHEDIR.TAG").is_file()
    assert not (project / "sub" / ".attrlint_cache").exists()


def test_cache_dir_option_and_variable_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(_project(tmp_path / "repo") / "pyproject.toml")
    monkeypatch.delenv("ATTRLINT_CACHE_DIR")
    assert cache_root(config) == (tmp_path / "repo" / ".attrlint_cache", False)
    monkeypatch.setenv("ATTRLINT_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root(config) == (tmp_path / "env", True)
    assert cache_root(config, str(tmp_path / "opt")) == (tmp_path / "opt", True)
    monkeypatch.delenv("ATTRLINT_CACHE_DIR")
    monkeypatch.chdir(tmp_path)
    assert cache_root(load_config(None, start=tmp_path)) == (tmp_path / ".attrlint_cache", False)


def test_the_cli_caches_at_the_project_root_unless_told_not_to(tmp_path: Path) -> None:
    project = _project(tmp_path / "repo")
    assert _check(project).returncode == 1
    assert (project / ".attrlint_cache" / "CACHEDIR.TAG").is_file()
    other = _project(tmp_path / "other")
    done = run_module("check", "--no-cache", ".", cwd=other, env={"XDG_CACHE_HOME": str(tmp_path / "home-cache")})
    assert done.returncode == 1 and not (other / ".attrlint_cache").exists()


# -- the data format ---------------------------------------------------------------------------


def test_the_format_covers_every_field() -> None:
    """A field added to a result type must be added to the cache's format too."""
    assert tuple(f.name for f in dataclasses.fields(Finding)) == cache_data.FINDING_FIELDS
    assert tuple(f.name for f in dataclasses.fields(Edit)) == cache_data.EDIT_FIELDS
    assert tuple(f.name for f in dataclasses.fields(KeyRef)) == cache_data.KEYREF_FIELDS
    assert tuple(f.name for f in dataclasses.fields(FileResult)) == cache_data.RESULT_FIELDS
    assert tuple(f.name for f in dataclasses.fields(NoqaUse)) == cache_data.NOQA_USE_FIELDS
    assert tuple(f.name for f in dataclasses.fields(NoqaComment)) == cache_data.NOQA_COMMENT_FIELDS


def test_results_round_trip() -> None:
    finding = Finding("ATR003", "alias", "use ticket_id", "a.py", 3, 5, 3, 9,
                      fix=Edit(3, 5, 3, 9, '"ticket_id"', safe=False), snippet="x", cell=2, scope="f")
    other = dataclasses.replace(finding, path="b.py", fix=None, cell=None)
    ref = KeyRef("OPENAI_KEY", "a.py", 1, 2, 1, 9, "openai", True, False, snippet="s", cell=None, noqa="*")
    noqa = NoqaUse([NoqaComment(3, 20, "# noqa: ATR001, E501", 0, 20, ("ATR001", "E501")),
                    NoqaComment(7, 1, "# noqa", 0, 6, None)], {3: "ATR001,E501", 7: "*"}, {(3, "ATR001")})
    result = FileResult("a.py", [finding, other], [ref], llm_calls=2, skipped=False, noqa=noqa)
    data = json.loads(json.dumps(cache_data.encode_result(result)))
    assert cache_data.decode_result(data, "a.py") == result
    assert cache_data.decode_findings(json.loads(json.dumps(cache_data.encode_findings([finding])))) == [finding]


@pytest.mark.parametrize("bad", [
    None, [], {}, "x", [[], [], 1], [[], [], -1, False, None], [[], [], 1, 0, None],
    [[], [], 1, False], [[["ATR1"] * 12], [], 1, False, None],
    [[["ATR001", "n", "m", None, 1, 1, 1, "1", None, "", None, ""]], [], 1, False, None],
    [[["ATR001", "n", "m", None, 1, 1, 1, 1, [1, 1, 1, 1, "x"], "", None, ""]], [], 1, False, None],
    [[["ATR001", "n", "m", None, 1, 1, 1, 1, [1, 1, 1, 1, "x", "yes"], "", None, ""]], [], 1, False, None],
    [[], [["K", None, 1, 1, 1, 1, None, "yes", False, "", None, ""]], 1, False, None],
    [[], [], True, False, None], [[], [], 1, False, [[], [[1, 2]], []]], [[], [], 1, False, [[], [], [[1]]]],
])
def test_malformed_results_raise_data_error(bad: object) -> None:
    with pytest.raises((cache_data.DataError, ValueError)):
        cache_data.decode_result(bad, "a.py")


def test_a_malformed_authentic_entry_is_a_miss(tmp_path: Path) -> None:
    """Even an entry this user's attrlint sealed is checked field by field."""
    cache = Cache(tmp_path / "c", "0" * 20)
    target = tmp_path / "a.py"
    target.write_text("x = 1\n")
    st = target.stat()
    name = f"{shard_of(str(target)):02d}.json"
    cache.dir.mkdir(parents=True)
    good = digest(target.read_bytes()).hex()
    for entry in ([st.st_size, st.st_mtime_ns, st.st_ino, "zz", 1, [[], [], 0, False, None], False],
                  [st.st_size, st.st_mtime_ns, st.st_ino, good, 1, {"os": "system"}, False],
                  [st.st_size, st.st_mtime_ns, st.st_ino, good, 1, [[["ATR001"]], [], 0, False, None], False],
                  "nope"):
        cache._write_sealed(name, {str(target): entry})
        fresh = Cache(tmp_path / "c", "0" * 20)
        assert fresh.lookup(str(target), st) is None
        assert fresh.lookup_digest(str(target), st, digest(target.read_bytes())) is None


def test_no_pickle_in_a_fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "repo")
    _run(project, monkeypatch)
    files = [p for p in (project / ".attrlint_cache").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".json", ".TAG", ".gitignore", ".used", ""}
    for path in files:
        if path.suffix == ".json":
            raw = path.read_bytes()
            assert raw.startswith(MAGIC)
            json.loads(raw.split(b"\n", 2)[2])



# -- facts the cache has lost -------------------------------------------------------------------

WRAPPER = """\
from openai import OpenAI
client = OpenAI(api_key=KEY)

def get_completion(prompt, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=[], **kwargs)
"""
CALLER = "from llm import get_completion\n\ndef bad(q):\n    return get_completion(q)\n"


@pytest.mark.parametrize("damage", ["delete", "forge"])
def test_lost_facts_are_rebuilt_not_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    """The project phase never runs on a cached file without its facts: a wrapper whose facts
    are gone would silently lose its call sites' findings."""
    project = tmp_path / "repo"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.attrlint]\n")
    (project / "llm.py").write_text(WRAPPER)
    (project / "views.py").write_text(CALLER)
    first = sorted((f.code, f.path, f.line) for f in _findings(project, monkeypatch))
    assert ("ATR001", "views.py", 4) in first
    for facts in (project / ".attrlint_cache").rglob("*.facts.json"):
        if damage == "delete":
            facts.unlink()
        else:
            facts.write_bytes(facts.read_bytes().replace(b"get_completion", b"get_completiom"))
    (project / "other.py").write_text("x = 1\n")  # a new tree: the project phase runs again
    again = sorted((f.code, f.path, f.line) for f in _findings(project, monkeypatch))
    assert again == first

"""The line of each registry entry (what `keys` findings point at) is found in one pass over the
file, however many keys it holds."""

from __future__ import annotations

from pathlib import Path

from attrlint.core import config as config_module
from attrlint.core.config import load_config


def test_ten_thousand_keys_get_their_header_lines_from_one_pass(tmp_path: Path) -> None:
    parts = ["[tool.attrlint]\n"]
    for i in range(10_000):
        parts.append(f'[tool.attrlint.keys.KEY_{i}_OPENAI]\nagent = "a{i}"\nowner = "o"\nexpires = 2027-01-01\n\n')
    path = tmp_path / "pyproject.toml"
    path.write_text("".join(parts))
    config_module._header_index.cache_clear()
    config = load_config(path)
    assert len(config.keys) == 10_000
    assert all(config.keys[f"KEY_{i}_OPENAI"].line == 2 + 5 * i for i in range(10_000))
    info = config_module._header_index.cache_info()
    assert (info.misses, info.hits) == (1, 9_999)  # one scan of the file, then lookups


def test_header_spellings_inline_tables_and_missing_entries(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        "[tool.attrlint]\n"
        "strict = false\n"
        '[ tool . attrlint . keys . "DOTTED.NAME" ]\n'
        'agent = "a"\n'
        "  [tool.attrlint.agents.'sup port']\n"
        'paths = ["s/**"]\n'
        "[tool.attrlint.keys.INLINE_HOST]\n"
        'agent = "x"\n'
        "[tool.attrlint.keys]\n"
        'INLINE = { agent = "b" }\n'
        '"QUOTED" = { agent = "c" }\n'
    )
    config = load_config(path)
    assert config.keys["DOTTED.NAME"].line == 3
    assert config.agents["sup port"].line == 5
    assert config.keys["INLINE_HOST"].line == 7
    assert config.keys["INLINE"].line == 10
    assert config.keys["QUOTED"].line == 11

"""`attrlint ledger report --html FILE`: a self-contained page, checked as text and, when Chromium is
installed, as rendered by headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.ledgers import write_sample

from attrlint.cli import cli

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p and Path(p).exists()), None)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    directory = tmp_path_factory.mktemp("html")
    url = write_sample(directory)
    out = directory / "report.html"
    import os

    cwd = os.getcwd()
    os.chdir(directory)  # the budgets come from the sample's pyproject.toml
    try:
        result = CliRunner().invoke(cli, ["ledger", "report", "--ledger", url, "--today", "2026-06-30",
                                          "--since", "2026-06-01", "--html", str(out)], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return out


def test_report_is_self_contained_and_has_every_section(report):
    text = report.read_text()
    assert "<script" not in text and "<link" not in text and "<img" not in text and "@import" not in text
    assert not re.search(r"(https?:)?//[a-z]", text)  # nothing to fetch
    for section in ("daily", "budgets", "unattributed", "top-tickets", "top-customers"):
        assert f'id="{section}"' in text
    # 30 days x (support, billing) + experiments on 4 days + (none) on 4 days + backfill on 1 day
    assert text.count('<rect class="bar"') == 30 * 2 + 4 + 4 + 1
    assert 'id="total">$128.70<' in text  # support 67.50 + billing 36 + backfill 20 + rogue 4 + unknown 1.20
    assert "billing" in text and 'class="num over">180%' in text
    assert "T-BACKFILL" in text and "umbrella" in text
    assert 'id="unattributed-share">10%<' in text  # (12.00 + 1.20) / 128.70


def test_plain_report_output_is_unchanged_by_html(report):
    assert report.stat().st_size < 200_000


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (/usr/bin/chromium); apt-get install chromium")
def test_chromium_draws_the_charts(report, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert dom.count('<rect class="bar"') == 69 and dom.count("<svg") == 3
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1100,1600", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=120, check=True)
    colours = _png_colours(shot.read_bytes())
    # Pixels of each colour at full height (measured: about 32.7k, 22.5k, 9.3k, 8.0k). Bars drawn at the
    # wrong height (a page style overriding the SVG rects' height once did) fall well under these.
    expected = {(0x4e, 0x79, 0xa7): 25_000,  # support: 30 daily segments, its budget bar, table bars
                (0x59, 0xa1, 0x4f): 20_000,  # the backfill spike column and the attributed share bar
                (0xf2, 0x8e, 0x2b): 7_000,  # billing: 30 daily segments
                (0xe1, 0x57, 0x59): 4_000}  # experiments, billing's over-budget bar, the unattributed share
    for colour, least in expected.items():
        assert colours.get(colour, 0) > least, (colour, sorted(colours.items(), key=lambda kv: -kv[1])[:8])


def _png_colours(data: bytes) -> dict[tuple[int, int, int], int]:
    """Pixel counts per RGB colour of an 8-bit RGB/RGBA PNG (enough for Chromium's screenshots)."""
    import struct
    import zlib
    from collections import Counter

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    counts: Counter[tuple[int, int, int]] = Counter()
    for row in range(height):
        start = row * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        counts.update(zip(line[0::bpp], line[1::bpp], line[2::bpp]))
        prev = line
    return dict(counts)

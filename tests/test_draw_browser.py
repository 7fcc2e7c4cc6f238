"""Every spec's diagram opens in a real browser (headless Chromium, Debian's `chromium`).

One page holds every SVG as an image; Chromium loads it once and reports, for each, whether it
loaded and at what size, which must be the size the SVG declares; a second run takes a screenshot
of the page (kept under the test's temporary folder, or in $NCDC_SCREENSHOTS when set).  Outside
CI a machine without Chromium skips these tests, saying why; in CI (CI=true) its absence fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import ncdc
from ncdc.backend.draw import draw

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is missing in CI: .ci/run installs Debian's `chromium` package")
    pytest.skip("Chromium is not installed (apt-get install chromium); CI installs it")


def run(args: list[str], profile: Path) -> str:
    result = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    sizes = {}
    images = []
    for spec in sorted((ROOT / "specs").glob("*.ncd")):
        svg = draw(ncdc.check_file(spec))
        (folder / f"{spec.stem}.svg").write_text(svg, encoding="utf-8")
        w, h = (float(v) for v in re.search(r'width="([\d.]+)" height="([\d.]+)"', svg).groups())
        sizes[spec.stem] = (w, h)
        images.append(f'<img id="{spec.stem}" src="{html.escape(spec.stem)}.svg">')
    script = ("<script>const out={};function done(){document.getElementById('out').textContent="
              "JSON.stringify(out)}for(const i of document.images){const f=()=>{out[i.id]=i.complete&&"
              "i.naturalWidth>0?[i.naturalWidth,i.naturalHeight]:'error';done()};if(i.complete)f();else{"
              "i.onload=f;i.onerror=()=>{out[i.id]='error';done()}}}</script>")
    (folder / "index.html").write_text("<!doctype html><body style='margin:0'>" + "<br>".join(images)
                                       + "<pre id='out'></pre>" + script + "</body>", encoding="utf-8")
    return folder, sizes


def test_every_diagram_loads_at_its_declared_size(page, tmp_path):
    folder, sizes = page
    dom = run(["--virtual-time-budget=5000", "--dump-dom", (folder / "index.html").as_uri()], tmp_path / "p")
    found = json.loads(html.unescape(re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1)))
    for stem, (w, h) in sizes.items():
        assert found.get(stem) != "error", f"{stem}.svg did not load"
        assert found.get(stem) == [round(w), round(h)] or abs(found[stem][0] - w) <= 1 and abs(found[stem][1] - h) <= 1


def test_a_screenshot_of_every_diagram(page, tmp_path):
    folder, sizes = page
    width = int(max(w for w, _ in sizes.values())) + 1
    height = int(sum(h + 20 for _, h in sizes.values())) + 40
    shots = Path(os.environ.get("NCDC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    png = shots / "diagrams.png"
    run([f"--screenshot={png}", f"--window-size={width},{height}", (folder / "index.html").as_uri()], tmp_path / "p")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (width, height)

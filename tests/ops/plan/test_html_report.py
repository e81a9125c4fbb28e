"""The HTML report, opened in headless Chromium: the chart renders every compared series."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hashigo.ops.plan.render_html import PALETTE
from tests.harness.base import missing_server
from tests.ops.plan.helpers import invoke

STACKS = ["fly-postgres", "aws-fargate", "cloud-run"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        missing_server("chromium", "apt-get install chromium (scripts/test installs it)")
        raise AssertionError("unreachable")
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One report (and the same plan as JSON) for every test here: the CLI is the slow part."""
    folder = tmp_path_factory.mktemp("html")
    args = ("--users", "1000..1000000", "--compare", ",".join(STACKS))
    result = invoke(folder, *args, "--html", "-o", "report.html")
    assert result.returncode == 0, result.stderr
    data = json.loads(invoke(folder, *args, "--json").stdout)
    return folder / "report.html", data


def test_report_is_self_contained(made: tuple[Path, dict[str, Any]]) -> None:
    report, _ = made
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.split("<h2>Monthly cost")[0])
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert html.count('class="series-line"') == len(STACKS)


def test_chart_renders_every_series_in_chromium(tmp_path: Path, made: tuple[Path, dict[str, Any]]) -> None:
    report, data = made
    result = chromium(tmp_path, "--dump-dom", report.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    # The inline script ran after layout and measured each drawn path.
    figure = re.search(r'<figure id="cost-chart"[^>]*>', dom)
    assert figure is not None and f'data-series-rendered="{len(STACKS)}"' in figure.group(0), dom[:3000]
    drawn = dict(re.findall(r'<path class="series-line" data-stack="([^"]+)"[^>]*data-rendered-length="([0-9.]+)"',
                            dom))
    assert set(drawn) == set(STACKS)
    assert all(float(length) > 100 for length in drawn.values()), drawn
    legend = re.findall(r'<g class="legend-item" data-stack="([^"]+)"', dom)
    assert legend == STACKS
    # The crossover sentences in the page are the ones the plan computed.
    sweep = data["sweep"]
    assert isinstance(sweep, dict)
    expected = [c["sentence"] for c in sweep["crossovers"]]
    shown = re.findall(r'<li class="crossover-text">([^<]+)</li>', dom)
    assert expected and shown[:len(expected)] == expected
    assert dom.count('class="crossover"') == len(expected)


def test_chart_pixels_show_each_series_colour(tmp_path: Path, made: tuple[Path, dict[str, Any]]) -> None:
    report, _ = made
    shot = tmp_path / "shot.png"
    result = chromium(tmp_path, "--window-size=1200,1000", "--hide-scrollbars", f"--screenshot={shot}",
                      report.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    wanted = [tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)) for colour in PALETTE[:len(STACKS)]]
    with Image.open(shot) as image:
        colours: list[tuple[int, Any]] = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    counts = {colour: sum(n for n, seen in colours if all(abs(int(seen[i]) - colour[i]) <= 6 for i in range(3)))
              for colour in wanted}
    # Each series is a 3 px line hundreds of pixels long, plus its legend swatch (18 × 6).
    assert all(count > 300 for count in counts.values()), counts

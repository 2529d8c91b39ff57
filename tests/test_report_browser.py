"""The report in a real browser: headless Chromium renders it from file:// with no console errors.

Drives Debian's `chromium` directly (no driver library): `--dump-dom` gives the DOM after the
page's script ran, `--enable-logging=stderr` prints every console message (page errors, CSP
violations) as an ``INFO:CONSOLE`` line. The report itself never logs, so any console line is a
failure. Skips when `chromium` is not on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.report.command import build_report
from conformance.report.demo import record, write_build, write_sample
from conformance.results import RESULTS_FILE, write_records

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (Debian: apt-get install chromium)"),
]
TIMEOUT = 120  # seconds for one browser invocation; bounded so a hung browser fails the test
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=3000"]


def _chromium(tmp_path: Path, url: str, *action: str) -> tuple[str, list[str]]:
    """Run one headless action; return (stdout, console messages)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    assert CHROMIUM is not None
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *action, url],
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


class _Dom(HTMLParser):
    """Just enough of the dumped DOM: elements with their attributes and the text inside ids."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def having(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(
            v in a.get(k.rstrip("_"), "").split() for k, v in wanted.items())]


def _dom(html: str) -> _Dom:
    dom = _Dom()
    dom.feed(html)
    return dom


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    write_sample(root, builds=4)
    # The last build also carries a hostile record: its markup must stay text.
    base = write_build(root, 5)
    hostile = record(id="test_evil.py::test_x", area="errors", target="live", outcome="failed",
                     message='<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">',
                     run_id="live-20261125")
    write_records(base / "live" / RESULTS_FILE, [hostile])  # appends
    return build_report([base], root / "report", root / "history.jsonl", title="Browser check")


def test_report_renders_with_no_console_errors(sample: Path, tmp_path: Path) -> None:
    html, console = _chromium(tmp_path, sample.as_uri(), "--dump-dom")
    assert console == [], "console messages:\n" + "\n".join(console)
    dom = _dom(html)
    assert re.search(r"<title>Browser check</title>", html)  # the hostile record did not retitle the page
    assert not dom.having("img")
    assert "js" in dom.having("html")[0].get("class", "").split()  # the script ran to the end
    # matrix: 8 areas x 4 cells, coloured, each linking to its tests
    assert len(dom.having("tr", class_="area")) == 8
    assert dom.having("td", class_="s-fail") and dom.having("td", class_="s-deviation")
    assert dom.having("td", class_="s-pass") and dom.having("td", class_="s-none")
    ops = dom.having("tr", class_="op")
    assert ops and all("collapsed" in o["class"].split() for o in ops)  # JS collapsed operations
    # change list against build 4
    assert dom.having("ul", class_="newly-failing") and dom.having("ul", class_="new-tests")
    assert dom.having("ul", class_="removed-tests")
    # history: one chart per cell, lines drawn
    assert len(dom.having("svg", class_="chart")) == 4
    assert len(dom.having("path")) >= 8
    assert re.search(r'id="filter-count"[^>]*>\d+ shown<', html)


def test_filter_link_shows_only_matching_tests(sample: Path, tmp_path: Path) -> None:
    html, console = _chromium(tmp_path, sample.as_uri() + "#q=limit_range", "--dump-dom")
    assert console == []
    rows = _dom(html).having("tr", class_="test")
    visible = [r for r in rows if "hidden" not in r["class"].split()]
    assert len(visible) == 2  # the pagination.limit_range failure, on live x 2 api-versions
    assert len(rows) > 50
    groups = _dom(html).having("div", class_="group")
    shown = [g for g in groups if "hidden" not in g["class"].split()]
    assert len(shown) == 4  # live x 2 api-versions, each with its pagination group; the rest folds away


def test_screenshot_for_a_person_to_look_at(sample: Path, tmp_path: Path) -> None:
    """Run with -s to see where it went; AOAI_REPORT_SCREENSHOT=path chooses the file."""
    shot = Path(os.environ.get("AOAI_REPORT_SCREENSHOT", tmp_path / "screenshot.png")).resolve()
    shot.parent.mkdir(parents=True, exist_ok=True)
    _, console = _chromium(tmp_path, sample.as_uri(), "--hide-scrollbars", "--window-size=1400,2000",
                           f"--screenshot={shot}")
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a blank page compresses far smaller
    print(f"report screenshot: {shot}")

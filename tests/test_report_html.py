"""The HTML and Markdown outputs: hostile strings escaped, self-contained, sections present."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from conformance.report.chart import line_chart
from conformance.report.command import build_report
from conformance.report.demo import record, write_dir, write_sample
from conformance.report.markdown import md
from conformance.report.model import Cell

HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="alert(1)">"\'&'


class _Tags(HTMLParser):
    """Collects every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _hostile_report(tmp_path: Path) -> str:
    write_dir(tmp_path / "res", [record(
        id=f"test_x.py::test_evil[{HOSTILE}]", area=HOSTILE, operation=HOSTILE, target=HOSTILE,
        api_version=HOSTILE, outcome="failed", message=HOSTILE, rules=[HOSTILE], request=HOSTILE,
        response=HOSTILE, run_id=HOSTILE, operations=[HOSTILE], seed=7,
    )])
    return build_report([tmp_path / "res"], tmp_path / "out", tmp_path / "history.jsonl").read_text(encoding="utf-8")


def test_hostile_strings_never_become_markup(tmp_path: Path) -> None:
    html = _hostile_report(tmp_path)
    tags = _tags(html)
    assert [t for t, _ in tags if t == "script"] == ["script"]  # only the report's own script
    assert not [t for t, _ in tags if t == "img"]
    assert not any(name.startswith("on") for _, attrs in tags for name in attrs)
    assert "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in html


def test_csp_allows_only_the_pages_own_script_and_no_network(tmp_path: Path) -> None:
    html = _tags(_hostile_report(tmp_path))
    csp = next(a["content"] for t, a in html if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp)
    assert nonce is not None
    assert [a.get("nonce") for t, a in html if t == "script"] == [nonce.group(1)]


def test_report_is_self_contained(tmp_path: Path) -> None:
    html = write_sample(tmp_path).read_text(encoding="utf-8")
    for tag, attrs in _tags(html):
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), f"<{tag} {name}={value!r}> leaves the page"
    assert "<link" not in html and "@import" not in html
    assert "<svg" in html and 'id="matrix"' in html


def test_matrix_cells_link_to_their_tests(tmp_path: Path) -> None:
    html = write_sample(tmp_path).read_text(encoding="utf-8")
    links = set(re.findall(r'<a href="#(t-\d+-\d+)">', html))
    ids = set(re.findall(r'id="(t-\d+-\d+)"', html))
    assert links and links <= ids


def test_sample_report_shows_seed_rules_and_excerpts(tmp_path: Path) -> None:
    html = write_sample(tmp_path).read_text(encoding="utf-8")
    assert "seed: <code>184472</code>" in html  # the fuzz failure of the last sample build
    assert "<code>pagination.limit_range</code>" in html
    assert "limit=101 accepted" in html and "api-key: ***" in html
    assert "Newly failing (1)" in html and "Removed tests (4)" in html


def test_chart_escapes_area_names_and_draws_one_path_per_area() -> None:
    lines = [{"finished_at": f"2026-11-2{i}T00:00:00Z", "cells": [
        {"target": "t", "api_version": "v", "area": "<b>x</b>", "pass_rate": 0.5 + i / 10},
        {"target": "t", "api_version": "v", "area": "crud", "pass_rate": 1.0},
        {"target": "other", "api_version": "v", "area": "errors", "pass_rate": 0.0},
    ]} for i in range(3)]
    svg = line_chart(lines, Cell("t", "v"), {})
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert svg.count("<path ") == 2  # the other target's area is not drawn here
    assert svg.count("<circle ") == 6


def test_chart_leaves_a_gap_where_nothing_was_measured() -> None:
    rates = [1.0, None, 0.5]
    lines = [{"cells": [{"target": "t", "api_version": "v", "area": "a", "pass_rate": r}]} for r in rates]
    path = re.search(r'<path d="([^"]+)"', line_chart(lines, Cell("t", "v"), {}))
    assert path is not None and path.group(1).count("M") == 2 and "L" not in path.group(1)


def test_markdown_summary_escapes_and_keeps_table_shape(tmp_path: Path) -> None:
    write_dir(tmp_path / "res", [record(id="a|b", area="x|<script>", outcome="failed"), record(id="c")])
    build_report([tmp_path / "res"], tmp_path / "out", None)
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in summary
    row = next(line for line in summary.splitlines() if line.startswith("| x"))
    assert row.count("|") - row.count("\\|") == 3  # area column + one cell, no extra columns
    assert str(tmp_path / "out" / "index.html") in summary


def test_md_escape() -> None:
    assert md("a|b\n<c>*d*") == "a\\|b &lt;c&gt;\\*d\\*"


def test_readable_without_javascript(tmp_path: Path) -> None:
    """Without JS the page is its static HTML: nothing starts hidden, and CSS hides only under `.js`."""
    html = write_sample(tmp_path).read_text(encoding="utf-8")
    tags = _tags(html)
    assert not [a for _, a in tags if {"collapsed", "hidden"} & set((a.get("class") or "").split())]
    assert sum(1 for t, a in tags if t == "tr" and a.get("class") == "op") > 8  # operations listed
    css = html[html.index("<style"):html.index("</style>")]
    hiding = [rule.strip() for rule in re.findall(r"([^{}]+)\{[^}]*display:\s*none", css)]
    assert hiding and all(rule.startswith(".js ") or rule == "button.toggle" for rule in hiding), hiding


def test_chart_shows_only_the_last_30_builds() -> None:
    lines = [{"finished_at": f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}T00:00:00Z",
              "cells": [{"target": "t", "api_version": "v", "area": "crud", "pass_rate": 1.0}]} for i in range(45)]
    svg = line_chart(lines, Cell("t", "v"), {})
    assert svg.count("<circle ") == 30
    assert "last 30 build(s)" in svg
    assert "02-17" in svg and "01-01" not in svg  # the newest build is drawn, the oldest are not


def test_chart_ignores_non_finite_rates() -> None:
    lines = [{"cells": [{"target": "t", "api_version": "v", "area": "a", "pass_rate": r}]}
             for r in (float("nan"), 0.5, float("inf"))]
    svg = line_chart(lines, Cell("t", "v"), {})
    assert svg.count("<circle ") == 1 and "nan" not in svg.lower()

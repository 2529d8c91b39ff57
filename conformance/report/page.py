"""The HTML report: one self-contained file (inline CSS, a little inline JS, inline SVG).

Every string that comes from a record or a run file passes through `_e` (html.escape): those
strings come from servers under test and are treated as hostile. As a second fence, a
Content-Security-Policy allows only this page's own style and script (by a per-build nonce) and no
network at all, so even a missed escape could not run a script or fetch anything.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from importlib import resources

from conformance.report.changes import Change, Changes
from conformance.report.chart import area_colours, line_chart
from conformance.report.coverage import Coverage
from conformance.report.history import HistoryLine
from conformance.report.model import OUTCOMES, Build, Counts, operations_of, record_key, test_key
from conformance.results import TestRecord

LABELS = {"passed": "pass", "failed": "fail", "xpassed": "xpass", "error": "error",
          "xfailed": "known deviation", "skipped": "skip", "unavailable": "unavailable"}
SHORT = {"passed": "pass", "failed": "fail", "xpassed": "xpass", "error": "error",
         "xfailed": "dev", "skipped": "skip", "unavailable": "unav"}
_ORDER = {"error": 0, "failed": 1, "xpassed": 2, "unavailable": 3, "xfailed": 4, "skipped": 5, "passed": 6}
EXCERPT = 4000  # characters of a message / request / response shown per test


@dataclass
class PageInput:
    title: str
    built_at: str
    build: Build
    changes: Changes | None  # None: history disabled
    history: list[HistoryLine]
    coverage: list[Coverage]


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _clip(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters)"


def _asset(name: str) -> str:
    return resources.files("conformance.report").joinpath(name).read_text(encoding="utf-8")


def render(page: PageInput) -> str:
    nonce = secrets.token_urlsafe(16)
    csp = (f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    body = "\n".join([
        _header(page),
        "<main>",
        _matrix(page.build),
        _changes(page.changes, _row_ids(page.build)),
        _tests(page.build),
        _history(page),
        _coverage(page.coverage),
        "</main>",
    ])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(page.title)}</title>\n<style nonce=\"{nonce}\">\n{_asset('report.css')}</style>\n"
        f"</head>\n<body>\n{body}\n<script nonce=\"{nonce}\">\n{_asset('report.js')}</script>\n</body>\n</html>\n"
    )


def _chips(counts: Counts, short: bool = False) -> str:
    names = SHORT if short else LABELS
    parts = [f'<span class="chip o-{o}" title="{counts[o]} {LABELS[o]}">{counts[o]} {names[o]}</span>'
             for o in OUTCOMES if counts[o]]
    return "".join(parts) or '<span class="muted">none</span>'


def _rate(counts: Counts) -> str:
    rate = counts.pass_rate
    return "" if rate is None else f'<span class="rate" title="passed / measured">{rate:.0%}</span>'


def _header(page: PageInput) -> str:
    build = page.build
    totals = build.counts()
    requests, tokens = build.cost()
    targets = sorted({c.target for c in build.cells})
    versions = sorted({c.api_version for c in build.cells})
    runs = "".join(
        f"<tr><td>{_e(r.run_id)}</td><td>{_e(r.target)}</td><td>{_e(', '.join(map(str, r.api_versions)))}</td>"
        f"<td>{_e(r.started_at)}</td><td>{_e(r.finished_at)}</td><td>{_e(r.package_version)}</td>"
        f"<td>{r.requests}</td><td>{r.tokens}</td><td><code>{_e(r.command)}</code></td></tr>"
        for r in sorted(build.runs, key=lambda r: (r.run_id, r.target, r.started_at))
    )
    runs_table = (
        "<details><summary>runs</summary><table class=\"runs\"><tr><th>run id</th><th>target</th>"
        "<th>api-versions</th><th>started</th><th>finished</th><th>version</th><th>requests</th>"
        f"<th>tokens</th><th>command</th></tr>{runs}</table></details>" if runs else ""
    )
    return f"""<header>
<h1>{_e(page.title)}</h1>
<nav><a href="#matrix">matrix</a><a href="#changes">changes</a><a href="#tests">tests</a>
<a href="#history">history</a><a href="#coverage">coverage</a></nav>
<dl class="facts">
<dt>targets</dt><dd>{_e(', '.join(targets))}</dd>
<dt>api-versions</dt><dd>{_e(', '.join(versions))}</dd>
<dt>runs</dt><dd>{_e(', '.join(build.run_ids) or '(no run id)')}</dd>
<dt>finished</dt><dd>{_e(build.finished_at or 'unknown')} <span class="muted">(report built {_e(page.built_at)})</span></dd>
<dt>tests</dt><dd id="totals">{totals.total} {_chips(totals)}</dd>
<dt>cost</dt><dd>{requests} requests, {tokens} tokens</dd>
</dl>
{runs_table}
</header>"""


def _cell_td(counts: Counts, href: str | None, short: bool) -> str:
    if not counts.total:
        return '<td class="cell s-empty">—</td>'
    inner = _rate(counts) + _chips(counts, short)
    if href:
        inner = f'<a href="{href}">{inner}</a>'
    return f'<td class="cell s-{counts.status}">{inner}</td>'


def _matrix(build: Build) -> str:
    cells = build.cells
    head = "".join(f"<th>{_e(c.target)}<br><span class=\"muted\">{_e(c.api_version)}</span></th>" for c in cells)
    rows = []
    for ai, area in enumerate(build.areas):
        toggle = f'<button class="toggle" data-area="a{ai}" aria-expanded="false" title="operations">▸</button>'
        tds = "".join(_cell_td(build.counts(c, area), f"#t-{ci}-{ai}", False) for ci, c in enumerate(cells))
        rows.append(f'<tr class="area"><th>{toggle}{_e(area)}</th>{tds}</tr>')
        for op in build.operations_in(area):
            tds = "".join(_cell_td(build.counts(c, area, op), None, True) for c in cells)
            rows.append(f'<tr class="op" data-area="a{ai}"><th>{_e(op)}</th>{tds}</tr>')
    totals = "".join(_cell_td(build.counts(c), f"#c-{ci}", False) for ci, c in enumerate(cells))
    rows.append(f'<tr class="total"><th>all areas</th>{totals}</tr>')
    legend = ('<p class="legend-row muted">cell colour: <span class="chip o-passed">all pass</span>'
              '<span class="chip o-failed">any fail / xpass / error</span>'
              '<span class="chip o-xfailed">known deviations only</span>'
              '<span class="chip o-skipped">skipped / unavailable only</span>'
              '<span class="chip partial">passes, some unavailable</span>'
              'percentage = passed / (passed + failed + xpassed + error + known deviations)</p>')
    return (f'<section id="matrix"><h2>Compatibility matrix</h2>{legend}'
            f'<table class="matrix"><colgroup><col class="c-area">{"<col>" * len(cells)}</colgroup><thead><tr><th>area / operation</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def _row_ids(build: Build) -> dict[str, str]:
    """Test row anchors, so a change links to its test; ids are ours, never from a record."""
    return {record_key(r): f"r-{i}" for i, r in enumerate(build.records)}


def _change_link(change: Change, rows: dict[str, str]) -> str:
    row = rows.get(test_key(change.cell.target, change.cell.api_version, change.test_id)) if change.after else None
    text = _e(change.test_id)
    return f'<a href="#{row}">{text}</a>' if row else text


def _change_list(title: str, items: list[Change], cls: str, rows: dict[str, str]) -> str:
    if not items:
        return ""
    lis = "".join(
        f"<li>{_e(c.cell.label)} — {_change_link(c, rows)}"
        + (f": {_e(c.before or 'new')} → {_e(c.after or 'removed')}" if c.before and c.after else "")
        + ("" if c.before else f" ({_e(c.after)})")
        + "</li>"
        for c in items
    )
    return f'<h3 class="{cls}">{_e(title)} ({len(items)})</h3><ul class="changes {cls}">{lis}</ul>'


def _changes(changes: Changes | None, rows: dict[str, str]) -> str:
    head = '<section id="changes"><h2>What changed since the previous build</h2>'
    if changes is None:
        return head + '<p class="muted">History is off (--no-history): nothing to compare with.</p></section>'
    if not changes.previous:
        return head + '<p class="muted">No previous build recorded: this is the first one.</p></section>'
    parts = [f'<p class="muted">compared with build {_e(changes.previous)} (built {_e(changes.previous_at)})</p>']
    if changes.empty:
        parts.append("<p id=\"no-changes\">No changes: every test has the same outcome as last time.</p>")
    parts.append(_change_list("Newly failing", changes.newly_failing, "newly-failing", rows))
    parts.append(_change_list("Newly passing", changes.newly_passing, "newly-passing", rows))
    parts.append(_change_list("Other outcome changes", changes.other, "other-changes", rows))
    parts.append(_change_list("New tests", changes.new, "new-tests", rows))
    parts.append(_change_list("Removed tests", changes.removed, "removed-tests", rows))
    for title, cells in (("New targets / api-versions", changes.new_cells),
                         ("Not in this build (kept from the last one)", changes.missing_cells)):
        if cells:
            items = "".join(f"<li>{_e(c.label)}</li>" for c in cells)
            parts.append(f"<h3>{_e(title)} ({len(cells)})</h3><ul class=\"changes\">{items}</ul>")
    return head + "".join(parts) + "</section>"


def _test_row(record: TestRecord, row_id: str) -> str:
    detail = []
    if record.rules:
        detail.append('<div class="rules">' + "".join(f"<code>{_e(r)}</code>" for r in record.rules) + "</div>")
    if record.message:
        detail.append(f'<pre class="msg">{_e(_clip(record.message))}</pre>')
    if record.seed is not None:
        detail.append(f'<div class="seed">seed: <code>{record.seed}</code></div>')
    for name, text in (("request", record.request), ("response", record.response)):
        if text:
            detail.append(f"<details><summary>{name}</summary><pre>{_e(_clip(text))}</pre></details>")
    ops = operations_of(record)
    kind = "" if record.kind == "suite" else f'<div class="muted">{_e(record.kind)}</div>'
    return (f'<tr class="test" id="{row_id}" data-outcome="{_e(record.outcome)}">'
            f'<td><span class="chip o-{_e(record.outcome)}">{_e(LABELS.get(record.outcome, record.outcome))}</span></td>'
            f'<td class="tid">{_e(record.id)}{kind}</td>'
            f'<td class="tid">{_e(", ".join(ops) or "—")}</td><td>{record.duration:.2f}s</td>'
            f'<td>{"".join(detail)}</td></tr>')


def _tests(build: Build) -> str:
    row_ids = _row_ids(build)
    options = "".join(f'<option value="{o}">{LABELS[o]}</option>' for o in OUTCOMES)
    parts = [
        '<section id="tests"><h2>Tests</h2>',
        '<div class="filters"><label>filter <input id="filter-text" type="search" '
        'placeholder="test id, rule, message, operation…"></label> '
        '<label>outcome <select id="filter-outcome"><option value="all">all</option>'
        f'<option value="problems">fail / xpass / error</option>{options}</select></label> '
        '<span id="filter-count" class="muted"></span></div>',
    ]
    for ci, cell in enumerate(build.cells):
        parts.append(f'<div class="group"><h3 id="c-{ci}">{_e(cell.label)}</h3>')
        for ai, area in enumerate(build.areas):
            records = _sorted(build.groups.get((cell, area), []))
            if not records:
                continue
            rows = "".join(_test_row(r, row_ids[record_key(r)]) for r in records)
            parts.append(
                f'<div class="group"><h4 id="t-{ci}-{ai}">{_e(area)} <span class="muted">({_e(cell.label)})</span> '
                f"{_chips(build.counts(cell, area))}</h4>"
                '<table class="tests"><colgroup><col class="c-outcome"><col class="c-id"><col class="c-op">'
                '<col class="c-dur"><col></colgroup><thead><tr><th>outcome</th><th>test</th><th>operation</th>'
                f"<th>time</th><th>rules, message, request / response</th></tr></thead><tbody>{rows}</tbody>"
                "</table></div>"
            )
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _sorted(records: Iterable[TestRecord]) -> list[TestRecord]:
    return sorted(records, key=lambda r: (_ORDER.get(r.outcome, 9), r.id))


def _history(page: PageInput) -> str:
    head = '<section id="history"><h2>Pass rate per area over time</h2>'
    if page.changes is None and not page.history:
        return head + '<p class="muted">History is off (--no-history).</p></section>'
    areas = sorted({str(c.get("area", "")) for line in page.history for c in line.get("cells", [])
                    if isinstance(c, dict)})
    colours = area_colours(areas)
    figures = "".join(
        f"<figure><figcaption>{_e(cell.label)}</figcaption>{line_chart(page.history, cell, colours)}</figure>"
        for cell in page.build.cells
    )
    return (head + f'<p class="muted">{len(page.history[-30:])} most recent build(s); pass rate = passed / measured '
            f'(known deviations count against it, skipped and unavailable do not count).</p>'
            f'<div class="charts">{figures}</div></section>')


def _coverage(items: list[Coverage]) -> str:
    parts = ['<section id="coverage"><h2>Contract coverage</h2>']
    for item in items:
        parts.append(f"<h3>{_e(item.api_version)}</h3>")
        if item.contract is None:
            parts.append(f'<p class="muted">{_e(item.source)}; exercised {len(item.exercised)} operation(s): '
                         f'{_e(", ".join(item.exercised))}</p>')
            continue
        done = len(set(item.exercised) & set(item.contract))
        parts.append(f"<p>exercised <strong>{done} of {len(item.contract)}</strong> contract operations "
                     f'<span class="muted">(operations from {_e(item.source)})</span></p>')
        if item.never:
            lis = "".join(f"<li><code>{_e(op)}</code></li>" for op in item.never)
            parts.append(f'<details open><summary>never exercised ({len(item.never)})</summary>'
                         f'<ul class="never">{lis}</ul></details>')
        if item.unknown:
            lis = "".join(f"<li><code>{_e(op)}</code></li>" for op in item.unknown)
            parts.append(f'<p>operations in records but not in the contract ({len(item.unknown)}):</p><ul>{lis}</ul>')
    parts.append("</section>")
    return "\n".join(parts)

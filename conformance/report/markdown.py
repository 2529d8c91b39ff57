"""summary.md: the short form of the report for a CI job summary or a chat message.

Record strings are escaped for Markdown (and HTML, which GitHub renders inside Markdown): a test id
or a target name must not be able to break the table or inject markup.
"""

from __future__ import annotations

import re
from pathlib import Path

from conformance.report.changes import Change, Changes
from conformance.report.model import Build, Counts

MAX_CHANGES = 20  # per list; the HTML has them all
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # enough mid-line; < > & become entities
ICONS = (("passed", "✅"), ("failed", "❌"), ("xpassed", "❗xpass"), ("error", "💥"),
         ("xfailed", "⚠️"), ("skipped", "⏭"), ("unavailable", "⛔"))


def md(text: object) -> str:
    """Escape a string for one Markdown table cell or list item."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = " ".join(value.split())  # newlines would end a table row
    return _SPECIAL.sub(r"\\\1", value)


def _counts(counts: Counts) -> str:
    if not counts.total:
        return "—"
    parts = [f"{icon} {counts[o]}" for o, icon in ICONS if counts[o]]
    rate = counts.pass_rate
    return (f"**{rate:.0%}** " if rate is not None else "") + " · ".join(parts)


def _change_lines(title: str, items: list[Change]) -> list[str]:
    if not items:
        return []
    lines = [f"**{title}** ({len(items)})", ""]
    for change in items[:MAX_CHANGES]:
        move = f": {md(change.before)} → {md(change.after)}" if change.before and change.after else ""
        lines.append(f"- {md(change.cell.label)} — {md(change.test_id)}{move}")
    if len(items) > MAX_CHANGES:
        lines.append(f"- … and {len(items) - MAX_CHANGES} more (see the HTML report)")
    return [*lines, ""]


def render(title: str, build: Build, changes: Changes | None, html_path: Path) -> str:
    cells = build.cells
    requests, tokens = build.cost()
    out = [f"# {md(title)}", ""]
    out.append(f"Runs: {md(', '.join(build.run_ids) or '(no run id)')} · finished {md(build.finished_at or 'unknown')}"
               f" · cost: {requests} requests, {tokens} tokens")
    out += ["", "| target | api-version | tests | result |", "| --- | --- | --- | --- |"]
    for cell in cells:
        counts = build.counts(cell)
        out.append(f"| {md(cell.target)} | {md(cell.api_version)} | {counts.total} | {_counts(counts)} |")
    out += ["", "## Matrix", "", "| area | " + " | ".join(md(c.label) for c in cells) + " |",
            "| --- |" + " --- |" * len(cells)]
    for area in build.areas:
        out.append(f"| {md(area)} | " + " | ".join(_counts(build.counts(c, area)) for c in cells) + " |")
    out += ["", "✅ pass · ❌ fail · ❗xpass (known deviation fixed: counts as failure) · 💥 error · "
            "⚠️ known deviation · ⏭ skip · ⛔ unavailable; % = passed / measured", "", "## Changes since the previous build", ""]
    if changes is None:
        out += ["History is off (--no-history).", ""]
    elif not changes.previous:
        out += ["No previous build recorded: this is the first one.", ""]
    elif changes.empty:
        out += ["No changes.", ""]
    else:
        out += _change_lines("Newly failing", changes.newly_failing)
        out += _change_lines("Newly passing", changes.newly_passing)
        out += _change_lines("Other outcome changes", changes.other)
        out += _change_lines("New tests", changes.new)
        out += _change_lines("Removed tests", changes.removed)
        for label, missing in (("New targets / api-versions", changes.new_cells),
                               ("Not in this build", changes.missing_cells)):
            if missing:
                out += [f"**{label}**: " + ", ".join(md(c.label) for c in missing), ""]
    out += [f"Full report: `{html_path}`", ""]
    return "\n".join(out)

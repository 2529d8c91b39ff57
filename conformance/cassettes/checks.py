"""Judge captured exchanges: each against the contract and the invariants, and related ones together
(the polls of one run, the pages of one list walk). Pure: exchanges in, verdicts out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.cassettes.traffic import Captured
from conformance.findings import Finding
from conformance.invariants.errors import check_error_envelope
from conformance.invariants.lifecycle import check_run_history
from conformance.invariants.pagination import ORDERS, check_list_envelope, check_page, check_walk
from conformance.invariants.sse import check_content_type, parse_sse
from conformance.invariants.streams import check_chat_stream, check_run_stream
from conformance.versions import API_VERSIONS

RUN_STREAMS: dict[str, Literal["run", "thread_and_run", "submit_tool_outputs"]] = {
    "Create_Run": "run", "Create_Thread_And_Run": "thread_and_run", "Submit_Tool_Outputs_To_Run": "submit_tool_outputs",
}
CHUNK_STREAMS = frozenset({"ChatCompletions_Create", "Completions_Create"})
RUN_READS = frozenset({"Create_Run", "Create_Thread_And_Run", "Get_Run", "Modify_Run", "Cancel_Run",
                       "Submit_Tool_Outputs_To_Run"})


@dataclass
class Verdict:
    """One checked thing: a single exchange, or a group of related ones."""

    id: str
    operation: str  # operationId, "" when unknown
    api_version: str
    area: str
    findings: list[Finding] = field(default_factory=list)
    unchecked: str = ""  # why it could not be judged (unknown operation / api-version)
    request: str = ""
    response: str = ""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


@dataclass
class _Matched:
    exchange: Captured
    operation: str
    api_version: str
    params: dict[str, str]
    body: Any  # parsed JSON, or the raw bytes of a stream / binary answer


def openai_path(path: str) -> str:
    """The path after the `/openai` prefix the contract is written against."""
    marker = path.find("/openai/")
    return path[marker + len("/openai"):] if marker >= 0 else path


def _describe(exchange: Captured) -> str:
    query = "&".join(f"{k}={v}" for k, v in exchange.query.items())
    return f"{exchange.method} {exchange.path}{'?' + query if query else ''} -> {exchange.status}"


def _contract(version: str) -> Any:
    from conformance.spec import load_contract

    return load_contract(version)


def _single(exchange: Captured) -> tuple[Verdict, _Matched | None]:
    version = exchange.query.get("api-version", "")
    verdict = Verdict(id=exchange.source, operation="", api_version=version, area="other",
                      request=_describe(exchange), response=exchange.body[:500].decode("utf-8", errors="replace"))
    if not version:
        verdict.unchecked = "no api-version query parameter: the operation's contract is unknown"
        return verdict, None
    if version not in API_VERSIONS:
        verdict.unchecked = f"api-version {version} has no contract here (known: {', '.join(API_VERSIONS)})"
        return verdict, None
    contract = _contract(version)
    found = contract.match(exchange.method, openai_path(exchange.path))
    if found is None:
        verdict.unchecked = f"{exchange.method} {openai_path(exchange.path)} is no operation of the {version} contract"
        return verdict, None
    op, params = found
    verdict.operation = op.operation_id
    streamed = exchange.content_type == "text/event-stream"
    if streamed and not exchange.body:
        # browsers often export a stream's headers but not its body: nothing to judge, not a defect
        verdict.unchecked = "the event-stream body was not captured"
        return verdict, None
    body: Any = exchange.body if streamed or not exchange.content_type.endswith("json") else exchange.json()
    if exchange.content_type.endswith("json") and body is None and exchange.body.strip():
        verdict.findings.append(Finding("schema.response", "the body is not JSON although Content-Type says so",
                                        "body"))
    verdict.findings += contract.validate_response(op, exchange.status, exchange.headers, body)
    if exchange.status >= 400:
        verdict.area = "errors"
        verdict.findings += check_error_envelope(exchange.status, body)
    elif streamed:
        verdict.area = "streaming"
        verdict.findings += _stream(op.operation_id, exchange, contract)
    elif isinstance(body, dict) and body.get("object") == "list" and op.operation_id.startswith("List_"):
        verdict.area = "pagination"
        order = exchange.query.get("order", "desc")
        limit = exchange.query.get("limit", "")
        if order in ORDERS:
            verdict.findings += check_page(body, limit=int(limit) if limit.isdigit() else None, order=order)
        else:
            verdict.findings += check_list_envelope(body)
    elif isinstance(body, dict) and body.get("object") == "thread.run":
        verdict.area = "lifecycle"  # judged with the run's other snapshots (resumed or not): `_runs`
    else:
        verdict.area = "crud" if not op.path.startswith("/deployments") else "inference"
    return verdict, _Matched(exchange, op.operation_id, version, params, body)


def _stream(operation: str, exchange: Captured, contract: Any) -> list[Finding]:
    events, findings = parse_sse(exchange.body)
    findings = [*check_content_type(exchange.headers.get("content-type")), *findings]
    if operation in RUN_STREAMS:
        findings += check_run_stream(events, kind=RUN_STREAMS[operation], validate_event=contract.validate_event)
    elif operation in CHUNK_STREAMS:
        findings += check_chat_stream(events, validate_event=contract.validate_event)
    return findings


def _runs(matched: Sequence[_Matched]) -> list[Verdict]:
    """Every run object, with its other snapshots in the file (create answer, polls, submit, cancel):
    each consistent with its status (knowing whether it was resumed), the walk legal."""
    runs: dict[tuple[str, str], list[_Matched]] = {}
    for item in matched:
        body = item.body
        if (item.operation in RUN_READS and item.exchange.status == 200 and isinstance(body, dict)
                and body.get("object") == "thread.run" and isinstance(body.get("id"), str)):
            runs.setdefault((item.api_version, body["id"]), []).append(item)
    verdicts = []
    for (version, run_id), items in runs.items():
        where = f"run {run_id}"
        verdict = Verdict(id=f"{items[0].exchange.source.split('#')[0]}: {where} ({len(items)} snapshots)",
                          operation="Get_Run", api_version=version, area="lifecycle",
                          request=", ".join(i.exchange.source for i in items))
        verdict.findings = check_run_history([i.body for i in items], where=where)
        verdicts.append(verdict)
    return verdicts


def _walks(matched: Sequence[_Matched]) -> list[Verdict]:
    """Pages chained by their cursors (after=<last_id> / before=<first_id>) form walks; a walk
    that reached its end (has_more false) must have no repeats, gaps or broken cursors."""
    walks: list[tuple[str, list[_Matched]]] = []
    for item in matched:
        body = item.body
        if not (item.exchange.status == 200 and isinstance(body, dict) and body.get("object") == "list"
                and item.operation.startswith("List_")):
            continue
        query = item.exchange.query
        side = "before" if "before" in query else "after"
        cursor = query.get(side)
        key = "|".join([item.api_version, item.exchange.path, side,
                        *(f"{k}={v}" for k, v in sorted(query.items()) if k not in ("after", "before"))])
        continued = None
        if cursor:
            for walk_key, pages in reversed(walks):
                last = pages[-1].body
                edge = last.get("last_id") if side == "after" else last.get("first_id")
                if walk_key == key and last.get("has_more") is True and edge == cursor:
                    continued = pages
                    break
        if continued is not None:
            continued.append(item)
        else:
            walks.append((key, [item]))
    verdicts = []
    for _key, pages in walks:
        if len(pages) < 2 or pages[-1].body.get("has_more") is not False:
            continue  # one page is judged alone; an unfinished walk proves nothing about coverage
        query = pages[0].exchange.query
        order = query.get("order", "desc")
        limit = query.get("limit", "")
        direction: Literal["after", "before"] = "before" if "before" in pages[1].exchange.query else "after"
        verdict = Verdict(id=f"{pages[0].exchange.source.split('#')[0]}: walk of {pages[0].exchange.path} "
                             f"({len(pages)} pages)", operation=pages[0].operation, api_version=pages[0].api_version,
                          area="pagination", request=", ".join(p.exchange.source for p in pages))
        if order in ORDERS:
            verdict.findings = check_walk([p.body for p in pages], order=order,
                                          limit=int(limit) if limit.isdigit() else None, direction=direction)
        verdicts.append(verdict)
    return verdicts


def judge(exchanges: Sequence[Captured]) -> list[Verdict]:
    """A verdict per exchange, then one per polled run and per completed list walk."""
    verdicts: list[Verdict] = []
    matched: list[_Matched] = []
    for exchange in exchanges:
        verdict, item = _single(exchange)
        verdicts.append(verdict)
        if item is not None:
            matched.append(item)
    return verdicts + _runs(matched) + _walks(matched)

"""The pytest plugin (entry point `aoai_conformance`): options, targets, api-versions, results.

Loaded in every pytest session where the package is installed, it stays inert for tests that do not
use its fixtures; the conformance modules live in `conformance.suite` and are run with
`pytest --pyargs conformance.suite` or `aoai-conformance run`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import uuid
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import __version__
from conformance.client import ConformanceClient, Exchange
from conformance.config import Deployments, SettingsError, TargetSettings, resolve_settings
from conformance.findings import ConformanceError
from conformance.harness.expectations import load_expectations
from conformance.harness.recorder import AREAS, USER_PROPERTY, Recorder
from conformance.harness.resilience import ResilientTransport, RetryPolicy, TargetUnavailable
from conformance.harness.shared import Budget, ConcurrencyCap, Pacer, run_state_dir
from conformance.harness.target import EmulatorProcess, start_emulator, token_provider_for
from conformance.harness.tracker import Ledger, Tracker, state_dir
from conformance.results import RESULTS_FILE, RUN_FILE, RunInfo, write_records, write_run_info
from conformance.versions import at_least

SETTINGS_KEY = pytest.StashKey[TargetSettings]()
RECORDER_KEY = pytest.StashKey[Recorder]()
EXCHANGES_KEY = pytest.StashKey[list[Exchange]]()
RUN_ID_ENV = "AOAI_CONFORMANCE_RUN_ID"

MARKERS = {
    **{area: f"conformance area: {area}" for area in AREAS},
    "expensive": "creates runs or spends tokens on a live resource",
    "since(version)": "applies from this api-version on; skipped on earlier ones",
    "operation(operation_id)": "the contract operation the test is about",
    "emulator_only(reason)": "needs an emulator trigger phrase; skipped on other targets",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aoai-conformance", "Azure OpenAI conformance suite")
    group.addoption("--target", default=None, help="emulator (default), url, live, replay, or a targets.toml section")
    group.addoption("--base-url", default=None, help="endpoint, e.g. https://<resource>.openai.azure.com (env AZURE_OPENAI_ENDPOINT)")
    group.addoption("--api-key", default=None, help="key for the api-key header (env AZURE_OPENAI_API_KEY)")
    group.addoption("--api-version", action="append", default=None, dest="api_versions",
                    help="api-version to test; repeat or comma-separate; 'all' for every supported one")
    group.addoption("--auth", default=None, choices=("key", "entra", "none"), help="how to authenticate")
    group.addoption("--targets-file", default=None, help="targets.toml with [targets.<name>] sections")
    group.addoption("--report-dir", default=None, help="write results.jsonl and run.json here")
    group.addoption("--expectations", default=None, help="known-deviations TOML file for this target")
    group.addoption("--strict-reference", action="store_true", default=False,
                    help="check the published reference where the service is known to differ")
    group.addoption("--emulator-fault", action="append", default=[], dest="emulator_faults",
                    help="start the embedded emulator with this fault switch on (testing the suite itself)")
    group.addoption("--emulator-run-speed", default=None, help="run pace of the embedded emulator")
    group.addoption("--run-id", default=None, help="tag for created objects (default: random)")
    group.addoption("--retries", type=int, default=4, help="attempts per request on 429 / transient 5xx (default 4)")
    group.addoption("--max-rps", type=float, default=None, help="request starts per second, across all workers")
    group.addoption("--max-concurrency", type=int, default=None, help="requests in flight, across all workers")
    group.addoption("--max-requests", type=int, default=None, help="stop the run cleanly after this many requests")
    group.addoption("--max-tokens", type=int, default=None, help="stop the run cleanly after this many tokens")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    run_id = (
        config.getoption("run_id")
        or getattr(config, "workerinput", {}).get("aoai_run_id")
        or os.environ.get(RUN_ID_ENV)
        or uuid.uuid4().hex[:10]
    )
    config.stash[RECORDER_KEY] = Recorder(target="", run_id=str(run_id))
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(), "aoai-conformance-xdist")
    _terminate_on_sigterm()


def _terminate_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so fixture teardown deletes what the run created."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt(f"signal {signum}")
        with contextlib.suppress(ValueError):  # not the main thread
            signal.signal(signal.SIGTERM, interrupt)


class _XdistHooks:
    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["aoai_run_id"] = node.config.stash[RECORDER_KEY].run_id


def _settings(config: pytest.Config) -> TargetSettings:
    if SETTINGS_KEY not in config.stash:
        options = {
            "target": config.getoption("target"),
            "base_url": config.getoption("base_url"),
            "api_key": config.getoption("api_key"),
            "api_versions": config.getoption("api_versions"),
            "auth": config.getoption("auth"),
            "targets_file": config.getoption("targets_file"),
            "strict_reference": config.getoption("strict_reference"),
        }
        try:
            settings = resolve_settings(options)
        except SettingsError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[SETTINGS_KEY] = settings
        config.stash[RECORDER_KEY].target = settings.name
    return config.stash[SETTINGS_KEY]


def _is_conformance(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return module is not None and module.__name__.startswith(("conformance.suite", "conformance.fuzz"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "api_version" in metafunc.fixturenames and metafunc.module.__name__.startswith("conformance."):
        versions = _settings(metafunc.config).api_versions
        metafunc.parametrize("api_version", versions, ids=list(versions), scope="function")


def _api_version_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("api_version") if callspec is not None else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if _is_conformance(item)]
    if not ours:
        return
    settings = _settings(config)
    try:
        expectations = load_expectations(settings.name, config.getoption("expectations"))
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    for item in ours:
        version = _api_version_of(item)
        since = item.get_closest_marker("since")
        if since is not None and version is not None and not at_least(version, str(since.args[0])):
            item.add_marker(pytest.mark.skip(reason=f"applies from api-version {since.args[0]} on"))
        only = item.get_closest_marker("emulator_only")
        if only is not None and settings.kind != "emulator":
            reason = only.args[0] if only.args else "needs the emulator's trigger phrases"
            item.add_marker(pytest.mark.skip(reason=f"emulator only: {reason}"))
        name = getattr(item, "originalname", item.name)
        for expectation in expectations:
            if expectation.matches(name, item.nodeid, version):
                item.add_marker(pytest.mark.xfail(reason=f"known deviation: {expectation.reason}", strict=True))


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def aoai_settings(request: pytest.FixtureRequest) -> Iterator[TargetSettings]:
    """The target, brought up: the embedded emulator is started here and stopped at the end."""
    settings = _settings(request.config)
    emulator: EmulatorProcess | None = None
    if settings.kind == "emulator":
        try:
            emulator = start_emulator(
                settings.api_key or "",
                faults=request.config.getoption("emulator_faults"),
                run_speed=request.config.getoption("emulator_run_speed"),
            )
        except SettingsError as exc:
            pytest.exit(str(exc), returncode=3)
        settings = TargetSettings(**{**settings.__dict__, "endpoint": emulator.url})
    try:
        yield settings
    finally:
        if emulator is not None:
            emulator.stop()


@pytest.fixture(scope="session")
def aoai_run_id(request: pytest.FixtureRequest) -> str:
    return request.config.stash[RECORDER_KEY].run_id


@pytest.fixture(scope="session")
def aoai_budget(request: pytest.FixtureRequest, aoai_run_id: str) -> Budget:
    """Requests and tokens the whole run (all workers) spent, against --max-requests / --max-tokens."""
    config = request.config
    return Budget(run_state_dir(aoai_run_id), config.getoption("max_requests"), config.getoption("max_tokens"))


@pytest.fixture(scope="session")
def _aoai_transport(request: pytest.FixtureRequest, aoai_run_id: str, aoai_budget: Budget) -> Iterator[httpx.BaseTransport]:
    config = request.config
    folder = run_state_dir(aoai_run_id)
    rps, concurrency = config.getoption("max_rps"), config.getoption("max_concurrency")
    transport = ResilientTransport(
        httpx.HTTPTransport(retries=0),
        RetryPolicy(attempts=max(1, config.getoption("retries"))),
        pacer=Pacer(folder, rps) if rps else None,
        cap=ConcurrencyCap(folder, concurrency) if concurrency else None,
        budget=aoai_budget,
    )
    yield transport
    transport.close()


@pytest.fixture(scope="session")
def deployments(aoai_settings: TargetSettings) -> Deployments:
    return aoai_settings.deployments


@pytest.fixture
def contract(api_version: str, aoai_settings: TargetSettings) -> Any:
    from conformance.spec import load_contract

    return load_contract(api_version, strict_reference=aoai_settings.strict_reference)


@pytest.fixture
def client(
    request: pytest.FixtureRequest,
    api_version: str,
    aoai_settings: TargetSettings,
    _aoai_transport: httpx.BaseTransport,
    aoai_budget: Budget,
) -> ConformanceClient:
    """A client for the target and this test's api-version; every exchange is counted for the test."""
    stop = aoai_budget.exhausted()
    if stop:
        pytest.skip(f"run stopped: {stop}")
    exchanges = request.node.stash.setdefault(EXCHANGES_KEY, [])

    def observe(exchange: Exchange) -> None:
        exchanges.append(exchange)
        if exchange.tokens:
            aoai_budget.charge(tokens=exchange.tokens)

    assert aoai_settings.endpoint is not None
    return ConformanceClient(
        aoai_settings.endpoint,
        api_version,
        api_key=aoai_settings.api_key if aoai_settings.auth == "key" else None,
        token_provider=token_provider_for(aoai_settings),
        timeout=aoai_settings.timeout,
        transport=_aoai_transport,
        observer=observe,
    )


@pytest.fixture
def tracker(client: ConformanceClient, aoai_settings: TargetSettings, aoai_run_id: str) -> Iterator[Tracker]:
    """Creates tagged objects for the test and deletes them afterwards, whatever the outcome."""
    ledger = None if aoai_settings.kind == "emulator" else Ledger(state_dir() / "ledger.jsonl")
    tracker = Tracker(client, aoai_run_id, target=aoai_settings.name, ledger=ledger,
                      model=aoai_settings.deployments.assistants_model)
    try:
        yield tracker
    finally:
        tracker.cleanup()


@pytest.fixture
def filter_prompt(aoai_settings: TargetSettings) -> str:
    """A prompt the target's content filter blocks."""
    if aoai_settings.filter_prompt:
        return aoai_settings.filter_prompt
    if aoai_settings.kind == "emulator":
        from conformance.emulator import triggers

        return triggers.CHAT_CONTENT_FILTER_PROMPT
    pytest.skip("set AOAI_CONFORMANCE_FILTER_PROMPT to a prompt this target's content filter blocks")


# ---------------------------------------------------------------- results

def _operations(item: pytest.Item, exchanges: list[Exchange], version: str | None) -> list[str]:
    if not exchanges or version is None:
        return []
    try:
        from conformance.spec import load_contract

        contract = load_contract(version)
    except Exception:  # the contract is optional for recording
        return []
    names: list[str] = []
    for exchange in exchanges:
        matched = contract.match(exchange.method, exchange.path)
        if matched is not None and matched[0].operation_id not in names:
            names.append(matched[0].operation_id)
    return names


def _props(item: pytest.Item, call_excinfo: pytest.ExceptionInfo[BaseException] | None) -> dict[str, Any]:
    version = _api_version_of(item)
    area = next((m.name for m in item.iter_markers() if m.name in AREAS), "other")
    op_marker = item.get_closest_marker("operation")
    exchanges = item.stash.get(EXCHANGES_KEY, [])
    rules: list[str] = []
    unavailable = False
    if call_excinfo is not None and isinstance(call_excinfo.value, ConformanceError):
        rules = call_excinfo.value.rules
    if call_excinfo is not None and isinstance(call_excinfo.value, TargetUnavailable):
        unavailable = True
    module = getattr(item, "module", None)
    short_module = module.__name__.rsplit(".", 1)[-1] if module is not None else ""
    return {
        "id": f"{short_module}::{item.name}",
        "area": area,
        "operation": str(op_marker.args[0]) if op_marker else "",
        "api_version": version or "",
        "rules": rules,
        "operations": _operations(item, exchanges, version),
        "requests": len(exchanges),
        "tokens": sum(e.tokens for e in exchanges),
        "unavailable": unavailable,
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if _is_conformance(item):
        if call.when in ("setup", "call"):
            excinfo = call.excinfo if call.when == "call" else None
            item.user_properties.append((USER_PROPERTY, json.dumps(_props(item, excinfo))))
        report.user_properties = list(item.user_properties)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    if _is_conformance(item) and item.config.getoption("allure_report_dir", None):
        _allure_labels(item)
    return (yield)


def _allure_labels(item: pytest.Item) -> None:
    """Allure: areas as epics, operations as features, api-version and target as parameters."""
    import allure

    dynamic: Any = allure.dynamic  # allure-pytest's functions carry no annotations
    area = next((m.name for m in item.iter_markers() if m.name in AREAS), "other")
    op_marker = item.get_closest_marker("operation")
    dynamic.epic(area)
    if op_marker is not None:
        dynamic.feature(str(op_marker.args[0]))
    dynamic.parameter("api_version", _api_version_of(item) or "")
    dynamic.parameter("target", item.config.stash[RECORDER_KEY].target)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    recorder = _recorder_of(report)
    if recorder is not None:
        recorder.add(report)


_ACTIVE_RECORDER: list[Recorder] = []


def _recorder_of(report: pytest.TestReport) -> Recorder | None:
    return _ACTIVE_RECORDER[0] if _ACTIVE_RECORDER else None


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return  # workers send reports to the controller, which records them
    _ACTIVE_RECORDER[:] = [session.config.stash[RECORDER_KEY]]
    session.config.stash[RECORDER_KEY].started_at = datetime.now(UTC).isoformat(timespec="seconds")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not _ACTIVE_RECORDER:
        return
    recorder = _ACTIVE_RECORDER.pop()
    report_dir = session.config.getoption("report_dir")
    if not report_dir or not recorder.records:
        return
    settings = session.config.stash.get(SETTINGS_KEY, None)
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS_FILE).unlink(missing_ok=True)
    write_records(out / RESULTS_FILE, recorder.records)
    write_run_info(
        out / RUN_FILE,
        RunInfo(
            run_id=recorder.run_id,
            target=recorder.target,
            api_versions=list(settings.api_versions) if settings else [],
            started_at=recorder.started_at,
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            package_version=__version__,
            requests=sum(r.requests for r in recorder.records),
            tokens=sum(r.tokens for r in recorder.records),
        ),
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None or not recorder.records:
        return
    terminalreporter.section("conformance summary (area, api-version)")
    for line in recorder.summary_lines():
        terminalreporter.write_line(line)
    requests = sum(r.requests for r in recorder.records)
    tokens = sum(r.tokens for r in recorder.records)
    terminalreporter.write_line(f"cost: {requests} requests, {tokens} tokens reported by the target")

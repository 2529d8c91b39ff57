"""The pytest plugin (entry point `aoai_conformance`): options, targets, api-versions, results.

Loaded in every pytest session where the package is installed, it stays inert for tests that do not
use its fixtures; the conformance modules live in `conformance.suite` and are run with
`pytest --pyargs conformance.suite` or `aoai-conformance run`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
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
from conformance.harness.target import EmulatorProcess, probe, start_emulator, token_provider_for
from conformance.harness.tracker import Ledger, Tracker, delete_all, state_dir
from conformance.results import RESULTS_FILE, RUN_FILE, RunInfo, write_records, write_run_info
from conformance.versions import at_least

SETTINGS_KEY = pytest.StashKey[TargetSettings]()
RECORDER_KEY = pytest.StashKey[Recorder]()
EXCHANGES_KEY = pytest.StashKey[list[Exchange]]()
# Extra record fields a test sets for itself (fuzz: kind, seed, request, requests), merged by `_props`.
EXTRA_PROPS_KEY = pytest.StashKey[dict[str, Any]]()
SETTINGS_ERROR_KEY = pytest.StashKey[str]()
RUN_ID_ENV = "AOAI_CONFORMANCE_RUN_ID"

MARKERS = {
    **{area: f"conformance area: {area}" for area in AREAS},
    "expensive": "creates runs or spends tokens on a live resource",
    "since(version)": "applies from this api-version on; skipped on earlier ones",
    "operation(operation_id)": "the contract operation the test is about",
    "emulator_only(reason)": "needs an emulator trigger phrase; skipped on other targets",
    "smoke": "part of the cheap smoke profile (--profile smoke) for a quick check of a new resource",
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
    group.addoption("--unavailable-reruns", type=int, default=2,
                    help="rerun a test whose target was unavailable (throttled, 503, dropped) this many times")
    group.addoption("--profile", default="full", choices=("full", "smoke"),
                    help="smoke: a small, cheap subset (under 40 requests) for a new resource or deployment")
    from conformance.cassettes.harness import add_options  # record / replay (issue 6)

    add_options(group)
    from conformance.fuzz.plugin import add_options as add_fuzz_options  # fuzz options (conformance.fuzz)

    add_fuzz_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    run_id = (
        config.getoption("run_id")
        or getattr(config, "workerinput", {}).get("aoai_run_id")
        or os.environ.get(RUN_ID_ENV)
        # replay sends what was recorded, and `aoai-conformance record` records with this run id
        or ("recorded" if (config.getoption("target", None) or os.environ.get("AOAI_CONFORMANCE_TARGET")) == "replay" else "")
        or uuid.uuid4().hex[:10]
    )
    config.stash[RECORDER_KEY] = Recorder(target="", run_id=str(run_id))
    from conformance.fuzz.plugin import check_options as check_fuzz_options

    check_fuzz_options(config)  # --fuzz-budget / --seed / --spec: usage errors before collection
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(), "aoai-conformance-xdist")
        if getattr(config.option, "dist", "no") == "load" and _runs_conformance(config):
            # a module's tests share tagged object sets: one worker per module creates them once
            # (fewer requests on a live resource) and replays them in recorded order
            config.option.dist = "loadfile"
    _terminate_on_sigterm()


def _runs_conformance(config: pytest.Config) -> bool:
    return any(str(arg).startswith(("conformance.suite", "conformance.fuzz")) or "conformance/suite" in str(arg)
               or "conformance/fuzz" in str(arg) for arg in config.args)


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
            # Reported once, after collection (raised inside module collection, it would repeat per
            # module); meanwhile collection goes on with the defaults.
            config.stash[SETTINGS_ERROR_KEY] = str(exc)
            settings = resolve_settings({}, env={})
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
    if SETTINGS_ERROR_KEY in config.stash:
        raise pytest.UsageError(f"aoai-conformance: {config.stash[SETTINGS_ERROR_KEY]}")
    if config.getoption("profile") == "smoke":
        deselected = [item for item in items if _is_conformance(item) and item.get_closest_marker("smoke") is None]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if item not in deselected]
            ours = [item for item in ours if item not in deselected]
    try:
        expectations = load_expectations(settings.name, config.getoption("expectations"))
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    reruns = config.getoption("unavailable_reruns")
    rerun = config.pluginmanager.hasplugin("rerunfailures") and reruns > 0
    for item in ours:
        if rerun and item.get_closest_marker("flaky") is None:
            # only for TargetUnavailable: a genuine failure is never retried away
            item.add_marker(pytest.mark.flaky(reruns=reruns, only_rerun=["TargetUnavailable"]))
        version = _api_version_of(item)
        since = item.get_closest_marker("since")
        if since is not None and version is not None and not at_least(version, str(since.args[0])):
            item.add_marker(pytest.mark.skip(reason=f"applies from api-version {since.args[0]} on"))
        only = item.get_closest_marker("emulator_only")
        if only is not None and _behaves_as(config, settings) != "emulator":
            reason = only.args[0] if only.args else "needs the emulator's trigger phrases"
            item.add_marker(pytest.mark.skip(reason=f"emulator only: {reason}"))
        name = getattr(item, "originalname", item.name)
        for expectation in expectations:
            if expectation.matches(name, item.nodeid, version):
                item.add_marker(pytest.mark.xfail(reason=f"known deviation: {expectation.reason}", strict=True))


def _behaves_as(config: pytest.Config, settings: TargetSettings) -> str:
    """The target kind tests adapt to: under replay, the kind the cassettes were recorded from."""
    if settings.kind != "replay":
        return settings.kind
    if REPLAY_KIND_KEY not in config.stash:
        from conformance.cassettes.harness import cassette_root, recorded_kind
        from conformance.cassettes.store import CassetteError

        try:
            config.stash[REPLAY_KIND_KEY] = recorded_kind(cassette_root(config), settings.api_versions)
        except CassetteError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config.stash[REPLAY_KIND_KEY]


REPLAY_KIND_KEY = pytest.StashKey[str]()


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
    if settings.kind in ("url", "live"):
        try:
            probe(settings)
        except SettingsError as exc:
            pytest.exit(f"aoai-conformance: {exc}", returncode=3)
    if settings.kind == "replay":  # no emulator, no network: act as the recorded target did
        settings = TargetSettings(**{**settings.__dict__, "kind": _behaves_as(request.config, settings)})
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
    offline = _settings(config).kind == "replay"
    if offline:
        from conformance.cassettes.tape import no_wait, offline_transport
    transport = ResilientTransport(
        offline_transport() if offline else httpx.HTTPTransport(retries=0),
        RetryPolicy(attempts=max(1, config.getoption("retries"))),
        pacer=Pacer(folder, rps) if rps else None,
        cap=ConcurrencyCap(folder, concurrency) if concurrency else None,
        budget=None if offline else aoai_budget,  # replay spends nothing; skip the shared budget file
        sleep=no_wait if offline else time.sleep,  # replay: recorded retries were waited for when recording
    )
    yield transport
    transport.close()


@pytest.fixture(autouse=True)
def _aoai_cassette(request: pytest.FixtureRequest) -> Iterator[None]:
    """Suite tests under --record-cassettes or --target replay run inside their own cassette."""
    item, config = request.node, request.config
    module = getattr(item, "module", None)
    if module is None or not module.__name__.startswith("conformance.suite") or _api_version_of(item) is None:
        yield
        return
    record = bool(config.getoption("record_cassettes"))
    if not record and _settings(config).kind != "replay":
        yield
        return
    from conformance.cassettes.harness import cassette_root, test_cassette

    settings: TargetSettings = request.getfixturevalue("aoai_settings")
    with test_cassette(item, api_version=str(_api_version_of(item)), record=record, target_kind=settings.kind,
                       endpoint=settings.endpoint, api_key=settings.api_key, root=cassette_root(config)):
        yield


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
        # a live run takes seconds: polling it from 0.05 s would spend the request budget on waiting
        poll_interval=0.05 if aoai_settings.kind == "emulator" else 0.5,
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
        **_extra_props(item),
    }


def _extra_props(item: pytest.Item) -> dict[str, Any]:
    extra: dict[str, Any] = item.stash.get(EXTRA_PROPS_KEY, {})
    return extra


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


@pytest.hookimpl(tryfirst=True)  # before xdist starts workers that share the run's state folder
def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return  # workers send reports to the controller, which records them
    # a reused --run-id must not inherit the pace and budget of an earlier run
    shutil.rmtree(run_state_dir(session.config.stash[RECORDER_KEY].run_id), ignore_errors=True)
    if getattr(session.config.option, "numprocesses", None):
        # with xdist only workers collect; a bad setting must stop the run here, once
        _settings(session.config)
        if SETTINGS_ERROR_KEY in session.config.stash:
            raise pytest.UsageError(f"aoai-conformance: {session.config.stash[SETTINGS_ERROR_KEY]}")
    _ACTIVE_RECORDER[:] = [session.config.stash[RECORDER_KEY]]
    session.config.stash[RECORDER_KEY].started_at = datetime.now(UTC).isoformat(timespec="seconds")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not _ACTIVE_RECORDER:
        return
    recorder = _ACTIVE_RECORDER.pop()
    settings = session.config.stash.get(SETTINGS_KEY, None)
    if settings is not None and settings.kind in ("url", "live"):
        _sweep_leftovers(settings, recorder.run_id)
    report_dir = session.config.getoption("report_dir")
    if not report_dir or not recorder.records:
        return
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    spent = Budget(run_state_dir(recorder.run_id), None, None).spent()
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
            # every request the transport sent (retries and teardown deletes included), all workers
            requests=spent["requests"] or sum(r.requests for r in recorder.records),
            tokens=spent["tokens"] or sum(r.tokens for r in recorder.records),
        ),
    )


def _sweep_leftovers(settings: TargetSettings, run_id: str) -> None:
    """Delete what this run's ledger still lists: objects of tests whose worker died or was killed."""
    ledger = Ledger(state_dir() / "ledger.jsonl")
    leftovers = [item for rid, item in ledger.outstanding(settings.name) if rid == run_id]
    if not leftovers or settings.endpoint is None:
        return
    client = ConformanceClient(
        settings.endpoint, settings.api_versions[-1],
        api_key=settings.api_key if settings.auth == "key" else None,
        token_provider=token_provider_for(settings), timeout=settings.timeout,
    )
    with client:
        failed = set(delete_all(client, leftovers))
    for item in leftovers:
        if item.delete_path not in failed:
            ledger.remove(settings.name, run_id, item)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None or not recorder.records:
        return
    terminalreporter.section("conformance summary (area, api-version)")
    for line in recorder.summary_lines():
        terminalreporter.write_line(line)
    spent = Budget(run_state_dir(recorder.run_id), None, None).spent()
    requests = spent["requests"] or sum(r.requests for r in recorder.records)
    tokens = spent["tokens"] or sum(r.tokens for r in recorder.records)
    terminalreporter.write_line(f"cost: {requests} requests sent (retries and cleanup included), "
                                f"{tokens} tokens reported by the target")

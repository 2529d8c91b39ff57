"""Generated cases per second: the fuzzer (conformance.fuzz) against the embedded emulator.

    python bench/fuzz_rate.py [--quick] [--budget N] [--api-version V] [--seed N] [--max-seconds S]

Every contract operation of one api-version is fuzzed as `aoai-conformance run --fuzz` does it
(positive and negative data, the same checks, probes and provisioning); the figure is requests
sent by the fuzzer (cases and probes, not provisioning) over the wall time of the fuzz loops.
Bounded: a fixed budget per operation and a wall-clock cap checked between operations. The last
stdout line is JSON (read by bench/fuzz_bench.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.emulator.settings import DEFAULT_API_KEY
from conformance.fuzz.common import schema_for, target_for
from conformance.fuzz.driver import FuzzStats, fuzz_operation
from conformance.fuzz.plugin import EMULATOR_BUDGET
from conformance.fuzz.report import FuzzFailure
from conformance.fuzz.setup import Provisioner, destructive
from conformance.harness.target import start_emulator
from conformance.harness.tracker import Tracker
from conformance.spec import load_contract
from conformance.versions import DEFAULT_API_VERSION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="budget 2, 20 s cap")
    parser.add_argument("--budget", type=int, default=EMULATOR_BUDGET,
                        help=f"cases per operation and mode (default {EMULATOR_BUDGET}, as `run --fuzz`)")
    parser.add_argument("--api-version", default=DEFAULT_API_VERSION)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    options = parser.parse_args(argv)
    budget, cap = (2, 20.0) if options.quick else (options.budget, options.max_seconds)

    emulator = start_emulator(DEFAULT_API_KEY)
    try:
        settings = TargetSettings(kind="emulator", name="emulator", endpoint=emulator.url, api_key=DEFAULT_API_KEY)
        contract = load_contract(options.api_version)
        schema = schema_for(contract, settings)
        client = ConformanceClient(emulator.url, options.api_version, api_key=DEFAULT_API_KEY)
        target = target_for(settings, options.api_version)
        stats, fuzzing, failures, done = FuzzStats(), 0.0, 0, 0
        started = time.monotonic()
        for op in contract.operations:
            if time.monotonic() - started > cap:
                break
            tracker = Tracker(client, "bench", target="emulator")
            provisioner = Provisioner(tracker, settings)
            provisioner.path_parameters(op)  # first provisioning is not part of the figure
            t0 = time.perf_counter()
            try:
                fuzz_operation(schema.find_operation_by_id(op.operation_id), target, budget=budget, seed=options.seed,
                               path_parameters=lambda o=op, pr=provisioner: pr.path_parameters(o),
                               before_case=provisioner.fresh if destructive(op) else None, stats=stats)
            except FuzzFailure:
                failures += 1
            fuzzing += time.perf_counter() - t0
            done += 1
            tracker.cleanup()
    finally:
        emulator.stop()
    rate = stats.cases / fuzzing if fuzzing else 0.0
    command = "python bench/fuzz_rate.py" + (" --quick" if options.quick else f" --budget {budget}")
    print(json.dumps({
        "cases_per_second": round(rate, 1),
        "cases": stats.cases,
        "operations": done,
        "seconds": round(fuzzing, 2),
        "budget": budget,
        "api_version": options.api_version,
        "failures": failures,
        "command": command,
        "note": f"{done} operations x (positive + negative) x {budget} cases + probes, one process, emulator on 127.0.0.1",
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

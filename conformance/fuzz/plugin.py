"""The fuzzer's pytest options and their resolved value, `FuzzOptions` (added by `conformance.plugin`).

Budgets are per target: generous against the emulator, small on anything real (where fuzzing is
opt-in in the first place: `aoai-conformance run --fuzz`). Without `--seed` the seed is derived
from the run id, so every xdist worker of one run uses the same one and the record names it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

EMULATOR_BUDGET = 15  # cases per operation and mode: both versions (+ stateful) fuzz in about a minute
LIVE_BUDGET = 2
MAX_BUDGET = 1000
FUZZ_OPTIONS_KEY = pytest.StashKey["FuzzOptions"]()


@dataclass(frozen=True)
class FuzzOptions:
    budget: int  # examples per operation and generation mode (stateful: steps per sequence)
    seed: int
    allow_expensive: bool
    spec: Path | None
    is_emulator: bool

    def may_spend(self) -> bool:
        """Operations that spend tokens or create runs: always on the emulator, opt-in elsewhere."""
        return self.is_emulator or self.allow_expensive


def add_options(parser: pytest.Parser) -> None:
    """Called from `conformance.plugin.pytest_addoption` (one plugin, one option namespace)."""
    group = parser.getgroup("aoai-conformance-fuzz", "Azure OpenAI conformance fuzzing (conformance.fuzz)")
    group.addoption("--fuzz-budget", type=int, default=None,
                    help=f"generated cases per operation and mode (default {EMULATOR_BUDGET} on the emulator, "
                         f"{LIVE_BUDGET} elsewhere)")
    group.addoption("--allow-expensive", action="store_true", default=False,
                    help="fuzz operations that spend tokens or create runs on a live target")
    group.addoption("--seed", type=int, default=None, dest="fuzz_seed",
                    help="fuzzing seed (default: derived from the run id, printed with every failure)")
    group.addoption("--spec", default=None, dest="fuzz_spec",
                    help="fuzz from this OpenAPI file (corrections overlay applied) instead of the contract")


def check_options(config: pytest.Config) -> None:
    """Called from `conformance.plugin.pytest_configure`: a bad value stops the run before collection."""
    budget = config.getoption("fuzz_budget", None)
    if budget is not None and not 1 <= budget <= MAX_BUDGET:
        raise pytest.UsageError(f"--fuzz-budget {budget}: use a number of cases from 1 to {MAX_BUDGET}")
    seed = config.getoption("fuzz_seed", None)
    if seed is not None and not 0 <= seed < 2**32:
        raise pytest.UsageError(f"--seed {seed}: use a number from 0 to {2**32 - 1}")
    raw_spec = config.getoption("fuzz_spec", None)
    if raw_spec:
        if not Path(raw_spec).is_file():
            raise pytest.UsageError(f"--spec {raw_spec}: no such file")
        from conformance.fuzz.common import spec_contract
        from conformance.spec import SpecError

        try:
            spec_contract(raw_spec)
        except SpecError as exc:
            raise pytest.UsageError(f"--spec: {exc}") from None


def seed_of(run_id: str) -> int:
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:4], "big")


def resolve(config: pytest.Config, run_id: str, is_emulator: bool) -> FuzzOptions:
    """The options of this session, checked once (a bad value is a usage error, not a traceback)."""
    if FUZZ_OPTIONS_KEY in config.stash:
        return config.stash[FUZZ_OPTIONS_KEY]
    budget = config.getoption("fuzz_budget")
    if budget is None:
        budget = EMULATOR_BUDGET if is_emulator else LIVE_BUDGET
    if not 1 <= budget <= MAX_BUDGET:
        raise pytest.UsageError(f"--fuzz-budget {budget}: use a number of cases from 1 to {MAX_BUDGET}")
    seed = config.getoption("fuzz_seed")
    if seed is not None and not 0 <= seed < 2**32:
        raise pytest.UsageError(f"--seed {seed}: use a number from 0 to {2**32 - 1}")
    raw_spec = config.getoption("fuzz_spec")
    spec = Path(raw_spec) if raw_spec else None
    if spec is not None and not spec.is_file():
        raise pytest.UsageError(f"--spec {raw_spec}: no such file")
    options = FuzzOptions(
        budget=budget,
        seed=seed if seed is not None else seed_of(run_id),
        allow_expensive=bool(config.getoption("allow_expensive")),
        spec=spec,
        is_emulator=is_emulator,
    )
    config.stash[FUZZ_OPTIONS_KEY] = options
    return options

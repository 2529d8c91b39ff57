"""`bench/run`: measure everything, write bench/results.json, regenerate the table in bench/README.md.

    bench/run [--quick] [--only suite,emulator,streams,memory,prism,fuzz] [--out FILE] [--readme FILE]

Each section is bounded in count and time; a section that fails is recorded as a figure without a
value and the reason, and the others still run. Every server listens on 127.0.0.1 and is stopped
by its own pid.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import BENCH, machine, now_iso
from bench.emulator_bench import QUICK, Bounds, load_figures, memory_figures, stream_figures
from bench.figures import Figure, missing
from bench.fuzz_bench import fuzz_figures
from bench.prism_bench import prism_figures, ratios
from bench.readme import update
from bench.suite_bench import suite_figures

SECTIONS = ("suite", "emulator", "prism", "streams", "memory", "fuzz")
# figure group -> the section that produces it ("ratio" is derived after every run)
SECTION_OF = {"suite": "suite", "cost": "suite", "emulator": "emulator", "emulator+httptools": "emulator",
              "prism": "prism", "streams": "streams", "memory": "memory", "fuzz": "fuzz"}


def _sections(quick: bool, bounds: Bounds) -> dict[str, Callable[[], list[Figure]]]:
    return {
        "suite": lambda: suite_figures(quick),
        "emulator": lambda: load_figures(bounds),
        "prism": lambda: prism_figures(bounds),
        "streams": lambda: stream_figures(bounds),
        "memory": lambda: memory_figures(bounds),
        "fuzz": lambda: fuzz_figures(quick),
    }


def run(only: list[str], quick: bool, out: Path, readme: Path | None, command: str) -> dict[str, object]:
    bounds = QUICK if quick else Bounds()
    started, started_at = time.perf_counter(), now_iso()
    figures: list[Figure] = []
    sections = _sections(quick, bounds)
    for name in only:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            figures += sections[name]()
        except Exception as exc:  # one broken section must not lose the others' figures
            figures.append(missing(name, f"{name} section", "", "bench/run --only " + name,
                                   f"failed: {type(exc).__name__}: {str(exc)[:300]}"))
        print(f"bench: {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    finished_at = now_iso()
    measured = {name: finished_at for name in only}
    kept: list[Figure] = []
    if set(only) != set(SECTIONS) and out.exists():
        # a partial rerun refreshes its sections and keeps the others' figures (with their dates)
        kept, earlier = _kept_figures(out, only)
        measured = {**earlier, **measured}
    figures = kept + figures
    figures = [f for f in figures if f.group != "ratio"] + ratios(figures)
    results: dict[str, object] = {
        "command": command, "started_at": started_at, "finished_at": finished_at,
        "seconds": round(time.perf_counter() - started, 1), "quick": quick, "sections": only,
        "sections_measured": measured, "machine": machine(), "figures": [f.as_json() for f in figures],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if readme is not None:
        update(readme, results)
    return results


def _kept_figures(out: Path, rerun: list[str]) -> tuple[list[Figure], dict[str, str]]:
    try:
        previous = json.loads(out.read_text(encoding="utf-8"))
        figures = [Figure(**raw) for raw in previous["figures"]]
    except (OSError, ValueError, KeyError, TypeError):
        return [], {}  # unreadable or from an older layout: start afresh
    if previous.get("quick"):
        return [], {}
    keep = [f for f in figures if SECTION_OF.get(f.group, f.group) not in rerun and f.group != "ratio"]
    dates = previous.get("sections_measured") or dict.fromkeys(previous.get("sections", []), previous.get("finished_at", ""))
    return keep, {k: v for k, v in dates.items() if k not in rerun}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description="Measure the suite, the emulator and Prism.")
    parser.add_argument("--quick", action="store_true", help="tiny bounds: checks the plumbing, figures meaningless")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    parser.add_argument("--readme", default=str(BENCH / "README.md"), help="README to update ('' for none)")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown or not only:
        print(f"bench/run: unknown section {', '.join(unknown) or '(none)'}; choose from {', '.join(SECTIONS)}",
              file=sys.stderr)
        return 2
    command = "bench/run" + "".join(f" {a}" for a in argv)
    results = run(only, args.quick, Path(args.out), Path(args.readme) if args.readme else None, command)
    print(f"bench: {len(results['figures'])} figures in {results['seconds']} s -> {args.out}")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

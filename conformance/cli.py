"""`aoai-conformance`: one entry point, one subcommand per job.

Each subcommand lives in the module that does the work and exposes `main(argv) -> int`; this
file only dispatches, so adding a command is one line in `COMMANDS`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# name -> (module with main(argv), one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("conformance.runner", "run the conformance suite against a target and write reports"),
    "emulator": ("conformance.emulator.server", "serve the reference emulator on 127.0.0.1"),
    "report": ("conformance.report.command", "build the HTML/Markdown report from results files"),
    "record": ("conformance.cassettes.command", "run the suite and record one cassette per test"),
    "validate": ("conformance.cassettes.validate", "check captured traffic (vcrpy YAML or HAR) offline"),
    "cleanup": ("conformance.cleanup", "delete objects left on a target by interrupted runs"),
    "bundle": ("conformance.spec.bundle", "rebuild schemas/bundled/ from schemas/source/"),
}

USAGE = "usage: aoai-conformance COMMAND [ARGS...]\n\ncommands:\n" + "\n".join(
    f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()
) + "\n\n`aoai-conformance COMMAND --help` describes a command."


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    if args[0] in {"-V", "--version"}:
        from conformance import __version__

        print(f"aoai-conformance {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"aoai-conformance: unknown command {name!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    raise SystemExit(main())

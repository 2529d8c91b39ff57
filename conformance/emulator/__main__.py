"""`python -m conformance.emulator`: the same CLI as `aoai-conformance emulator`."""

import sys

from conformance.emulator.server import main

raise SystemExit(main(sys.argv[1:]))

"""Benchmarks of the suite, the emulator and the alternatives (run with `bench/run`); not part of the package."""

"""Cassettes: record the suite's traffic from any target, replay it offline, validate captured traffic.

- `store`: layout, provenance header, the vcrpy persister (sanitises on load);
- `sanitize`: what is scrubbed (credentials, hosts, resource names, request ids);
- `tape`: one cassette around one test (record / replay, request matching, offline transport);
- `harness`: what the pytest plugin calls (options, recorded target kind, per-test cassette);
- `command`: `aoai-conformance record`; `validate` (+ `traffic`, `checks`): `aoai-conformance validate`.
"""

"""fuzz: Schemathesis-generated requests for every operation of the contract, and stateful sequences.

    aoai-conformance run --fuzz                     # suite + fuzz against the embedded emulator
    aoai-conformance run --fuzz -m fuzz --seed 42   # only the fuzzer, reproducing a reported seed
    pytest --pyargs conformance.fuzz --target url --base-url https://<resource>.openai.azure.com \\
        --fuzz-budget 2 [--allow-expensive] [--spec official.json]

Modules: `test_fuzz` (one test per operation and api-version), `test_stateful` (links-driven state
machine), `driver` (the seeded generate-send-check loop), `checks` (our checks over
`conformance.invariants`), `probes` (no api-version, unknown ids, filtered prompt), `setup`
(schema, auth, provisioning of path ids), `report` (failures -> findings, curl without credentials),
`plugin` (options, budgets, seed), `common` (what the test modules share).
"""

"""The contract core: load a contract, find operations, validate requests, responses and stream events.

    contract = load_contract("2024-08-01-preview")
    op, params = contract.match("GET", "/threads/thread_abc/messages")
    findings = contract.validate_response(op, 200, headers, body)
"""

from conformance.spec.contract import Contract
from conformance.spec.loader import SpecError, load_contract, load_spec_file
from conformance.spec.operations import Operation

__all__ = ["Contract", "Operation", "SpecError", "load_contract", "load_spec_file"]

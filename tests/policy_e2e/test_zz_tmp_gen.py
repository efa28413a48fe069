from __future__ import annotations

import json
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policy_e2e.ground_truth import check_response
from tests.policy_e2e.test_leaks import SCHEMA, _ask, large, large_askers, operations  # noqa: F401


@pytest.mark.parametrize("persona", ["principal"])
@settings(max_examples=45, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_gen(large, large_askers, persona, data) -> None:
    who = large_askers[persona]
    op = data.draw(operations(who), label="operation")
    body, calls = _ask(large, who, op)
    text = json.dumps(body)
    findings = check_response(who.oracle, SCHEMA, op.query, body, op.variables)
    assert not findings.leaks
    if findings.forbidden:
        assert body["data"] is None and calls == 0, (op.query, body, calls)
    assert not findings.mismatches, "\n".join([op.query, *findings.mismatches[:10]])

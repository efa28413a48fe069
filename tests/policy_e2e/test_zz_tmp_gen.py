from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policy_e2e.test_leaks import large, large_askers, operations  # noqa: F401


@pytest.mark.parametrize("persona", ["principal"])
@settings(max_examples=45, deadline=None, derandomize=False, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_gen(large_askers, persona, data) -> None:
    who = large_askers[persona]
    op = data.draw(operations(who))
    assert "node(" not in op.query

"""``oneroster-csv`` passes the conformance kit over a generated district."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.sdk import Adapter, Entity
from hub.testing.conformance import AdapterConformance, ConformanceTarget


class TestOneRosterCsv(AdapterConformance):
    """Every check of the kit; the set is loaded in ``open``, so it does not read live."""

    @pytest.fixture
    def conformance_target(self, district: Path, tmp_path: Path) -> ConformanceTarget:
        # A copy per test: the outage check moves the folder away for a moment.
        folder = tmp_path / "set"
        shutil.copytree(district, folder)

        def make_adapter() -> Adapter:
            return OneRosterCsvAdapter(OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=folder))

        @contextlib.contextmanager
        def outage() -> Iterator[None]:
            hidden = folder.with_name("set-hidden")
            folder.rename(hidden)
            try:
                yield
            finally:
                hidden.rename(folder)

        return ConformanceTarget(
            make_adapter=make_adapter,
            outage=outage,
            reads_live=False,
            sparse_fields=SPARSE,
        )


SPARSE = {
    # Declared because the format has them (the CSV adapter declares every
    # field of every entity), but the generated district writes no such values.
    Entity.TEACHER: {"preferred_name"},
    Entity.GUARDIAN: {"identifier", "preferred_name"},
    Entity.ATTENDANCE_EVENT: {"section_id"},  # daily marks, not per period
}

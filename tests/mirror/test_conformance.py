"""A MirroredAdapter over oneroster-csv passes the adapter conformance kit: the
mirror keeps every promise of hub.sdk that the adapter it wraps keeps."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.mirror import MirroredAdapter, MirrorStore
from hub.model import RECORD_TYPES, data_fields
from hub.sdk import Adapter, Entity
from hub.store import create_engine
from hub.testing.conformance import AdapterConformance, ConformanceTarget
from tests.support import make_district


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("mirror-conformance"), 60)


def _every_field(entity: Entity) -> frozenset[str]:
    return frozenset(data_fields(RECORD_TYPES[entity]))


class TestMirroredOneRosterCsv(AdapterConformance):
    """Every check of the kit; the vendor is read at open only, like the CSV adapter itself."""

    @pytest.fixture
    def conformance_target(self, district: Path, tmp_path: Path, sqlite_template: Path) -> ConformanceTarget:
        folder = tmp_path / "set"
        shutil.copytree(district, folder)
        database = tmp_path / "homeroom.db"
        shutil.copyfile(sqlite_template, database)
        url = f"sqlite+aiosqlite:///{database}"

        def make_adapter() -> Adapter:
            inner = OneRosterCsvAdapter(OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=folder))
            return MirroredAdapter(inner, lambda: MirrorStore(create_engine(url)), _every_field)

        @contextlib.contextmanager
        def outage() -> Iterator[None]:
            hidden = folder.with_name("set-hidden")
            folder.rename(hidden)
            try:
                yield
            finally:
                hidden.rename(folder)

        return ConformanceTarget(
            make_adapter=make_adapter, outage=outage, reads_live=False, sparse_fields=SPARSE
        )


SPARSE = {
    Entity.TEACHER: {"preferred_name"},
    Entity.GUARDIAN: {"identifier", "preferred_name"},
    Entity.ATTENDANCE_EVENT: {"section_id"},
}

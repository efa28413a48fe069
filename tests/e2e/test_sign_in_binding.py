"""A caller is bound to a roster person by sourcedId or by e-mail, and an
ambiguous or unknown binding binds no one."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hub.auth import Principal
from hub.federation.relations import CallerPerson
from hub.model import Entity
from tests.support import make_district, running_hub


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 100)


def _first_teacher(district: Path) -> dict[str, str]:
    with (district / "users.csv").open(encoding="utf-8") as handle:
        return next(row for row in csv.DictReader(handle) if row["sourcedId"].startswith("tch-"))


async def test_binding_by_email_and_by_sourced_id(district: Path) -> None:
    teacher = _first_teacher(district)
    async with running_hub(district) as running:
        by_email = await running.hub.caller_person(
            Principal(subject="idp|1", roles=("teacher",), person_email=teacher["email"])
        )
        by_id = await running.hub.caller_person(
            Principal(subject="idp|2", roles=("teacher",), sourced_id=teacher["sourcedId"])
        )
        expected = CallerPerson(Entity.TEACHER, "sis", teacher["sourcedId"])
        assert by_email == expected
        assert by_id == expected
        nobody = await running.hub.caller_person(
            Principal(subject="idp|3", roles=("teacher",), person_email="nobody@example.org")
        )
        assert nobody is None

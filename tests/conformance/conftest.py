"""A small generated district shared by the conformance tests of every adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import make_district

STUDENTS = 60


@pytest.fixture(scope="package")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 students: more than a sample for people and scores, less for schools."""
    return make_district(tmp_path_factory.mktemp("conformance-district"), STUDENTS)

"""Fixtures for the policy tests: the contract schema, its catalogue, policy folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema

from hub.policy import Catalogue, PolicyEngine, catalogue_from_schema
from tests.conftest import REPO, shared_path

SHIPPED = REPO / "policies"

MakePolicy = Callable[..., Path]


@pytest.fixture(scope="session")
def contract_schema() -> GraphQLSchema:
    return build_schema(shared_path("design", "schema.graphql").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def catalogue(contract_schema: GraphQLSchema) -> Catalogue:
    return catalogue_from_schema(contract_schema)


@pytest.fixture(scope="session")
def shipped_engine(catalogue: Catalogue) -> PolicyEngine:
    return PolicyEngine.from_dir(SHIPPED, catalogue)


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped policy folder."""
    return Path(shutil.copytree(SHIPPED, tmp_path / "policies"))


@pytest.fixture
def make_policy(tmp_path: Path) -> MakePolicy:
    """Write a policy folder: the shipped model, the given CSV files and test files."""

    def make(
        csv: str | dict[str, str] = "", *, tests: dict[str, str] | None = None, model: str | None = None
    ) -> Path:
        folder = tmp_path / "made"
        folder.mkdir(exist_ok=True)
        (folder / "model.conf").write_text(model or (SHIPPED / "model.conf").read_text(), encoding="utf-8")
        files = {"policy.csv": csv} if isinstance(csv, str) else csv
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        for name, text in (tests or {}).items():
            (folder / "tests").mkdir(exist_ok=True)
            (folder / "tests" / name).write_text(text, encoding="utf-8")
        return folder

    return make

"""``homeroom policy ...``: check, test, explain, matrix and diff for administrators.

Every command reads files only; none talks to a running hub. Errors name the
file and line and exit non-zero, so the commands work as CI steps.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import graphql
import typer

from hub.policy.catalogue import RELATIONS, Catalogue, catalogue_from_schema
from hub.policy.check import check_policy
from hub.policy.engine import PolicyEngine
from hub.policy.files import MODEL_FILE, PolicyError, default_policy_dir, policy_files_in
from hub.policy.grants import diff_grants, grant_table, render_diff, render_matrix
from hub.policy.suite import case_files_in, load_cases, run_cases

policy_app = typer.Typer(
    help="Check, test and explain the access policy (model.conf, *.csv, tests/*.yaml).",
    no_args_is_help=True,
)

_REPO = Path(__file__).resolve().parents[2]
_CONTRACT_CANDIDATES = (
    _REPO / "hub" / "schema" / "schema.graphql",
    _REPO / "schema.graphql",
    _REPO.parent / "shared" / "design" / "schema.graphql",
)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Policy folder. Default: $HOMEROOM_POLICY_DIR, else the shipped policies/."),
]


class MatrixFormat(StrEnum):
    """Output formats of ``policy matrix``."""

    MARKDOWN = "markdown"
    CSV = "csv"


def load_catalogue() -> Catalogue:
    """The policy-checked fields of the hub's live schema (the contract file when the schema is absent)."""
    # hub.schema depends on hub.policy, not the other way round: look it up at run time.
    try:
        build_schema = importlib.import_module("hub.schema").build_schema
    except (ImportError, AttributeError):
        for candidate in _CONTRACT_CANDIDATES:
            if candidate.is_file():
                return catalogue_from_schema(graphql.build_schema(candidate.read_text(encoding="utf-8")))
        raise RuntimeError("no GraphQL schema: hub.schema fails to import; no schema.graphql") from None
    schema: graphql.GraphQLSchema = build_schema()._schema
    return catalogue_from_schema(schema)


@policy_app.command()
def check(
    directory: DirOption = None,
    model: Annotated[Path | None, typer.Option(help="Model file. Default: model.conf of the folder.")] = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option(help="Policy CSV file; repeat for several. Default: *.csv of the folder."),
    ] = None,
) -> None:
    """Parse the model, policy and test files; report errors as file:line and warn about idle roles."""
    folder = _folder(directory)
    folder_model, folder_policies = policy_files_in(folder)
    catalogue = load_catalogue()
    try:
        report = check_policy(
            model or folder_model, policy or folder_policies, case_files_in(folder), catalogue
        )
    except PolicyError as exc:
        _fail(exc)
    for warning in report.warnings:
        typer.echo(str(warning), err=True)
    policy_rules = report.engine.policy
    typer.echo(
        f"ok: {len(policy_rules.rules)} rules, {len(policy_rules.role_links)} role links, "
        f"{len(report.cases)} test cases; version {report.engine.version}"
    )


@policy_app.command("test")
def run_tests(directory: DirOption = None) -> None:
    """Run the YAML cases of tests/ and print a pass/fail table; exit 1 if any case fails."""
    folder = _folder(directory)
    engine = _load(folder, load_catalogue())
    try:
        cases = load_cases(case_files_in(folder), engine.catalogue)
    except PolicyError as exc:
        _fail(exc)
    report = run_cases(engine, cases)
    typer.echo(report.table())
    if not report.passed:
        raise typer.Exit(1)


@policy_app.command()
def explain(
    role: Annotated[str, typer.Option(help="Role, identity-provider group or user, as the hub sees it.")],
    field: Annotated[str, typer.Option(help="Type.field, e.g. Student.birthDate.")],
    rel: Annotated[str | None, typer.Option(help=f"One of {', '.join(RELATIONS)}. Default: all.")] = None,
    directory: DirOption = None,
) -> None:
    """Show the verdict for a role reading a field, and the lines that decided it."""
    engine = _load(_folder(directory), load_catalogue())
    type_name, _, field_name = field.partition(".")
    if field_name not in engine.catalogue.get(type_name, frozenset()):
        raise typer.BadParameter(f"{field!r} is no policy-checked Type.field", param_hint="--field")
    if rel is not None and rel not in RELATIONS:
        raise typer.BadParameter(f"use one of {', '.join(RELATIONS)}", param_hint="--rel")
    for relation in (rel,) if rel else RELATIONS:
        typer.echo(str(engine.explain(role, field, relation)))


@policy_app.command()
def matrix(
    directory: DirOption = None,
    fmt: Annotated[MatrixFormat, typer.Option("--format", help="markdown or csv.")] = MatrixFormat.MARKDOWN,
    role: Annotated[list[str] | None, typer.Option(help="Only this role; repeat for several.")] = None,
) -> None:
    """Print every field against every role, with the relations under which the role reads it."""
    engine = _load(_folder(directory), load_catalogue())
    typer.echo(render_matrix(grant_table(engine, role), fmt.value), nl=False)


@policy_app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The policy before: a folder or a policy CSV file.")],
    new: Annotated[Path, typer.Argument(help="The policy after: a folder or a policy CSV file.")],
    model: Annotated[
        Path | None, typer.Option(help="Model for CSV files. Default: model.conf beside the file.")
    ] = None,
) -> None:
    """Print what changing OLD into NEW grants (+) and withdraws (-), as role, field, relation."""
    catalogue = load_catalogue()
    change = diff_grants(_load(old, catalogue, model), _load(new, catalogue, model))
    typer.echo(render_diff(change), nl=False)


def _folder(directory: Path | None) -> Path:
    if directory is not None:
        return directory
    try:
        return default_policy_dir()
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _load(path: Path, catalogue: Catalogue, model: Path | None = None) -> PolicyEngine:
    """An engine for a policy folder, or for one CSV file with ``model`` (or the model beside it)."""
    try:
        if path.is_dir():
            return PolicyEngine.from_dir(path, catalogue)
        sibling = path.parent / MODEL_FILE
        model_path = model or (sibling if sibling.is_file() else _folder(None) / MODEL_FILE)
        return PolicyEngine.from_files(model_path, [path], catalogue)
    except PolicyError as exc:
        _fail(exc)


def _fail(error: PolicyError) -> NoReturn:
    for problem in error.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(1)

"""The container and service files in ``deploy/`` (CI cannot run Docker here): they parse,
run as a non-root user, check health on ``/readyz``, and start the hub with a command line
``homeroom serve`` accepts."""

from __future__ import annotations

import configparser
import json
import shlex
from pathlib import Path

import typer
import yaml

from hub.cli import app

DEPLOY = Path(__file__).parents[2] / "deploy"


def _serve_accepts(argv: list[str]) -> None:
    """Fail unless ``homeroom ARGV`` is a ``serve`` command line the CLI parses."""
    assert argv[0].endswith("homeroom") and argv[1] == "serve", argv
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    context = serve.make_context("serve", list(argv[2:]))
    assert context.params["workers"] >= 1


def _dockerfile() -> dict[str, list[str]]:
    instructions: dict[str, list[str]] = {}
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            instructions.setdefault(word.upper(), []).append(rest.strip())
    return instructions


def test_the_image_runs_the_hub_as_a_non_root_user_with_a_readiness_check() -> None:
    image = _dockerfile()
    assert image["FROM"][-1].startswith("python:3.11-slim")
    assert image["USER"] == ["homeroom"]
    (health,) = image["HEALTHCHECK"]
    assert "/readyz" in health
    (command,) = image["CMD"]
    _serve_accepts(json.loads(command))
    assert any("--constraint" in run for run in image["RUN"])  # the lock file's versions


def test_compose_runs_the_hub_beside_postgresql_with_its_secrets_in_files() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    hub, db = compose["services"]["hub"], compose["services"]["db"]
    _serve_accepts(hub["command"])
    assert db["image"].startswith("postgres:")
    assert hub["depends_on"]["db"]["condition"] == "service_healthy"
    assert "homeroom_store__url" in hub["secrets"]  # read by the hub from /run/secrets
    assert "POSTGRES_PASSWORD" not in db["environment"]  # only the _FILE form
    assert all(not str(v).startswith("postgresql") for v in hub["environment"].values())


def test_the_systemd_unit_starts_the_hub_unprivileged() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "homeroom.service", encoding="utf-8")
    service = unit["Service"]
    assert service["User"] == "homeroom" and service["NoNewPrivileges"] == "yes"
    _serve_accepts(shlex.split(service["ExecStart"]))
    assert "HOMEROOM_SECRETS_DIR" in service["Environment"]


def test_the_build_context_leaves_out_secrets_stores_and_keys() -> None:
    ignored = (DEPLOY.parent / ".dockerignore").read_text(encoding="utf-8").split()
    for kept_out in ("deploy/secrets", "*.db", "*.key", ".venv*", ".git"):
        assert kept_out in ignored, kept_out

"""``homeroom serve`` with development sign-in, and ``homeroom token`` for it.

The server runs as a real process; ``token`` runs in process (CliRunner) and,
once, as a process too, since that is how an administrator uses it.
"""

from __future__ import annotations

import csv
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from hub.auth import DevSigner, TokenRejected
from hub.cli import DEMO_ISSUER, app
from hub.federation.ids import encode_id
from hub.testing import DistrictSpec, generate_district
from tests.cli import Process, needs_console_script, run_to_exit, running

pytestmark = needs_console_script

STUDENTS = 60
VIEWER = "{ viewer { subject roles person { __typename id } } }"
DEV_WARNING = "development sign-in is ON"


@dataclass
class Site:
    """A folder with a district, a config using it, and the dev key's path."""

    root: Path
    config: Path
    key_file: Path
    people: dict[str, list[str]]  # role -> sourcedIds


def _write_config(path: Path, district: Path, auth: str = 'dev_key_file = "dev.key"\n') -> Path:
    """A config beside ``path``; the district path is relative when it can be
    (relative paths are read from the config's folder)."""
    if district.is_relative_to(path.parent):
        district = district.relative_to(path.parent)
    path.write_text(
        f"""\
[server]
host = "127.0.0.1"

[auth]
{auth}
[policy]
watch = false

[[sources]]
name = "sis"
kind = "oneroster-csv"
path = "{district.as_posix()}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("site")
    district = root / "district"
    # Today's date, as the server's clock: the generated school year is current.
    generate_district(district, DistrictSpec(students=STUDENTS, seed=11))
    config = _write_config(root / "homeroom.toml", district)
    people: dict[str, list[str]] = {}
    with (district / "roles.csv").open(encoding="utf-8", newline="") as handle:  # OneRoster 1.2
        for row in csv.DictReader(handle):
            people.setdefault(row["role"], []).append(row["userSourcedId"])
    return Site(root, config, root / "dev.key", people)


def _token(site: Site, *args: str) -> str:
    result = CliRunner().invoke(app, ["token", "--config", str(site.config), *args])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _key(site: Site) -> bytes:
    return site.key_file.read_text(encoding="utf-8").strip().encode()


# -- homeroom token ------------------------------------------------------------


def test_token_creates_a_private_key_and_prints_a_token_for_it(site: Site) -> None:
    token = _token(site, "--role", "district_admin")

    assert stat.S_IMODE(site.key_file.stat().st_mode) == 0o600
    assert len(_key(site)) >= 32
    principal = DevSigner(_key(site)).verify(token)
    assert principal.roles == ("district_admin",)
    assert principal.subject == "dev:district_admin"
    assert principal.sourced_id is None
    # The key is made once; later tokens are signed with the same one.
    key = _key(site)
    DevSigner(key).verify(_token(site, "--role", "teacher"))
    assert _key(site) == key


def test_token_for_a_person_carries_the_sourced_id(site: Site) -> None:
    teacher = site.people["teacher"][0]
    principal = DevSigner(_key(site)).verify(_token(site, "--role", "teacher", "--person", teacher))
    assert principal.sourced_id == teacher
    assert principal.subject == f"dev:{teacher}"
    assert principal.roles == ("teacher",)


def test_token_hours_sets_the_expiry(site: Site) -> None:
    token = _token(site, "--role", "teacher", "--hours", "1")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iss"] == "homeroom-dev"


def test_token_needs_dev_sign_in(tmp_path: Path, site: Site) -> None:
    config = _write_config(tmp_path / "homeroom.toml", site.root / "district", auth="")
    result = CliRunner().invoke(app, ["token", "--config", str(config), "--role", "teacher"])
    assert result.exit_code == 2
    assert "development sign-in is off" in result.stderr
    assert "dev_key_file" in result.stderr
    assert result.stdout == ""


def test_token_refuses_a_short_key(tmp_path: Path, site: Site) -> None:
    config = _write_config(tmp_path / "homeroom.toml", site.root / "district")
    (tmp_path / "dev.key").write_text("too-short\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["token", "--config", str(config), "--role", "teacher"])
    assert result.exit_code == 2
    assert "[auth] dev_key_file" in result.stderr
    assert "too-short" not in result.output


def test_token_as_a_process_prints_only_the_token(site: Site) -> None:
    done = run_to_exit(["token", "--config", str(site.config), "--role", "guardian"], cwd=site.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    assert DevSigner(_key(site)).verify(done.stdout.strip()).roles == ("guardian",)


# -- homeroom serve ------------------------------------------------------------


@pytest.fixture(scope="module")
def server(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    # Started from another folder: dev.key and the district are found next to the config file.
    elsewhere = tmp_path_factory.mktemp("cwd")
    with running(["serve", "--config", str(site.config), "--port", "{port}"], cwd=elsewhere) as process:
        yield process


def test_serve_warns_that_development_sign_in_is_on(server: Process) -> None:
    stderr = server.stderr()
    assert "WARNING" in stderr
    assert DEV_WARNING in stderr
    assert "Traceback" not in stderr


def test_serve_is_healthy_once_the_source_is_loaded(server: Process) -> None:
    body = httpx.get(f"{server.base_url}/healthz", timeout=10).json()
    assert body["ready"] is True
    assert body["sources"]["sis"]["state"] == "UP"


def test_serve_accepts_a_token_from_homeroom_token(server: Process, site: Site) -> None:
    token = _token(site, "--role", "district_admin")
    query = "{ viewer { subject roles person { id } } students(first: 1) { totalCount } }"
    data = server.query(query, token)
    assert data["viewer"] == {"subject": "dev:district_admin", "roles": ["district_admin"], "person": None}
    assert data["students"]["totalCount"] == STUDENTS


@pytest.mark.parametrize(("role", "entity"), [("teacher", "Teacher"), ("guardian", "Guardian")])
def test_a_person_token_binds_viewer_person(server: Process, site: Site, role: str, entity: str) -> None:
    person = site.people[role][0]
    token = _token(site, "--role", role, "--person", person)
    viewer = server.query(VIEWER, token)["viewer"]
    assert viewer["roles"] == [role]
    assert viewer["person"] == {"__typename": entity, "id": encode_id(entity, "sis", person)}


def test_a_person_token_reaches_that_persons_students(server: Process, site: Site) -> None:
    guardian = site.people["guardian"][0]
    token = _token(site, "--role", "guardian", "--person", guardian)
    mine = server.query("{ viewer { students { edges { node { id } } } } }", token)
    children = {e["node"]["id"] for e in mine["viewer"]["students"]["edges"]}
    admin = _token(site, "--role", "district_admin")
    lookup = "query($id: ID!) { node(id: $id) { ... on Guardian { students { id } } } }"
    linked = server.query(lookup, admin, id=encode_id("Guardian", "sis", guardian))["node"]["students"]
    assert children
    assert children == {s["id"] for s in linked}


def _refused(server: Process, token: str) -> str:
    response = server.post(VIEWER, token)
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    message: str = body["errors"][0]["message"]
    return message


def test_a_token_signed_with_another_key_is_refused(server: Process) -> None:
    other = DevSigner(secrets.token_bytes(32))
    message = _refused(server, other.issue(subject="dev:x", roles=["district_admin"]))
    assert "signature" in message


def test_a_demo_token_is_refused(server: Process, site: Site) -> None:
    # Neither a real demo's token (its own random key) ...
    demo = DevSigner(secrets.token_bytes(32), issuer=DEMO_ISSUER)
    _refused(server, demo.issue(subject="demo:district_admin", roles=["district_admin"]))
    # ... nor one with the demo issuer that happens to use this key.
    same_key = DevSigner(_key(site), issuer=DEMO_ISSUER)
    assert "issuer" in _refused(server, same_key.issue(subject="demo:x", roles=["district_admin"]))


def test_an_expired_token_is_refused(server: Process, site: Site) -> None:
    token = DevSigner(_key(site)).issue(subject="dev:x", roles=["teacher"], ttl_seconds=-3600)
    assert "expired" in _refused(server, token)
    with pytest.raises(TokenRejected):
        DevSigner(_key(site)).verify(token)


def test_serve_without_sign_in_refuses_every_token(site: Site, tmp_path: Path) -> None:
    config = _write_config(tmp_path / "homeroom.toml", site.root / "district", auth="")
    token = _token(site, "--role", "district_admin")
    with running(["serve", "--config", str(config), "--port", "{port}"], cwd=tmp_path) as process:
        assert DEV_WARNING not in process.stderr()
        assert "no sign-in method is configured" in process.stderr()
        _refused(process, token)

"""``homeroom simulate`` and ``homeroom sources check``.

``simulate`` runs as a real process (it serves until stopped), found through
the ``homeroom.simulators`` entry points; ``sources check`` runs in process
(CliRunner) against a generated CSV set and Ed-Fi simulators served here.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner, Result

from adapters.edfi.simulator import SimulatorConfig, create_simulator
from hub.assemble import _with_resolved_paths
from hub.federation.registry import build_registry
from hub.sdk import Entity, FetchRequest
from hub.settings import load_settings
from hub.sources_cli import _write_table, installed_simulators, simulate, sources_app, sources_toml
from hub.testing.server import free_port, serving
from tests.cli import HOMEROOM, homeroom_env, stop
from tests.support import make_district

STUDENTS = 50
SECRET = "s3cret-for-the-simulator"
READY_TIMEOUT = 60.0

# The commands as hub/cli.py mounts them.
cli = typer.Typer()
cli.add_typer(sources_app, name="sources")
cli.command("simulate")(simulate)


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """A folder on ``sys.path`` holding a distribution that registers the
    ``edfi`` simulator entry point, unless the installed homeroom already does.

    Yields the folder (for a child's PYTHONPATH), or None when not needed.
    """
    if "edfi" in installed_simulators():
        yield None
        return
    site = tmp_path_factory.mktemp("site")
    dist = site / "homeroom_test_simulators-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: homeroom-test-simulators\nVersion: 0.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[homeroom.simulators]\nedfi = adapters.edfi.simulator_spec:SIMULATOR\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        yield site


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), STUDENTS)


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


# -- simulate ----------------------------------------------------------------------


def _simulate_command(how: str) -> list[str]:
    if how == "console script":
        from hub.cli import app

        if not HOMEROOM.exists():
            pytest.skip(f"{HOMEROOM} is not installed (pip install -e .)")
        if "simulate" not in {command.name for command in app.registered_commands}:
            pytest.skip("`homeroom simulate` is not mounted in hub/cli.py yet")
        return [str(HOMEROOM), "simulate"]
    # The command function itself, as a one-command program.
    boot = "import typer; from hub.sources_cli import simulate; typer.run(simulate)"
    return [sys.executable, "-c", boot]


@contextlib.contextmanager
def _simulating(
    command: list[str], args: list[str], cwd: Path, site: Path | None, ready: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = homeroom_env()
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    out, err = cwd / "simulate.out", cwd / "simulate.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [*command, *args], cwd=cwd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not (ready.exists() and "Serving until" in out.read_text(encoding="utf-8")):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"simulate did not start:\n{out.read_text()}\n{err.read_text()[-3000:]}")
                time.sleep(0.05)
            yield proc
        finally:
            stop(proc)


@pytest.mark.parametrize("how", ["command function", "console script"])
def test_simulate_serves_edfi_and_writes_a_table_the_hub_can_use(
    how: str, registered: Path | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = _simulate_command(how)
    port = free_port()
    table_file = tmp_path / "homeroom.toml"
    args = ["edfi", "--data-dir", "district", "--port", str(port), "--students", str(STUDENTS)]
    args += ["--client-secret", SECRET, "--config-out", table_file.name, "--option", "data_standard=4"]
    with _simulating(command, args, tmp_path, registered, table_file):
        output = (tmp_path / "simulate.out").read_text(encoding="utf-8")
        base_url = f"http://127.0.0.1:{port}"
        assert f"base URL       {base_url}" in output
        assert "client id      homeroom-sim" in output
        exports = dict(re.findall(r"^  export (\w+)=(\S+)$", output, flags=re.MULTILINE))
        assert exports == {"ODS_KEY": "homeroom-sim", "ODS_SECRET": SECRET}
        assert (tmp_path / "district" / "manifest.csv").exists()  # generated on the spot
        assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200

        written = table_file.read_text(encoding="utf-8")
        assert SECRET not in written  # secrets are variable names in the table
        settings = load_settings(table_file)
        (table,) = settings.sources
        assert table == {
            "name": "ods",
            "kind": "edfi",
            "base_url": base_url,
            "data_standard": "4",
            "key_env": "ODS_KEY",
            "secret_env": "ODS_SECRET",
        }
        for name, value in exports.items():
            monkeypatch.setenv(name, value)
        assert _first_students(_with_resolved_paths(settings)) == 5

        checked = _invoke(["sources", "check", "--config", str(table_file)])
        assert checked.exit_code == 0, checked.output
        assert "FAILED" not in checked.output


def _first_students(tables: list[dict[str, object]]) -> int:
    import asyncio

    async def read() -> int:
        registry = build_registry(tables)
        try:
            assert await registry.open(), registry.states
            result = await registry.fetch(
                "ods", FetchRequest(entity=Entity.STUDENT, fields=frozenset({"given_name"}), limit=5)
            )
            return len(result.records)
        finally:
            await registry.aclose()

    return asyncio.run(read())


def test_simulate_names_the_installed_simulators_for_an_unknown_kind(
    registered: Path | None, tmp_path: Path
) -> None:
    result = _invoke(["simulate", "nope", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no simulator for kind 'nope'" in result.output
    assert "edfi" in result.output.split("installed simulators:")[1]


def test_simulate_refuses_unknown_options_and_a_folder_without_a_district(
    registered: Path | None, tmp_path: Path
) -> None:
    unknown = _invoke(["simulate", "edfi", "--data-dir", str(tmp_path), "--option", "colour=blue"])
    assert unknown.exit_code == 2
    assert "simulator 'edfi' has no option colour (its options: data_standard, error_rate, latency)" in (
        unknown.output
    )
    (tmp_path / "notes.txt").write_text("not a district", encoding="utf-8")
    cluttered = _invoke(["simulate", "edfi", "--data-dir", str(tmp_path)])
    assert cluttered.exit_code == 2
    assert "holds files but no OneRoster set" in cluttered.output
    assert list(tmp_path.iterdir()) == [tmp_path / "notes.txt"]  # nothing generated into it


def test_the_table_is_valid_toml_whatever_its_strings_hold(tmp_path: Path) -> None:
    table = {
        "name": "sis",
        "kind": "odd",
        "note": 'a "quoted" \\ back\tslash\nnew line \x01 é',
        "weird key": True,
        "n": 3,
        "share": 0.25,
        "list": ["a", 'b"'],
    }
    assert tomllib.loads(sources_toml(table)) == {"sources": [table]}
    target = tmp_path / "homeroom.toml"
    target.write_text('[server]\nport = 8001\n\n[[sources]]\nname = "csv"\nkind = "x"\n', encoding="utf-8")
    assert _write_table(target, table, "odd") == "appended to"
    assert [s["name"] for s in tomllib.loads(target.read_text())["sources"]] == ["csv", "sis"]
    with pytest.raises(ValueError, match="already has a source named 'sis'"):
        _write_table(target, table, "odd")


# -- sources check -----------------------------------------------------------------


@pytest.fixture(scope="module")
def edfi_url(district: Path) -> Iterator[str]:
    with serving(create_simulator(district, SimulatorConfig())) as url:
        yield url


def _config(root: Path, district: Path, edfi_url: str) -> Path:
    # The CSV path is relative: it must be read from the config's folder.
    relative = os.path.relpath(district, root)
    config = root / "homeroom.toml"
    config.write_text(
        f"""\
[[sources]]
name = "sis"
kind = "oneroster-csv"
path = "{Path(relative).as_posix()}"

[[sources]]
name = "ods"
kind = "edfi"
base_url = "{edfi_url}"
key_env = "CHECK_ODS_KEY"
secret_env = "CHECK_ODS_SECRET"
retries = 0
""",
        encoding="utf-8",
    )
    return config


def _names_in(district: Path) -> set[str]:
    with (district / "users.csv").open(encoding="utf-8", newline="") as handle:
        return {row[key] for row in csv.DictReader(handle) for key in ("givenName", "familyName")}


def _rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()[1:] if line.strip() and "check(s)" not in line]


def test_sources_check_reads_a_page_of_every_entity_of_every_source(
    district: Path, edfi_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, district, edfi_url)
    defaults = SimulatorConfig()
    env = {"CHECK_ODS_KEY": defaults.key, "CHECK_ODS_SECRET": defaults.secret}
    result = _invoke(["sources", "check", "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert result.output.splitlines()[0].split() == ["SOURCE", "ENTITY", "RESULT", "RECORDS", "MS", "REASON"]
    entities = [entity.value for entity in Entity]
    for source in ("sis", "ods"):
        mine = [row for row in rows if row[0] == source]
        assert [row[1] for row in mine] == ["(open)", *entities]
        assert all(row[2] == "ok" for row in mine)
        assert all(1 <= int(row[3]) <= 5 for row in mine[1:])  # one page of at most 5 each
        assert all(float(row[4]) >= 0 for row in mine)
    assert "2 source(s), 26 check(s): 26 ok, 0 failed" in result.output
    words = set(re.findall(r"[A-Za-z'-]+", result.output))
    assert not words & {name for name in _names_in(district) if len(name) > 3}  # counts, never contents


def test_sources_check_shows_a_refused_secret_as_a_failed_row_and_exits_1(
    district: Path, edfi_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, district, edfi_url)
    env = {"CHECK_ODS_KEY": SimulatorConfig().key, "CHECK_ODS_SECRET": "wrong"}
    result = _invoke(["sources", "check", "--config", str(config)], env=env)
    assert result.exit_code == 1
    (failed,) = [line for line in result.output.splitlines() if "FAILED" in line]
    assert failed.split()[:3] == ["ods", "(open)", "FAILED"]
    assert "token endpoint refused the client" in failed
    assert "check CHECK_ODS_KEY / CHECK_ODS_SECRET" in failed
    assert "wrong" not in failed
    assert sum(1 for row in _rows(result.output) if row[0] == "sis" and row[2] == "ok") == 13
    assert "1 failed" in result.output


def test_sources_check_names_a_missing_variable_and_an_unknown_source(
    district: Path, edfi_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, district, edfi_url)
    result = _invoke(["sources", "check", "--config", str(config), "--source", "ods"], env={})
    assert result.exit_code == 1
    assert [row[:3] for row in _rows(result.output)] == [["ods", "(config)", "FAILED"]]
    assert "environment variable CHECK_ODS_KEY is not set" in result.output
    unknown = _invoke(["sources", "check", "--config", str(config), "--source", "lms"])
    assert unknown.exit_code == 2
    assert "no source named lms" in unknown.output and "sources: sis, ods" in unknown.output
    missing = _invoke(["sources", "check", "--config", str(tmp_path / "absent.toml")])
    assert missing.exit_code == 2 and "no such file" in missing.output

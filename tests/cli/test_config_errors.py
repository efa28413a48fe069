"""A wrong ``homeroom.toml`` stops the hub with a message an administrator can
act on (the source, the key, the installed kinds), exit code 2 and no
traceback; secrets are read from the environment or files and never echoed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hub import cli
from hub.assemble import ConfigurationProblem, assemble
from hub.federation.registry import installed_kinds
from hub.policy import default_policy_dir
from hub.sdk import ConfigError, read_secret
from hub.settings import SettingsError, load_settings
from tests.cli import needs_console_script, run_to_exit
from tests.conftest import REPO

EXAMPLE = REPO / "homeroom.example.toml"
SECRET = "hunter2-do-not-print-me"


def _source(**keys: Any) -> str:
    lines = ["[[sources]]"]
    lines += [f"{key} = {_toml(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\") + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A folder standing in for a OneRoster set (assembling does not read it)."""
    folder = tmp_path / "export"
    folder.mkdir()
    return folder


@pytest.fixture
def write(tmp_path: Path) -> Any:
    def write(text: str) -> Path:
        path = tmp_path / "homeroom.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Make ``serve`` return instead of serving; records (host, port)."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(cli, "_run", lambda app, host, port: calls.append((host, port)))
    monkeypatch.setattr(cli, "_logging", lambda fmt=None: None)
    return calls


def _serve(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli.app, ["serve", "--config", str(config), *args])


def _cases(export: Path, tmp_path: Path) -> dict[str, tuple[str, list[str]]]:
    """Config text -> the words its error message must contain."""
    good = {"name": "sis", "kind": "oneroster-csv", "path": str(export)}
    kinds = ["installed kinds: ", "oneroster-csv"]
    not_a_set = tmp_path / "notes.txt"
    not_a_set.write_text("not a zip", encoding="utf-8")

    def without(key: str) -> dict[str, Any]:
        return {k: v for k, v in good.items() if k != key}

    return {
        "unknown kind": (
            _source(**{**good, "kind": "powerschool"}),
            ["source 'sis'", "key 'kind'", "unknown kind 'powerschool'", *kinds],
        ),
        "missing name": (_source(**without("name")), ["key 'name'", "missing", *kinds]),
        "missing kind": (_source(**without("kind")), ["source 'sis'", "key 'kind'", "missing", *kinds]),
        "missing path": (_source(**without("path")), ["source 'sis'", "key 'path'", "required", *kinds]),
        "unknown key": (
            _source(**good, pth="/srv/x"),
            ["source 'sis'", "key 'pth'", "unknown key", *kinds],
        ),
        "bad name": (_source(**{**good, "name": "s i s"}), ["source 's i s'", "key 'name'", "pattern"]),
        "bad path value": (
            _source(**{**good, "path": 42}),
            ["source 'sis'", "key 'path'", "not a valid path"],
        ),
        "path does not exist": (
            _source(**{**good, "path": str(tmp_path / "nowhere")}),
            ["source 'sis'", "key 'path'", "does not exist", *kinds],
        ),
        "path is not a set": (
            _source(**{**good, "path": str(not_a_set)}),
            ["source 'sis'", "key 'path'", "neither a folder nor a .zip"],
        ),
        "duplicate names": (
            _source(**good) + _source(**good),
            ["source 'sis'", "key 'name'", "two sources have this name"],
        ),
        "bad server value": ("[server]\nport = 70000\n" + _source(**good), ["server.port", "65535"]),
        "unknown server key": ("[server]\nprot = 8000\n" + _source(**good), ["server.prot", "not permitted"]),
        "unknown table": ("[servre]\nport = 8000\n" + _source(**good), ["servre", "not permitted"]),
        "sources not tables": ('sources = "sis"\n', ["sources"]),
        "invalid TOML": ("[[sources]]\nname = sis\n", ["not valid TOML"]),
        "policy dir missing": (
            '[policy]\ndir = "no-such-policies"\n' + _source(**good),
            ["policy", "no-such-policies", "not a folder"],
        ),
    }


CASE_NAMES = [
    "unknown kind",
    "missing name",
    "missing kind",
    "missing path",
    "unknown key",
    "bad name",
    "bad path value",
    "path does not exist",
    "path is not a set",
    "duplicate names",
    "bad server value",
    "unknown server key",
    "unknown table",
    "sources not tables",
    "invalid TOML",
    "policy dir missing",
]


def test_every_case_is_listed(export: Path, tmp_path: Path) -> None:
    assert sorted(_cases(export, tmp_path)) == sorted(CASE_NAMES)


def test_the_baseline_config_is_valid(export: Path, write: Any, served: list[tuple[str, int]]) -> None:
    config = write(_source(name="sis", kind="oneroster-csv", path=str(export)))
    hub = assemble(load_settings(config))
    assert list(hub.registry.adapters) == ["sis"]
    result = _serve(config)
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 8000)]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_assembling_a_bad_config_names_what_to_fix(
    export: Path, tmp_path: Path, write: Any, case: str
) -> None:
    text, words = _cases(export, tmp_path)[case]
    config = write(text)
    with pytest.raises((SettingsError, ConfigurationProblem)) as caught:
        assemble(load_settings(config))
    message = str(caught.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


@pytest.mark.parametrize("case", CASE_NAMES)
def test_serve_with_a_bad_config_exits_2_without_a_traceback(
    export: Path, tmp_path: Path, write: Any, served: list[tuple[str, int]], case: str
) -> None:
    text, words = _cases(export, tmp_path)[case]
    result = _serve(write(text))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert served == []
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr


def test_installed_kinds_are_listed_in_full(export: Path, write: Any) -> None:
    config = write(_source(name="sis", kind="powerschool", path=str(export)))
    with pytest.raises(ConfigurationProblem) as caught:
        assemble(load_settings(config))
    listed = re.search(r"installed kinds: ([^)]*)\)", str(caught.value))
    assert listed is not None
    assert listed.group(1).split(", ") == sorted(installed_kinds())


def test_a_missing_config_file_exits_2(tmp_path: Path, served: list[tuple[str, int]]) -> None:
    result = _serve(tmp_path / "nowhere.toml")
    assert result.exit_code == 2
    assert "nowhere.toml: no such file" in result.stderr


def test_a_short_dev_key_stops_serve(export: Path, write: Any, served: list[tuple[str, int]]) -> None:
    config = write(
        '[auth]\ndev_key_file = "dev.key"\n' + _source(name="sis", kind="oneroster-csv", path=str(export))
    )
    (config.parent / "dev.key").write_text("k3y-abc\n", encoding="utf-8")
    result = _serve(config)
    assert result.exit_code == 2
    assert "[auth] dev_key_file" in result.stderr
    assert "k3y-abc" not in result.stderr
    assert served == []


@pytest.mark.parametrize(
    "text",
    [
        _source(name="sis", kind="oneroster-csv", path="{export}", password=SECRET),
        _source(name="sis", kind="oneroster-csv", path="{export}", client_secret=SECRET),
        f'[auth]\naudience = ["{SECRET}"]\n',
        f'[server]\nhost = "127.0.0.1"\nport = "{SECRET}"\n',
    ],
    ids=["unknown key", "secret-looking key", "bad auth value", "bad server value"],
)
def test_errors_never_echo_a_value_given_for_a_bad_key(
    export: Path, write: Any, served: list[tuple[str, int]], text: str
) -> None:
    config = write(text.replace("{export}", str(export)))
    result = _serve(config)
    assert result.exit_code == 2
    assert SECRET not in result.output


def test_host_and_port_options_override_the_config(
    export: Path, write: Any, served: list[tuple[str, int]]
) -> None:
    config = write("[server]\nport = 8123\n" + _source(name="sis", kind="oneroster-csv", path=str(export)))
    assert _serve(config).exit_code == 0
    assert _serve(config, "--host", "0.0.0.0", "--port", "9001").exit_code == 0
    assert served == [("127.0.0.1", 8123), ("0.0.0.0", 9001)]


def test_a_relative_source_path_is_read_from_the_config_folder(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "homeroom.toml"
    config.write_text(_source(name="sis", kind="oneroster-csv", path="export"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    hub = assemble(load_settings(config))
    assert list(hub.registry.adapters) == ["sis"]


def test_port_zero_on_the_command_line_is_kept(
    export: Path, write: Any, served: list[tuple[str, int]]
) -> None:
    config = write(_source(name="sis", kind="oneroster-csv", path=str(export)))
    assert _serve(config, "--port", "0").exit_code == 0
    assert served == [("127.0.0.1", 0)]


async def test_an_adapter_failing_unexpectedly_in_open_is_reported_down() -> None:
    from hub.federation.registry import SourceRegistry
    from hub.sdk import Student
    from hub.testing.memory import MemoryAdapter

    class Broken(MemoryAdapter):
        async def open(self) -> Any:
            raise KeyError("vendor field")

    registry = SourceRegistry(
        [Broken("lms", [Student(vendor_id="a")]), MemoryAdapter("sis", [Student(vendor_id="b")])]
    )
    assert await registry.open() is False
    assert registry.states["lms"].state == "DOWN"
    assert registry.states["lms"].last_error == "adapter error (KeyError)"
    assert registry.states["sis"].state == "UP"


# -- a bad config as a real process ---------------------------------------------


@needs_console_script
@pytest.mark.parametrize("case", ["unknown kind", "invalid TOML"])
def test_a_bad_config_as_a_process(export: Path, tmp_path: Path, write: Any, case: str) -> None:
    text, words = _cases(export, tmp_path)[case]
    done = run_to_exit(["serve", "--config", str(write(text))], cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert error, done.stderr
    for word in words:
        assert word in done.stderr


# -- secrets ------------------------------------------------------------------------


def test_a_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIS_CLIENT_SECRET", SECRET)
    assert read_secret("sis", env="SIS_CLIENT_SECRET") == SECRET


@pytest.mark.parametrize("value", [None, ""])
def test_an_unset_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("SIS_CLIENT_SECRET", raising=False)
    else:
        monkeypatch.setenv("SIS_CLIENT_SECRET", value)
    with pytest.raises(ConfigError) as caught:
        read_secret("sis", env="SIS_CLIENT_SECRET", key="client_secret_env")
    assert (caught.value.source, caught.value.key) == ("sis", "client_secret_env")
    assert "SIS_CLIENT_SECRET" in str(caught.value)
    assert "source 'sis'" in str(caught.value)


def test_a_secret_from_a_file_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(f"  {SECRET}\n", encoding="utf-8")
    assert read_secret("sis", file=str(path)) == SECRET


@pytest.mark.parametrize(
    ("content", "reason"), [(None, "cannot read secret file"), ("  \n", "is empty"), ("dir", "cannot read")]
)
def test_a_bad_secret_file_names_the_file(tmp_path: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "secret"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_secret("lms", file=str(path), key="token_file")
    assert (caught.value.source, caught.value.key) == ("lms", "token_file")
    assert str(path) in str(caught.value)
    assert reason in str(caught.value)


def test_a_secret_needs_a_variable_or_a_file() -> None:
    with pytest.raises(ConfigError, match=r"_env.*_file"):
        read_secret("sis")


def test_an_error_never_holds_the_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTHER_SECRET", SECRET)
    path = tmp_path / "secret"
    path.write_text(SECRET, encoding="utf-8")
    for kwargs in ({"env": "MISSING_SECRET_VAR"}, {"file": str(tmp_path / "missing")}):
        with pytest.raises(ConfigError) as caught:
            read_secret("sis", **kwargs)
        assert SECRET not in str(caught.value)


def test_a_secret_file_that_is_not_text_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"\xffsecret-bytes")
    with pytest.raises(ConfigError) as caught:
        read_secret("sis", file=str(path))
    assert str(path) in str(caught.value)
    assert "0xff" not in str(caught.value)


# -- the example config ---------------------------------------------------------------

_COMMENTED_SETTING = re.compile(r"^#(\w+ = .*)$", re.MULTILINE)


def _example(tmp_path: Path, export: Path, *, uncomment: bool = False) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    text, replaced = re.subn(r'^path = ".*"$', f"path = {_toml(str(export))}", text, flags=re.MULTILINE)
    assert replaced == 1
    if uncomment:
        text = _COMMENTED_SETTING.sub(r"\1", text)
    config = tmp_path / "homeroom.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_the_example_config_is_valid(tmp_path: Path, export: Path, served: list[tuple[str, int]]) -> None:
    config = _example(tmp_path, export)
    settings = load_settings(config)
    assert settings.auth.dev_key_file is None, "development sign-in must stay commented out"
    assert settings.policy.dir is None
    assert [s["kind"] for s in settings.sources] == ["oneroster-csv"]
    hub = assemble(settings)
    assert list(hub.registry.adapters) == ["sis"]
    result = _serve(config)
    assert result.exit_code == 0, result.output
    assert served == [(settings.server.host, settings.server.port)]


def test_the_example_config_commented_settings_are_valid_too(tmp_path: Path, export: Path) -> None:
    commented = _COMMENTED_SETTING.findall(EXAMPLE.read_text(encoding="utf-8"))
    assert any(line.startswith("dev_key_file") for line in commented)
    shutil.copytree(default_policy_dir(), tmp_path / "policies")
    settings = load_settings(_example(tmp_path, export, uncomment=True))
    assert settings.auth.dev_key_file == "dev.key"
    assert settings.policy.dir == "policies"
    assemble(settings)

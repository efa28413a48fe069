"""The oneroster-rest config: the keys of the issue, secrets from env or files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.oneroster_rest import SPEC, OneRosterRestAdapter, OneRosterRestConfig
from hub.federation.registry import configure_source
from hub.sdk import ConfigError


def table(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "sis",
        "kind": "oneroster-rest",
        "base_url": "https://sis.example/api",
        "version": "1.2",
        "token_url": "https://sis.example/oauth/token",
        "client_id_env": "TEST_OR_ID",
        "client_secret_env": "TEST_OR_SECRET",
    }
    values.update(overrides)
    return values


def test_the_five_keys_of_the_issue_configure_a_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_OR_ID", "id")
    monkeypatch.setenv("TEST_OR_SECRET", "secret")
    adapter = configure_source(table(), {"oneroster-rest": SPEC})
    assert isinstance(adapter, OneRosterRestAdapter)
    assert adapter.name == "sis" and adapter.version == "1.2"
    assert SPEC.kind == "oneroster-rest"


def test_base_url_may_include_the_oneroster_path() -> None:
    config = OneRosterRestConfig.model_validate(table(base_url="https://sis.example/t1/ims/oneroster/v1p1/"))
    assert config.base_url == "https://sis.example/t1"


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "id").write_text("file-id\n")
    (tmp_path / "secret").write_text("file-secret\n")
    config = OneRosterRestConfig.model_validate(
        table(
            client_id_env=None,
            client_secret_env=None,
            client_id_file=str(tmp_path / "id"),
            client_secret_file=str(tmp_path / "secret"),
        )
    )
    assert (config.client_id(), config.client_secret()) == ("file-id", "file-secret")
    assert config.secret_names().endswith("secret")


def test_a_missing_secret_names_the_variable_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_OR_ID", raising=False)
    with pytest.raises(ConfigError, match="TEST_OR_ID is not set"):
        configure_source(table(), {"oneroster-rest": SPEC})


@pytest.mark.parametrize(
    "overrides",
    [
        {"version": "2.0"},
        {"token_url": None},
        {"client_secret_env": None},
        {"client_id_file": "/x"},
        {"auth": "saml"},
        {"filter_predicates": 0},
        {"filter_length": 50},  # not even one id predicate would fit
        {"base_url": "sis.example"},
    ],
)
def test_bad_tables_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        OneRosterRestConfig.model_validate(table(**overrides))


def test_oauth1_needs_no_token_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_OR_ID", "key")
    monkeypatch.setenv("TEST_OR_SECRET", "secret")
    config = OneRosterRestConfig.model_validate(
        table(version="1.1", auth="oauth1", token_url=None, oauth1_signature_method="HMAC-SHA256")
    )
    adapter = OneRosterRestAdapter(config)
    assert adapter.version == "1.1"

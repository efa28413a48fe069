"""The OIDC keys of ``[auth]``: defaults, and every unsafe value refused at start-up."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hub.auth.config import OidcOptions, OidcSettings

BASE: dict[str, Any] = {"issuer": "https://login.district.test", "audience": "homeroom"}


def error_of(model: type[OidcOptions] | type[OidcSettings], **values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(values)
    return str(caught.value)


def test_defaults() -> None:
    settings = OidcSettings.model_validate(BASE)
    assert settings.algorithms == ("RS256", "ES256")
    assert settings.roles_claim == "groups"
    assert settings.person_claim == "email"
    assert settings.person_claim_kind == "email"
    assert settings.clock_skew_seconds == 30
    assert settings.role_map == {}
    assert settings.client_roles == {}
    assert settings.jwks_url is None
    assert settings.issuers == ("https://login.district.test",)


def test_no_issuer_means_no_identity_provider() -> None:
    assert OidcOptions().oidc() is None
    assert OidcOptions(audience="homeroom").oidc() is None


def test_options_with_an_issuer_become_settings() -> None:
    options = OidcOptions.model_validate(
        {
            **BASE,
            "role_map": {"Teachers": ["teacher"], "Office": "district_admin"},
            "client_roles": {"dash": ["district_reporting"]},
            "issuer_aliases": "login.district.test",
        }
    )
    settings = options.oidc()
    assert settings is not None
    assert settings.role_map == {"Teachers": ("teacher",), "Office": ("district_admin",)}
    assert settings.client_roles == {"dash": ("district_reporting",)}
    assert settings.issuers == ("https://login.district.test", "login.district.test")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(alg: str) -> None:
    assert "never accepted" in error_of(OidcSettings, **BASE, algorithms=["RS256", alg])


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "hs256"])
def test_hmac_is_refused(alg: str) -> None:
    assert "algorithm confusion" in error_of(OidcSettings, **BASE, algorithms=[alg])


def test_unknown_and_empty_algorithm_lists() -> None:
    assert "unknown algorithm" in error_of(OidcSettings, **BASE, algorithms=["RS1024"])
    assert "at least one" in error_of(OidcSettings, **BASE, algorithms=[])


def test_a_single_algorithm_string_is_a_list() -> None:
    assert OidcSettings.model_validate({**BASE, "algorithms": "ES256"}).algorithms == ("ES256",)


@pytest.mark.parametrize(
    "url",
    ["http://login.district.test", "ftp://login.district.test", "login.district.test", "https://"],
)
def test_issuer_must_be_https(url: str) -> None:
    message = error_of(OidcSettings, issuer=url, audience="homeroom")
    assert "https://" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000", "http://localhost:8080/realms/x", "http://[::1]:1"])
def test_plain_http_is_fine_on_loopback(url: str) -> None:
    assert OidcSettings.model_validate({"issuer": url, "audience": "homeroom"}).issuer == url


def test_jwks_url_must_be_https() -> None:
    assert "jwks_url" in error_of(OidcSettings, **BASE, jwks_url="http://keys.example/jwks")


def test_an_issuer_needs_an_explicit_audience() -> None:
    assert "set audience" in error_of(OidcOptions, issuer="https://login.district.test")
    assert "set audience" in error_of(OidcSettings, issuer="https://login.district.test")


def test_oidc_keys_without_an_issuer_are_a_mistake() -> None:
    message = error_of(OidcOptions, role_map={"Teachers": ["teacher"]}, jwks_url="https://k.example/jwks")
    assert "jwks_url, role_map configure an identity provider: set issuer" in message


@pytest.mark.parametrize(
    "role_map",
    [{"Teachers": []}, {"Teachers": ["two words"]}, {"Teachers": ["a,b"]}, {"": ["teacher"]}, {"T": [1]}],
)
def test_bad_role_maps(role_map: dict[str, Any]) -> None:
    error_of(OidcSettings, **BASE, role_map=role_map)


def test_bad_client_roles() -> None:
    assert "client_roles" in error_of(OidcSettings, **BASE, client_roles={"dash": []})


def test_unknown_keys_are_refused() -> None:
    assert "extra" in error_of(OidcSettings, **BASE, jwks_uri="https://typo.example").lower()


def test_person_claim_kind() -> None:
    assert (
        OidcSettings.model_validate({**BASE, "person_claim_kind": "sourcedId"}).person_claim_kind
        == "sourcedId"
    )
    error_of(OidcSettings, **BASE, person_claim_kind="username")


def test_limits() -> None:
    error_of(OidcSettings, **BASE, clock_skew_seconds=3600)
    error_of(OidcSettings, **BASE, discovery_timeout_seconds=0)
    error_of(OidcSettings, **BASE, jwks_refresh_seconds=0)


def test_required_claims() -> None:
    settings = OidcSettings.model_validate({**BASE, "required_claims": {"hd": "district.org", "TenantId": 7}})
    assert settings.required_claims == {"hd": ("district.org",), "TenantId": ("7",)}
    error_of(OidcSettings, **BASE, required_claims={"hd": []})
    error_of(OidcSettings, **BASE, required_claims={"hd": [True]})
    assert "set issuer" in error_of(OidcOptions, required_claims={"hd": "district.org"})

"""Fixtures for the sign-in tests: generated keys, a fake identity provider and
verifiers wired to it in process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hub.auth.config import OidcSettings
from hub.auth.jwks import JwksCache
from hub.auth.oidc import OidcVerifier
from tests.auth.idp import AUDIENCE, ISSUER, FakeIdP, KeyPair, ec_key, rsa_key

ROLE_MAP = {
    "Teachers": ["teacher"],
    "Counselors": ["counselor", "teacher"],
    "District Office": ["district_admin"],
}


class FakeClock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def rsa1() -> KeyPair:
    return rsa_key("rsa-2026-01")


@pytest.fixture(scope="session")
def rsa2() -> KeyPair:
    return rsa_key("rsa-2026-07")


@pytest.fixture(scope="session")
def ec1() -> KeyPair:
    return ec_key("ec-2026-01")


@pytest.fixture(scope="session")
def ec384() -> KeyPair:
    return ec_key("ec384-2026-01", "ES384")


@pytest.fixture
def idp(rsa1: KeyPair, ec1: KeyPair) -> FakeIdP:
    return FakeIdP(keys=[rsa1, ec1])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def settings(**overrides: Any) -> OidcSettings:
    values: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "role_map": ROLE_MAP}
    values.update(overrides)
    return OidcSettings.model_validate(values)


MakeVerifier = Callable[..., OidcVerifier]


@pytest.fixture
async def make_verifier(idp: FakeIdP, clock: FakeClock) -> AsyncIterator[MakeVerifier]:
    """Verifiers over ``idp`` (in process) with the fake clock; closed after the test."""
    made: list[OidcVerifier] = []
    client = idp.client()

    def make(**overrides: Any) -> OidcVerifier:
        config = settings(**overrides)
        keys = JwksCache(
            issuer=config.issuer,
            jwks_url=config.jwks_url,
            client=client,
            timeout=config.discovery_timeout_seconds,
            refresh_interval=config.jwks_refresh_seconds,
            max_age=config.jwks_max_age_seconds,
            clock=clock,
        )
        verifier = OidcVerifier(config, keys=keys)
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        await verifier.aclose()
    await client.aclose()


@pytest.fixture
def verifier(make_verifier: MakeVerifier) -> OidcVerifier:
    return make_verifier()

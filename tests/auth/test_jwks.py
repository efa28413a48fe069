"""JwksCache: discovery, caching, rotation, rate-limited refreshes, failures."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from hub.auth import TokenRejected
from hub.auth.jwks import MAX_DOCUMENT_BYTES, IdentityProviderUnavailable, JwksCache, parse_jwks
from tests.auth.conftest import FakeClock, MakeVerifier
from tests.auth.idp import FakeIdP, KeyPair, random_kid, rsa_key


async def reason(verifier_call: object) -> str:
    with pytest.raises(TokenRejected) as caught:
        await verifier_call  # type: ignore[misc]
    return str(caught.value)


# -- where the keys come from ---------------------------------------------------


async def test_discovery_finds_the_jwks(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier()
    await verifier.verify(idp.token())
    await verifier.verify(idp.token())
    assert (idp.discovery_requests, idp.jwks_requests) == (1, 1)


async def test_an_explicit_jwks_url_skips_discovery(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(jwks_url="https://keys.district.test/jwks")
    await verifier.verify(idp.token())
    assert (idp.discovery_requests, idp.jwks_requests) == (0, 1)


async def test_discovery_naming_another_issuer_is_not_trusted(
    idp: FakeIdP, make_verifier: MakeVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    idp.discovery_issuer = "https://elsewhere.example"
    verifier = make_verifier()
    with caplog.at_level(logging.WARNING, logger="homeroom.auth"):
        assert await reason(verifier.verify(idp.token())) == "identity provider unreachable"
    assert idp.jwks_requests == 0
    assert "another issuer" in caplog.text


async def test_a_plain_http_jwks_uri_from_discovery_is_refused(
    idp: FakeIdP, make_verifier: MakeVerifier
) -> None:
    original = idp.discovery

    def insecure(issuer: str) -> dict[str, str]:
        return {**original(issuer), "jwks_uri": "http://keys.example/jwks"}

    idp.discovery = insecure  # type: ignore[method-assign]
    verifier = make_verifier()
    assert await reason(verifier.verify(idp.token())) == "identity provider unreachable"


# -- rotation and the refresh rate limit -----------------------------------------


async def test_a_new_kid_triggers_a_refresh(
    idp: FakeIdP, rsa2: KeyPair, make_verifier: MakeVerifier, clock: FakeClock
) -> None:
    verifier = make_verifier()
    await verifier.verify(idp.token())
    clock.advance(31)  # past the refresh interval
    idp.keys.append(rsa2)  # the provider rotates
    principal = await verifier.verify(idp.token(rsa2))
    assert principal.roles == ("teacher",)
    assert idp.jwks_requests == 2
    assert rsa2.kid in verifier.keys.kids


async def test_old_keys_drop_out_after_rotation(
    idp: FakeIdP, rsa1: KeyPair, rsa2: KeyPair, make_verifier: MakeVerifier, clock: FakeClock
) -> None:
    verifier = make_verifier()
    await verifier.verify(idp.token(rsa1))
    idp.keys = [rsa2]
    clock.advance(31)
    await verifier.verify(idp.token(rsa2))
    assert await reason(verifier.verify(idp.token(rsa1))) == "unknown signing key"


async def test_a_burst_of_unknown_kids_costs_one_fetch(
    idp: FakeIdP, make_verifier: MakeVerifier, clock: FakeClock
) -> None:
    verifier = make_verifier()
    await verifier.verify(idp.token())
    clock.advance(31)
    forger = rsa_key("forger")
    tokens = [idp.token(forger, kid=random_kid()) for _ in range(50)]
    results = await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)
    assert all(isinstance(r, TokenRejected) and str(r) == "unknown signing key" for r in results)
    assert idp.jwks_requests == 2  # the first load and one refresh for the whole burst
    for token in tokens[:10]:  # still within the interval: no more fetches
        assert await reason(verifier.verify(token)) == "unknown signing key"
    assert idp.jwks_requests == 2
    clock.advance(31)
    assert await reason(verifier.verify(tokens[0])) == "unknown signing key"
    assert idp.jwks_requests == 3


async def test_a_rotation_right_after_a_fetch_waits_for_the_interval(
    idp: FakeIdP, rsa2: KeyPair, make_verifier: MakeVerifier, clock: FakeClock
) -> None:
    verifier = make_verifier()
    await verifier.verify(idp.token())
    idp.keys.append(rsa2)
    assert await reason(verifier.verify(idp.token(rsa2))) == "unknown signing key"
    clock.advance(30)
    assert await verifier.verify(idp.token(rsa2))


async def test_concurrent_first_requests_share_one_fetch(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier()
    principals = await asyncio.gather(*(verifier.verify(idp.token()) for _ in range(20)))
    assert len(principals) == 20
    assert (idp.discovery_requests, idp.jwks_requests) == (1, 1)


async def test_keys_are_refetched_when_old(
    idp: FakeIdP, make_verifier: MakeVerifier, clock: FakeClock
) -> None:
    verifier = make_verifier()
    await verifier.verify(idp.token())
    clock.advance(3599)
    await verifier.verify(idp.token())
    assert idp.jwks_requests == 1
    clock.advance(2)
    await verifier.verify(idp.token())
    assert idp.jwks_requests == 2


# -- an unreachable or broken provider -------------------------------------------


async def test_unreachable_at_first_use(idp: FakeIdP, make_verifier: MakeVerifier, clock: FakeClock) -> None:
    idp.down = True
    verifier = make_verifier()
    with pytest.raises(IdentityProviderUnavailable) as caught:
        await verifier.verify(idp.token())
    assert str(caught.value) == "identity provider unreachable"
    assert await reason(verifier.verify(idp.token())) == "identity provider unreachable"
    assert idp.discovery_requests == 0  # connection refused before counting
    idp.down = False
    assert await reason(verifier.verify(idp.token())) == "identity provider unreachable"
    assert idp.discovery_requests == 0  # no retry within the interval
    clock.advance(31)
    assert await verifier.verify(idp.token())  # back


@pytest.mark.parametrize("status", [404, 500, 503])
async def test_error_statuses(idp: FakeIdP, make_verifier: MakeVerifier, status: int) -> None:
    idp.status = status
    assert await reason(make_verifier().verify(idp.token())) == "identity provider unreachable"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        b"[]",
        b'{"keys": []}',
        b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}',
        b"{" + b" " * (MAX_DOCUMENT_BYTES + 1) + b"}",
    ],
    ids=["html", "list", "empty", "only-symmetric", "too-large"],
)
async def test_unusable_key_sets(idp: FakeIdP, make_verifier: MakeVerifier, body: bytes) -> None:
    idp.jwks_body = body
    assert await reason(make_verifier().verify(idp.token())) == "identity provider unreachable"


async def test_a_refresh_failure_keeps_the_known_keys(
    idp: FakeIdP, rsa2: KeyPair, make_verifier: MakeVerifier, clock: FakeClock
) -> None:
    verifier = make_verifier()
    await verifier.verify(idp.token())
    idp.down = True
    clock.advance(3601)  # stale: a refetch is tried and fails
    assert await verifier.verify(idp.token())
    clock.advance(31)
    # A new kid while the provider is down: say so rather than "unknown".
    assert await reason(verifier.verify(idp.token(rsa2))) == "identity provider unreachable"


async def test_timeouts_are_unreachable(make_verifier: MakeVerifier) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
        cache = JwksCache(issuer="https://idp.example", client=client)
        with pytest.raises(IdentityProviderUnavailable):
            await cache.get("any")


async def test_prefetch_loads_the_keys(idp: FakeIdP, make_verifier: MakeVerifier, rsa1: KeyPair) -> None:
    verifier = make_verifier()
    await verifier.prefetch()
    assert rsa1.kid in verifier.keys.kids


# -- parsing ---------------------------------------------------------------------


def test_parse_jwks_skips_what_cannot_verify(rsa1: KeyPair, ec1: KeyPair) -> None:
    private = dict(rsa1.public_jwk(), kid="leaked", d="AAAA")
    document = {
        "keys": [
            rsa1.public_jwk(),
            ec1.public_jwk(with_alg=False),
            dict(rsa1.public_jwk(), kid="enc", use="enc"),
            dict(rsa1.public_jwk(), kid="ops", key_ops=["encrypt"]),
            {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            private,
            "not a key",
        ]
    }
    keys = parse_jwks(document)
    assert set(keys) == {rsa1.kid, ec1.kid}


def test_parse_jwks_rejects_non_sets() -> None:
    documents: list[object] = [{}, {"keys": "x"}, [], {"keys": []}]
    for document in documents:
        with pytest.raises(ValueError):
            parse_jwks(document)

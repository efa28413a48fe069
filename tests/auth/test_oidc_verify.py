"""OidcVerifier: what it accepts, every way it refuses, and the principal it builds."""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.auth import Principal, TokenRejected
from hub.auth.oidc import OidcVerifier, claim_at
from tests.auth.conftest import MakeVerifier, settings
from tests.auth.idp import FakeIdP, KeyPair, hmac_token, raw_token, rsa_key

HAS_PERSON_EMAIL = "person_email" in {f.name for f in dataclasses.fields(Principal)}


async def rejected(verifier: OidcVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        await verifier.verify(token)
    return str(caught.value)


# -- accepted ----------------------------------------------------------------


async def test_a_valid_rs256_token_gives_the_mapped_roles(idp: FakeIdP, verifier: OidcVerifier) -> None:
    principal = await verifier.verify(idp.token(groups=["Counselors", "Teachers", "Book Club"]))
    assert principal.subject == "00u-teacher-1"
    assert principal.roles == ("counselor", "teacher")  # unmapped "Book Club" gives nothing
    assert principal.client == "homeroom-web"
    assert principal.sourced_id is None
    assert principal.person_id is None
    if HAS_PERSON_EMAIL:
        assert principal.person_email == "ms.rivera@district.test"  # type: ignore[attr-defined]


async def test_a_valid_es256_token_is_accepted(idp: FakeIdP, ec1: KeyPair, verifier: OidcVerifier) -> None:
    principal = await verifier.verify(idp.token(ec1))
    assert principal.roles == ("teacher",)


async def test_ps256_is_accepted_when_configured(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    ps = rsa_key("ps-key", "PS256")
    idp.keys.append(ps)
    verifier = make_verifier(algorithms=["PS256"])
    assert (await verifier.verify(idp.token(ps))).roles == ("teacher",)


async def test_expiry_within_the_clock_skew_is_accepted(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    now = int(time.time())
    verifier = make_verifier(clock_skew_seconds=60)
    assert await verifier.verify(idp.token(exp=now - 30, iat=now - 600, nbf=now - 600))


async def test_a_token_without_kid_is_checked_when_the_set_has_one_key(
    rsa1: KeyPair, make_verifier: MakeVerifier, idp: FakeIdP
) -> None:
    idp.keys = [rsa1]
    verifier = make_verifier()
    assert await verifier.verify(idp.token(kid=None))


async def test_a_token_without_kid_is_refused_when_the_set_has_several(
    idp: FakeIdP, verifier: OidcVerifier
) -> None:
    assert await rejected(verifier, idp.token(kid=None)) == "unknown signing key"


async def test_issuer_aliases_are_accepted(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(issuer_aliases=["idp.district.test"])
    assert await verifier.verify(idp.token(iss="idp.district.test"))


# -- refused -----------------------------------------------------------------


async def test_missing_token(verifier: OidcVerifier) -> None:
    assert await rejected(verifier, "") == "missing bearer token"
    assert await rejected(verifier, "   ") == "missing bearer token"


@pytest.mark.parametrize("token", ["abc", "a.b.c", "x" * 20_000, "..."])
async def test_malformed_tokens(verifier: OidcVerifier, token: str) -> None:
    assert await rejected(verifier, token) == "token is malformed"


async def test_bad_signature(idp: FakeIdP, rsa1: KeyPair, verifier: OidcVerifier) -> None:
    impostor = rsa_key(rsa1.kid)  # same kid, another private key
    assert await rejected(verifier, idp.token(impostor)) == "token signature is invalid"


async def test_tampered_claims(idp: FakeIdP, verifier: OidcVerifier) -> None:
    header, _, signature = idp.token().split(".")
    forged = idp.token(groups=["District Office"]).split(".")[1]
    assert await rejected(verifier, f"{header}.{forged}.{signature}") == "token signature is invalid"


async def test_expired(idp: FakeIdP, verifier: OidcVerifier) -> None:
    now = int(time.time())
    token = idp.token(exp=now - 120, iat=now - 900, nbf=now - 900)
    assert await rejected(verifier, token) == "token expired"


async def test_not_yet_valid_nbf(idp: FakeIdP, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, idp.token(nbf=int(time.time()) + 300)) == "token not yet valid"


async def test_not_yet_valid_iat(idp: FakeIdP, verifier: OidcVerifier) -> None:
    token = idp.token(iat=int(time.time()) + 300, nbf=None)
    assert await rejected(verifier, token) == "token not yet valid"


async def test_wrong_issuer(idp: FakeIdP, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, idp.token(iss="https://evil.example")) == "token has the wrong issuer"


async def test_wrong_audience(idp: FakeIdP, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, idp.token(aud="some-other-app")) == "token has the wrong audience"


async def test_alg_none(idp: FakeIdP, rsa1: KeyPair, verifier: OidcVerifier) -> None:
    for alg in ("none", "None", "NONE"):
        token = raw_token({"alg": alg, "kid": rsa1.kid, "typ": "JWT"}, idp.claims())
        assert await rejected(verifier, token) == "token algorithm not allowed"
    assert idp.jwks_requests == 0  # refused before any key is looked up


async def test_hmac_token_signed_with_the_rsa_public_key(
    idp: FakeIdP, rsa1: KeyPair, ec1: KeyPair, verifier: OidcVerifier
) -> None:
    """The classic confusion: HS256 'signed' with the public key the verifier holds."""
    for key in (rsa1, ec1):
        token = hmac_token({"alg": "HS256", "kid": key.kid, "typ": "JWT"}, idp.claims(), key.public_pem())
        assert await rejected(verifier, token) == "token algorithm not allowed"


async def test_hmac_token_against_an_oct_key_in_the_set(idp: FakeIdP, verifier: OidcVerifier) -> None:
    """A symmetric key slipped into the JWKS is never used."""
    idp.extra_jwks.append({"kty": "oct", "kid": "sym", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"})
    token = hmac_token({"alg": "HS256", "kid": "sym"}, idp.claims(), b"secret-secret-secret-secret-secret")
    assert await rejected(verifier, token) == "token algorithm not allowed"
    assert "sym" not in verifier.keys.kids


async def test_an_allowed_algorithm_on_the_wrong_key_type(
    idp: FakeIdP, rsa1: KeyPair, ec1: KeyPair, verifier: OidcVerifier
) -> None:
    """ES256 (allowed) naming an RSA key's kid: the algorithm must fit the key."""
    token = idp.token(ec1, kid=rsa1.kid)
    assert await rejected(verifier, token) == "token algorithm does not match its signing key"


async def test_an_ec_algorithm_on_the_wrong_curve(
    idp: FakeIdP, ec384: KeyPair, ec1: KeyPair, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(algorithms=["ES256", "ES384"])
    token = idp.token(ec384, kid=ec1.kid)  # ES384 naming a P-256 key
    assert await rejected(verifier, token) == "token algorithm does not match its signing key"


async def test_a_key_pinned_to_another_algorithm(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    ps = rsa_key("pinned", "PS256")
    idp.keys.append(ps)
    verifier = make_verifier(algorithms=["RS256", "PS256"])
    token = idp.token(dataclasses.replace(ps, alg="RS256"))  # the JWK says alg PS256
    assert await rejected(verifier, token) == "token algorithm does not match its signing key"


async def test_an_algorithm_outside_the_configured_list(
    idp: FakeIdP, make_verifier: MakeVerifier, ec1: KeyPair
) -> None:
    verifier = make_verifier(algorithms=["RS256"])
    assert await rejected(verifier, idp.token(ec1)) == "token algorithm not allowed"


async def test_unknown_kid(idp: FakeIdP, verifier: OidcVerifier) -> None:
    stranger = rsa_key("not-published")
    assert await rejected(verifier, idp.token(stranger)) == "unknown signing key"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub"])
async def test_required_claims(idp: FakeIdP, verifier: OidcVerifier, claim: str) -> None:
    assert await rejected(verifier, idp.token(**{claim: None})) == f"token lacks the '{claim}' claim"


async def test_reasons_never_echo_the_token(idp: FakeIdP, rsa1: KeyPair, verifier: OidcVerifier) -> None:
    now = int(time.time())
    secret_bits = ["ms.rivera", "00u-teacher-1", "evil.example", "Teachers", "other-app", rsa1.kid]
    tokens = [
        idp.token(iss="https://evil.example"),
        idp.token(aud="other-app"),
        idp.token(exp=now - 500, iat=now - 900, nbf=now - 900),
        idp.token(rsa_key(rsa1.kid)),
        idp.token(groups=["nothing mapped"]),
        idp.token(email_verified=False),
        raw_token({"alg": "none", "kid": rsa1.kid}, idp.claims()),
    ]
    for token in tokens:
        reason = await rejected(verifier, token)
        assert len(reason) < 60
        assert not any(bit.lower() in reason.lower() for bit in secret_bits), reason


# -- roles -------------------------------------------------------------------


async def test_no_mapped_group_means_no_sign_in(idp: FakeIdP, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, idp.token(groups=["Book Club"])) == "token grants no Homeroom role"
    assert await rejected(verifier, idp.token(groups=None)) == "token grants no Homeroom role"


async def test_a_dotted_roles_claim(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(roles_claim="realm_access.roles", role_map={"hr-staff": ["teacher"]})
    token = idp.token(groups=None, realm_access={"roles": ["offline_access", "hr-staff"]})
    assert (await verifier.verify(token)).roles == ("teacher",)


async def test_a_claim_name_with_dots_is_read_whole(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(
        roles_claim="https://district.test/roles", role_map={"admin": ["district_admin"]}
    )
    namespaced: dict[str, Any] = {"https://district.test/roles": ["admin"]}
    token = idp.token(groups=None, **namespaced)
    assert (await verifier.verify(token)).roles == ("district_admin",)


async def test_a_single_string_roles_claim(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    """Clever's user_type is one string."""
    verifier = make_verifier(
        roles_claim="user_type", role_map={"teacher": ["teacher"], "student": ["student"]}
    )
    assert (await verifier.verify(idp.token(groups=None, user_type="student"))).roles == ("student",)


def test_claim_at() -> None:
    claims = {"a": {"b": {"c": 1}}, "x.y": 2}
    assert claim_at(claims, "a.b.c") == 1
    assert claim_at(claims, "x.y") == 2
    assert claim_at(claims, "a.z") is None
    assert claim_at(claims, "a.b.c.d") is None


# -- persons -----------------------------------------------------------------


async def test_a_sourced_id_person_claim(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(person_claim="sourcedId", person_claim_kind="sourcedId")
    principal = await verifier.verify(idp.token(sourcedId="t-00042"))
    assert principal.sourced_id == "t-00042"


async def test_a_nested_person_claim(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(person_claim="ext.oneroster_id", person_claim_kind="sourcedId")
    principal = await verifier.verify(idp.token(ext={"oneroster_id": "s-7"}))
    assert principal.sourced_id == "s-7"


async def test_an_unverified_email_is_refused(idp: FakeIdP, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, idp.token(email_verified=False)) == "token email is not verified"
    assert await verifier.verify(idp.token(email_verified=True))


async def test_unverified_email_allowed_when_configured(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    """Clever sends email_verified=false unless asked otherwise."""
    verifier = make_verifier(require_verified_email=False)
    assert await verifier.verify(idp.token(email_verified=False))


# -- service clients ---------------------------------------------------------


async def test_a_service_client_gets_its_configured_roles(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(client_roles={"dashboard-backend": ["district_reporting"]})
    token = idp.token(sub="svc-7f3a", azp="dashboard-backend", email=None, groups=None)
    principal = await verifier.verify(token)
    assert principal.roles == ("district_reporting",)
    assert principal.client == "dashboard-backend"
    assert principal.sourced_id is None


@pytest.mark.parametrize("claim", ["client_id", "appid", "cid"])
async def test_service_client_id_claims(idp: FakeIdP, make_verifier: MakeVerifier, claim: str) -> None:
    verifier = make_verifier(client_roles={"dashboard-backend": ["district_reporting"]})
    client: dict[str, Any] = {claim: "dashboard-backend"}
    token = idp.token(sub="svc", azp=None, email=None, groups=None, **client)
    assert (await verifier.verify(token)).roles == ("district_reporting",)


async def test_a_client_that_is_its_own_subject(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    """Okta-style client credentials: sub == client id, even with other claims."""
    verifier = make_verifier(client_roles={"0oa-dash": ["district_reporting"]})
    token = idp.token(sub="0oa-dash", azp=None, client_id="0oa-dash", groups=None)
    assert (await verifier.verify(token)).roles == ("district_reporting",)


async def test_a_person_signing_in_through_a_service_client_gets_no_client_roles(
    idp: FakeIdP, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(client_roles={"dashboard": ["district_reporting"]})
    principal = await verifier.verify(idp.token(azp="dashboard"))  # has an email: a person
    assert principal.roles == ("teacher",)
    token = idp.token(azp="dashboard", groups=None)
    assert await rejected(verifier, token) == "token grants no Homeroom role"


async def test_an_unlisted_client_without_a_person_gets_nothing(
    idp: FakeIdP, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(client_roles={"dashboard": ["district_reporting"]})
    token = idp.token(azp="someone-else", email=None, groups=None)
    assert await rejected(verifier, token) == "token grants no Homeroom role"


# -- pinning a shared provider to this district ---------------------------------


async def test_required_claims_pin_the_district(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(required_claims={"district": "5f1b", "ext.tenant": ["t1", "t2"]})
    assert await verifier.verify(idp.token(district="5f1b", ext={"tenant": "t2"}))
    for token in (
        idp.token(district="9999", ext={"tenant": "t2"}),
        idp.token(ext={"tenant": "t2"}),
        idp.token(district="5f1b", ext={"tenant": ["t3"]}),
        idp.token(district=["5f1b"], ext={"tenant": 1}),
    ):
        assert await rejected(verifier, token) == "token is not for this district"


async def test_a_numeric_required_claim(idp: FakeIdP, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(required_claims={"TenantId": 2212})
    assert await verifier.verify(idp.token(TenantId=2212))
    assert await rejected(verifier, idp.token(TenantId=2213)) == "token is not for this district"


async def test_a_weak_rsa_key_is_not_accepted() -> None:
    weak = KeyPair("weak-1024", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=1024))
    weak_idp = FakeIdP(keys=[weak])
    async with weak_idp.client() as client:
        verifier = OidcVerifier(settings(), client=client)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyJWT warns when signing with a short key
            token = weak_idp.token()
        assert await rejected(verifier, token) == "signing key not accepted"

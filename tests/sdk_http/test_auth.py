"""Auth helpers: OAuth 2 client credentials (cache, renewal, one retry on 401),
Ed-Fi's Basic key:secret token request, OAuth 1.0a signatures and bearer tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, unquote
from urllib.request import parse_http_list, parse_keqv_list

import httpx
import pytest
import respx
from authlib.oauth1.rfc5849.signature import construct_base_string

from hub.sdk import BadVendorData, SourceAuthFailed, SourceUnavailable
from hub.sdk.http import BasicTokenAuth, OAuth1Signer, OAuth2ClientCredentials, VendorClient

from .conftest import BASE, FakeTime, make_config

TOKEN_URL = "https://auth.example/oauth/token"
DATA_URL = f"{BASE}/users"


def token_answers(*tokens: str, expires_in: int | None = 3600) -> list[httpx.Response]:
    extra = {"expires_in": expires_in} if expires_in is not None else {}
    return [httpx.Response(200, json={"access_token": t, "token_type": "bearer", **extra}) for t in tokens]


def oauth2(**kwargs: object) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(TOKEN_URL, "client-1", "s3cret", hint="check SIS_CLIENT_SECRET", **kwargs)  # type: ignore[arg-type]


async def test_one_token_serves_many_requests_and_is_sent_as_bearer(fake_time: FakeTime) -> None:
    auth = oauth2()
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            token_route = respx.post(TOKEN_URL).mock(side_effect=token_answers("tok-1"))
            data_route = respx.get(DATA_URL).respond(json={})
            for _ in range(3):
                await client.get_json("users")
    assert token_route.call_count == 1
    request = token_route.calls.last.request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"client-1:s3cret").decode()
    assert dict(parse_qsl(request.content.decode())) == {"grant_type": "client_credentials"}
    assert {call.request.headers["Authorization"] for call in data_route.calls} == {"Bearer tok-1"}


async def test_the_secret_can_go_in_the_form_and_a_scope_is_asked(fake_time: FakeTime) -> None:
    auth = oauth2(auth_method="client_secret_post", scope="roster.readonly")
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            token_route = respx.post(TOKEN_URL).mock(side_effect=token_answers("tok-1"))
            respx.get(DATA_URL).respond(json={})
            await client.get_json("users")
    form = dict(parse_qsl(token_route.calls.last.request.content.decode()))
    assert form["client_id"] == "client-1" and form["client_secret"] == "s3cret"
    assert form["scope"] == "roster.readonly"
    assert "Authorization" not in token_route.calls.last.request.headers


async def test_the_token_is_renewed_before_it_expires(fake_time: FakeTime) -> None:
    auth = oauth2(leeway=60)
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            token_route = respx.post(TOKEN_URL).mock(
                side_effect=token_answers("tok-1", "tok-2", expires_in=600)
            )
            data_route = respx.get(DATA_URL).respond(json={})
            await client.get_json("users")
            fake_time.advance(539)  # 61 s left: still used
            await client.get_json("users")
            fake_time.advance(2)  # 59 s left: inside the leeway, renewed first
            await client.get_json("users")
    assert token_route.call_count == 2
    assert [call.request.headers["Authorization"] for call in data_route.calls] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


async def test_a_401_renews_the_token_once_and_retries(fake_time: FakeTime) -> None:
    auth = oauth2()
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            token_route = respx.post(TOKEN_URL).mock(side_effect=token_answers("revoked", "fresh", "fresher"))
            data_route = respx.get(DATA_URL).mock(
                side_effect=[httpx.Response(401), httpx.Response(200, json={"ok": 1})]
            )
            payload, _ = await client.get_json("users")
            assert payload == {"ok": 1}
            assert token_route.call_count == 2
            assert [c.request.headers["Authorization"] for c in data_route.calls] == [
                "Bearer revoked",
                "Bearer fresh",
            ]

            data_route.mock(side_effect=[httpx.Response(401), httpx.Response(401)])
            with pytest.raises(SourceAuthFailed, match=r"answered 401.*check SIS_CLIENT_SECRET"):
                await client.get_json("users")
            assert token_route.call_count == 3  # one renewal per request, not a loop


async def test_concurrent_requests_share_one_token_request(fake_time: FakeTime) -> None:
    async def slow_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return token_answers("tok-1")[0]

    auth = oauth2()
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            token_route = respx.post(TOKEN_URL).mock(side_effect=slow_token)
            respx.get(DATA_URL).respond(json={})
            await asyncio.gather(*(client.get_json("users") for _ in range(4)))
    assert token_route.call_count == 1


async def test_a_refused_client_is_an_auth_failure_naming_what_to_check(fake_time: FakeTime) -> None:
    auth = oauth2()
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            respx.post(TOKEN_URL).respond(401, json={"error": "invalid_client"})
            data_route = respx.get(DATA_URL).respond(json={})
            with pytest.raises(SourceAuthFailed) as caught:
                await client.get_json("users")
    assert (
        caught.value.reason == "token endpoint refused the client (invalid_client); check SIS_CLIENT_SECRET"
    )
    assert "s3cret" not in str(caught.value)
    assert not data_route.called


async def test_a_token_endpoint_outage_is_retried_then_unavailable(fake_time: FakeTime) -> None:
    auth = oauth2()
    async with VendorClient(make_config(retries=2), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            token_route = respx.post(TOKEN_URL).mock(
                side_effect=[httpx.Response(503), *token_answers("tok-1")]
            )
            respx.get(DATA_URL).respond(json={})
            await client.get_json("users")
            assert token_route.call_count == 2
            auth._access_token = None
            token_route.mock(side_effect=httpx.ConnectError("down"))
            with pytest.raises(SourceUnavailable, match="token endpoint unreachable"):
                await client.get_json("users")


async def test_a_token_answer_without_a_token_is_bad_vendor_data(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(), oauth2(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.post(TOKEN_URL).respond(200, json={"token_type": "bearer"})
            with pytest.raises(BadVendorData, match="without an access_token"):
                await client.get_json("users")


async def test_ed_fi_basic_key_secret_token_request(fake_time: FakeTime) -> None:
    auth = BasicTokenAuth("https://edfi.example/oauth/token", "key", "secret")
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            token_route = respx.post("https://edfi.example/oauth/token").mock(side_effect=token_answers("e1"))
            data_route = respx.get(DATA_URL).respond(json={})
            await client.get_json("users")
    request = token_route.calls.last.request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"key:secret").decode()
    assert dict(parse_qsl(request.content.decode())) == {"grant_type": "client_credentials"}
    assert data_route.calls.last.request.headers["Authorization"] == "Bearer e1"


@pytest.mark.parametrize(("method", "digest"), [("HMAC-SHA1", hashlib.sha1), ("HMAC-SHA256", hashlib.sha256)])
async def test_oauth1_signatures_verify(fake_time: FakeTime, method: str, digest: object) -> None:
    auth = OAuth1Signer("consumer", "consumer-secret", signature_method=method)  # type: ignore[arg-type]
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(DATA_URL).respond(json={})
            await client.get_json("users", {"filter": "role='teacher'", "limit": 10})
            await client.get_json("users", {"filter": "role='teacher'", "limit": 10})
    first, second = (call.request for call in route.calls)
    scheme, _, value = first.headers["Authorization"].partition(" ")
    params = {k: unquote(v) for k, v in parse_keqv_list(parse_http_list(value)).items()}
    assert scheme == "OAuth" and params["oauth_signature_method"] == method
    assert params["oauth_consumer_key"] == "consumer" and "oauth_token" not in params
    signature = params.pop("oauth_signature")
    query = list(first.url.params.multi_items())
    base_string = construct_base_string(
        "GET", str(first.url.copy_with(query=None)), query + list(params.items())
    )
    expected = hmac.new(b"consumer-secret&", base_string.encode(), digest).digest()  # type: ignore[arg-type]
    assert signature == base64.b64encode(expected).decode()
    assert first.headers["Authorization"] != second.headers["Authorization"]  # fresh nonce per request


def test_auth_helpers_hide_their_secrets() -> None:
    assert "s3cret" not in repr(oauth2())
    assert "consumer-secret" not in repr(OAuth1Signer("consumer", "consumer-secret"))
    with pytest.raises(ValueError):
        OAuth1Signer("consumer", "secret", signature_method="RSA-SHA1")  # type: ignore[arg-type]

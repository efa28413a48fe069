"""The HTTP edge: the hub answers only its own host names (DNS rebinding),
CORS only for configured origins, and the demo page hands out persona tokens
only to the demo's own origin (issue #9, finding 5)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.auth import DevSigner
from hub.demo import DEMO_HOST, PreparedDemo, prepare_demo
from hub.settings import SettingsError, load_settings
from hub.testing.server import free_port, serving
from tests.hardening.edge_hubs import edge_hub
from tests.support import make_district

VIEWER = {"query": "{ viewer { subject } }"}
DASHBOARD = "https://dashboard.district.org"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 50)


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


# -- Host allow-list -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PreparedDemo, str]]:
    """``homeroom demo``'s app served on its loopback port, as the command does."""
    port = free_port()
    signer = DevSigner(secrets.token_bytes(32), issuer="homeroom-demo")
    data_dir = tmp_path_factory.mktemp("demo") / "district"
    prepared = asyncio.run(
        prepare_demo(data_dir, students=50, seed=7, signer=signer, sources="csv", port=port)
    )
    try:
        with serving(prepared.app, port=port) as base_url:
            yield prepared, base_url
    finally:
        prepared.close()


def test_a_request_for_another_host_is_refused(demo: tuple[PreparedDemo, str]) -> None:
    prepared, base_url = demo
    token = prepared.tokens["district_admin"]["token"]
    port = base_url.rsplit(":", 1)[1]
    # evil.example resolving to 127.0.0.1 (DNS rebinding) sends its own name as Host.
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example"):
        page = httpx.get(f"{base_url}/graphql", headers={"Host": host}, timeout=10)
        assert page.status_code == 400
        assert _code(page) == "BAD_HOST"
        assert token not in page.text
        answer = httpx.post(
            f"{base_url}/graphql",
            json=VIEWER,
            headers={"Host": host, "Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 400
        assert _code(answer) == "BAD_HOST"
        assert "viewer" not in answer.text
        assert host not in answer.text  # the caller's text is not echoed
    assert httpx.get(f"{base_url}/healthz", headers={"Host": "evil.example"}, timeout=10).status_code == 400


def test_the_loopback_names_are_answered(demo: tuple[PreparedDemo, str]) -> None:
    prepared, base_url = demo
    token = prepared.tokens["teacher"]["token"]
    port = base_url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        answer = httpx.post(
            f"{base_url}/graphql",
            json=VIEWER,
            headers={"Host": host, "Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 200, (host, answer.text)
        assert answer.json()["data"]["viewer"]["subject"]


# -- the demo's persona switcher -------------------------------------------------


def _page(base_url: str, **headers: str) -> str:
    response = httpx.get(f"{base_url}/graphql", headers={"Accept": "text/html", **headers}, timeout=10)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    return response.text


def test_the_demo_page_carries_the_personas_on_its_own_origin(demo: tuple[PreparedDemo, str]) -> None:
    prepared, base_url = demo
    port = base_url.rsplit(":", 1)[1]
    assert base_url == f"http://{DEMO_HOST}:{port}"
    for headers in (
        {},
        {"Host": f"localhost:{port}"},
        {"Sec-Fetch-Site": "none"},
        {"Sec-Fetch-Site": "same-origin"},
    ):
        page = _page(base_url, **headers)
        for name, entry in prepared.tokens.items():
            assert f'<option value="{name}">' in page, headers
            assert entry["token"] in page, headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Host": "127.0.0.1"},  # an allowed name, but not the demo's port
        {"Host": "127.0.0.1:1"},
        {"Host": "[::1]:{port}"},  # answered, yet not the address the demo binds
    ],
)
def test_the_demo_page_has_no_personas_for_anyone_else(
    demo: tuple[PreparedDemo, str], headers: dict[str, str]
) -> None:
    prepared, base_url = demo
    port = base_url.rsplit(":", 1)[1]
    page = _page(base_url, **{k: v.format(port=port) for k, v in headers.items()})
    assert 'id="token"' in page  # the token box is still there
    assert "const personas = {};" in page
    for entry in prepared.tokens.values():
        assert entry["token"] not in page


async def test_serve_never_embeds_tokens(district: Path) -> None:
    async with edge_hub(district) as (client, _):
        page = await client.get("/graphql", headers={"Sec-Fetch-Site": "none"})
    assert page.status_code == 200
    assert "const personas = {};" in page.text


# -- CORS ------------------------------------------------------------------------


def _preflight(
    origin: str, method: str = "POST", headers: str = "authorization,content-type"
) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


async def test_no_cors_headers_by_default(district: Path) -> None:
    async with edge_hub(district) as (client, token):
        answer = await client.post(
            "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {token}", "Origin": DASHBOARD}
        )
        preflight = await client.options("/graphql", headers=_preflight(DASHBOARD))
    assert answer.status_code == 200
    assert not [h for h in answer.headers if h.startswith("access-control-")]
    assert preflight.status_code == 405
    assert not [h for h in preflight.headers if h.startswith("access-control-")]


async def test_cors_only_for_the_configured_origins(district: Path) -> None:
    async with edge_hub(district, cors_origins=[DASHBOARD + ":443"]) as (client, token):
        allowed = await client.options(
            "/graphql", headers=_preflight(DASHBOARD, headers="authorization,content-type,homeroom-purpose")
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == DASHBOARD
        assert set(allowed.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
        assert "access-control-allow-credentials" not in allowed.headers
        for refused in (
            _preflight("https://evil.example"),
            _preflight(DASHBOARD, method="DELETE"),
            _preflight(DASHBOARD, headers="authorization,x-forwarded-user"),
        ):
            answer = await client.options("/graphql", headers=refused)
            assert answer.status_code == 400
            assert answer.headers.get("access-control-allow-origin") != "https://evil.example"
        bearer = {"Authorization": f"Bearer {token}"}
        mine = await client.post("/graphql", json=VIEWER, headers={**bearer, "Origin": DASHBOARD})
        assert mine.headers["access-control-allow-origin"] == DASHBOARD
        theirs = await client.post(
            "/graphql", json=VIEWER, headers={**bearer, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in theirs.headers


# -- settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "words"),
    [
        ({"allowed_hosts": []}, "at least one host name"),
        ({"allowed_hosts": ["*"]}, "DNS rebinding"),
        ({"allowed_hosts": ["hub.district.org:8000"]}, "without scheme, port or path"),
        ({"allowed_hosts": ["https://hub.district.org"]}, "without scheme, port or path"),
        ({"cors_origins": ["*"]}, "is not an origin"),
        ({"cors_origins": ["https://dashboard.district.org/"]}, "trailing slash"),
        ({"cors_origins": ["dashboard.district.org"]}, "is not an origin"),
        ({"cors_origins": ["https://*.district.org"]}, "is not an origin"),
    ],
)
def test_bad_host_and_origin_settings_are_refused(server: dict[str, Any], words: str) -> None:
    with pytest.raises(SettingsError, match="server") as refused:
        load_settings(None, server=server)
    assert words in str(refused.value)


def test_host_and_origin_settings_are_normalised() -> None:
    server = load_settings(
        None,
        server={
            "allowed_hosts": ["Hub.District.ORG", "[::1]", "*.district.org", "10.0.0.5"],
            "cors_origins": ["HTTPS://Dashboard.District.org:443", "http://localhost:3000"],
        },
    ).server
    assert server.allowed_hosts == ("hub.district.org", "::1", "*.district.org", "10.0.0.5")
    assert server.cors_origins == (DASHBOARD, "http://localhost:3000")


async def test_a_district_host_name_is_answered_once_listed(district: Path) -> None:
    async with edge_hub(district, allowed_hosts=["hub.district.org"]) as (client, token):
        bearer = {"Authorization": f"Bearer {token}"}
        listed = await client.post("/graphql", json=VIEWER, headers={**bearer, "Host": "hub.district.org"})
        loopback = await client.post("/graphql", json=VIEWER, headers=bearer)  # Host: localhost
    assert listed.status_code == 200
    assert loopback.status_code == 400
    assert _code(loopback) == "BAD_HOST"

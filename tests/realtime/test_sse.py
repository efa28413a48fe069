"""Subscriptions over Server-Sent Events, end to end over real HTTP (uvicorn on loopback):
the same policy, audit and limits as over WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.federation.ids import decode_id
from tests.mirror.conftest import fast_switching, simulator_credentials  # noqa: F401
from tests.realtime.test_subscriptions import LiveHub, _a_score_of, _change_score, district, folder, live_hub

pytestmark = pytest.mark.usefixtures("simulator_credentials", "fast_switching")
__all__ = ["district", "folder"]  # the shared fixtures, found by pytest here

STREAM = {"Accept": "text/event-stream"}


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """Each (event, data) of an SSE response; comments (keepalives) skipped."""
    kind, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            kind = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data = line.partition(":")[2].strip()
        elif line == "" and kind:
            yield kind, json.loads(data) if data else None
            kind, data = "", ""


def _http(live: LiveHub) -> str:
    return live.url.replace("ws://", "http://")


async def test_a_teacher_gets_a_changed_score_over_sse_audited_and_leaving_frees_it(
    folder: Path, tmp_path: Path
) -> None:
    async with live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live:
        score_id, student_id = await _a_score_of(live, "teacher")
        decoded = decode_id(score_id)
        assert decoded is not None and live.hub.audit is not None
        before = len(await live.hub.audit.events_for(student_id))
        headers = {**STREAM, "Authorization": f"Bearer {live.token('teacher')}"}
        body = {"query": "subscription { scoreChanged { id score } }"}
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream("POST", _http(live), json=body, headers=headers) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response)
            async with asyncio.timeout(10):
                while live.hub.changes.subscribers() < 1:
                    await asyncio.sleep(0.05)
            _change_score(folder, decoded.vendor_id, "33.5")
            async with asyncio.timeout(20):
                kind, data = await anext(events)
            assert kind == "next"
            assert data == {"data": {"scoreChanged": {"id": score_id, "score": 33.5}}}
        # The client went: the subscription is let go.
        async with asyncio.timeout(10):
            while live.hub.changes.subscribers():
                await asyncio.sleep(0.05)
        delivered = (await live.hub.audit.events_for(student_id))[before:]
        assert [e.subject for e in delivered] == [f"demo:teacher:{live.personas['teacher'].sourced_id}"]


async def test_sse_refuses_a_bad_token_and_a_denied_field_and_streams_only_subscriptions(
    folder: Path, tmp_path: Path
) -> None:
    async with (
        live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live,
        httpx.AsyncClient() as client,
    ):
        body = {"query": "subscription { scoreChanged { id } }"}
        refused = await client.post(
            _http(live), json=body, headers={**STREAM, "Authorization": "Bearer nope"}
        )
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        teacher = {**STREAM, "Authorization": f"Bearer {live.token('teacher')}"}
        for query, code in (
            ("subscription { scoreChanged { id student { birthDate } } }", "FORBIDDEN"),
            ("query { viewer { sections { edges { node { id } } } } }", None),
        ):
            async with client.stream("POST", _http(live), json={"query": query}, headers=teacher) as response:
                assert response.status_code == 200
                got = [event async for event in _events(response)]
            (kind, data), (end, _) = got
            assert (kind, end) == ("next", "complete"), got
            assert data["data"] is None and data["errors"], got
            if code is not None:
                assert data["errors"][0]["extensions"]["code"] == code, got
        assert live.hub.changes.subscribers() == 0


async def test_the_stream_ends_when_the_token_expires(folder: Path, tmp_path: Path) -> None:
    async with (
        live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live,
        httpx.AsyncClient(timeout=20) as client,
    ):
        token = live.short_token("teacher", 2)
        headers = {**STREAM, "Authorization": f"Bearer {token}"}
        body = {"query": "subscription { scoreChanged { id } }"}
        async with client.stream("POST", _http(live), json=body, headers=headers) as response:
            got = [event async for event in _events(response)]
        (kind, data), (end, _) = got
        assert (kind, end) == ("next", "complete"), got
        assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        async with asyncio.timeout(5):
            while live.hub.changes.subscribers():
                await asyncio.sleep(0.05)

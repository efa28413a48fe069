"""Subscriptions end to end over a real WebSocket (uvicorn on loopback): a hub
mirroring a OneRoster REST simulator pushes a score changed in the
simulator's files to the teacher who may see it, audited; a bad token closes
the socket with 4401; a selection the policy refuses is refused at the start."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from adapters.oneroster_rest.simulator import create_simulator
from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.federation.ids import decode_id
from hub.personas import Persona, pick_personas
from hub.runtime import Hub
from hub.settings import load_settings
from hub.store import upgrade
from hub.testing.server import free_port, serving
from tests.csv_files import rewrite_csv
from tests.mirror.conftest import fast_switching, simulator_credentials  # noqa: F401
from tests.mirror.hubs import rest_table, until_ready
from tests.support import TODAY, make_district

pytestmark = pytest.mark.usefixtures("simulator_credentials", "fast_switching")

PROTOCOL = "graphql-transport-ws"
SCORES = """query { viewer { sections { edges { node { id students { edges { node { id
  scores(first: 3) { edges { node { id score } } } } } } } } } } }"""


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("realtime"), 60)


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "district"
    shutil.copytree(district, copy)
    return copy


class LiveHub:
    """A hub served by uvicorn on loopback in this test's event loop."""

    def __init__(self, hub: Hub, signer: DevSigner, url: str, personas: dict[str, Persona]) -> None:
        self.hub, self.signer, self.url, self.personas = hub, signer, url, personas

    def token(self, persona: str) -> str:
        return self.personas[persona].token(self.signer)

    def short_token(self, persona: str, seconds: int) -> str:
        """A token of ``persona`` that expires in ``seconds``."""
        who = self.personas[persona]
        return self.signer.issue(
            subject=f"demo:{persona}",
            roles=list(who.roles),
            person_id=who.person_id,
            sourced_id=who.sourced_id,
            ttl_seconds=seconds,
        )

    @asynccontextmanager
    async def socket(self, token: str | None) -> AsyncIterator[ClientConnection]:
        async with connect(self.url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            payload = {} if token is None else {"Authorization": f"Bearer {token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            yield ws


@asynccontextmanager
async def live_hub(folder: Path, store_url: str, **table_keys: Any) -> AsyncIterator[LiveHub]:
    with serving(create_simulator(folder)) as base_url:
        table = rest_table(base_url, mirror_gradebook_seconds=1, **table_keys)
        signer = DevSigner(secrets.token_bytes(32))
        settings = load_settings(None, sources=(table,), store={"url": store_url})
        await upgrade(store_url)
        hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
        app = create_app(hub, watch_policy=False, store_url=store_url)
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(60):
                while not server.started:
                    await asyncio.sleep(0.02)
            await until_ready(hub)
            personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
            yield LiveHub(hub, signer, f"ws://127.0.0.1:{port}/graphql", personas)
        finally:
            server.should_exit = True
            await task


async def _message(ws: ClientConnection, timeout: float = 20.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        message: dict[str, Any] = json.loads(await ws.recv())
        return message


async def _ack(ws: ClientConnection) -> None:
    assert (await _message(ws))["type"] == "connection_ack"


async def _subscribe(ws: ClientConnection, query: str, operation_id: str = "1") -> None:
    await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}}))


def _change_score(folder: Path, vendor_id: str, score: str) -> None:
    def change(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        (row,) = [row for row in rows if row["sourcedId"] == vendor_id]
        row["score"] = score
        return rows

    rewrite_csv(folder / "results.csv", change)


async def _a_score_of(live: LiveHub, persona: str) -> tuple[str, str]:
    """(hub id of a score the persona sees, the hub id of its student), over HTTP."""
    base = live.url.replace("ws://", "http://")
    async with httpx.AsyncClient() as client:
        body = (
            await client.post(
                base, json={"query": SCORES}, headers={"Authorization": f"Bearer {live.token(persona)}"}
            )
        ).json()
    for section in body["data"]["viewer"]["sections"]["edges"]:
        for student in section["node"]["students"]["edges"]:
            for score in student["node"]["scores"]["edges"]:
                return score["node"]["id"], student["node"]["id"]
    raise AssertionError("the persona sees no score")


async def test_a_teacher_gets_the_score_changed_in_her_class_audited(folder: Path, tmp_path: Path) -> None:
    async with live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live:
        score_id, student_id = await _a_score_of(live, "teacher")
        decoded = decode_id(score_id)
        assert decoded is not None
        assert live.hub.audit is not None
        before = len(await live.hub.audit.events_for(student_id))
        async with live.socket(live.token("teacher")) as teacher, live.socket(live.token("student")) as other:
            await _ack(teacher)
            await _ack(other)
            await _subscribe(teacher, "subscription { scoreChanged { id score student { id } } }")
            await _subscribe(other, "subscription { scoreChanged { id score } }")
            await asyncio.sleep(0.5)  # both subscribed before the change
            _change_score(folder, decoded.vendor_id, "12.5")
            message = await _message(teacher)
            assert message["type"] == "next", message
            assert message["payload"].get("data"), message
            event = message["payload"]["data"]["scoreChanged"]
            assert event == {"id": score_id, "score": 12.5, "student": {"id": student_id}}
            # The persona student is in another class here: nothing reaches them.
            if live.personas["student"].person_id != student_id:
                with pytest.raises(TimeoutError):
                    await _message(other, timeout=2.0)
        # Audited before it left: the student's record names the teacher's reading of the score.
        delivered = (await live.hub.audit.events_for(student_id))[before:]
        teacher_subject = f"demo:teacher:{live.personas['teacher'].sourced_id}"
        assert [(e.subject, "score" in e.fields.get("Score", ())) for e in delivered] == [
            (teacher_subject, True)
        ], [(e.subject, e.fields) for e in delivered]


async def test_a_bad_or_missing_token_closes_the_socket_with_4401(folder: Path, tmp_path: Path) -> None:
    async with live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live:
        for token in (None, "not-a-token"):
            async with live.socket(token) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await _message(ws)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_denied_field_is_refused_at_the_start(folder: Path, tmp_path: Path) -> None:
    store = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    async with live_hub(folder, store) as live, live.socket(live.token("teacher")) as ws:
        await _ack(ws)
        # The default policy never lets a teacher read a birth date.
        await _subscribe(ws, "subscription { scoreChanged { student { birthDate } } }")
        message = await _message(ws)
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        assert live.hub.changes.subscribers() == 0


GUARDIAN_SCORES = """query { viewer { students { edges { node { id
  scores(first: 3) { edges { node { id } } } } } } } }"""


async def test_a_guardian_gets_only_their_childs_scores_and_a_closed_socket_frees_its_feed(
    folder: Path, tmp_path: Path
) -> None:
    async with live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live:
        base = live.url.replace("ws://", "http://")
        async with httpx.AsyncClient() as client:
            body = (
                await client.post(
                    base,
                    json={"query": GUARDIAN_SCORES},
                    headers={"Authorization": f"Bearer {live.token('guardian')}"},
                )
            ).json()
        children = {edge["node"]["id"] for edge in body["data"]["viewer"]["students"]["edges"]}
        own = next(
            score["node"]["id"]
            for edge in body["data"]["viewer"]["students"]["edges"]
            for score in edge["node"]["scores"]["edges"]
        )
        other_score, other_student = await _a_score_of(live, "teacher")
        assert other_student not in children, "the teacher's first student must not be the child"
        async with live.socket(live.token("guardian")) as guardian:
            await _ack(guardian)
            await _subscribe(guardian, "subscription { scoreChanged { id student { id } } }")
            await asyncio.sleep(0.5)
            assert live.hub.changes.subscribers() == 1
            for hub_id, score in ((other_score, "3.5"), (own, "7.5")):
                decoded = decode_id(hub_id)
                assert decoded is not None
                _change_score(folder, decoded.vendor_id, score)
            message = await _message(guardian)
            # Only the child's score arrives (the other student's changed first).
            assert message["payload"]["data"]["scoreChanged"]["id"] == own
            assert message["payload"]["data"]["scoreChanged"]["student"]["id"] in children
        async with asyncio.timeout(5):
            while live.hub.changes.subscribers():
                await asyncio.sleep(0.05)


async def test_the_socket_closes_when_the_token_expires(folder: Path, tmp_path: Path) -> None:
    async with live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live:
        token = live.short_token("teacher", 2)
        async with live.socket(token) as ws:
            await _ack(ws)
            await _subscribe(ws, "subscription { scoreChanged { id } }")
            with pytest.raises(ConnectionClosed) as closed:
                await _message(ws, timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        async with asyncio.timeout(5):
            while live.hub.changes.subscribers():
                await asyncio.sleep(0.05)


async def test_a_caller_may_hold_a_bounded_number_of_subscriptions(folder: Path, tmp_path: Path) -> None:
    from hub.realtime.socket import MAX_SUBSCRIPTIONS_PER_CALLER, MAX_SUBSCRIPTIONS_PER_SOCKET

    async with live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live:
        token = live.token("teacher")
        sockets = MAX_SUBSCRIPTIONS_PER_CALLER // MAX_SUBSCRIPTIONS_PER_SOCKET
        async with contextlib.AsyncExitStack() as stack:
            opened = [await stack.enter_async_context(live.socket(token)) for _ in range(sockets + 1)]
            for ws in opened:
                await _ack(ws)
            for ws in opened[:sockets]:
                for n in range(MAX_SUBSCRIPTIONS_PER_SOCKET):
                    await _subscribe(ws, "subscription { scoreChanged { id } }", str(n))
            async with asyncio.timeout(10):
                while live.hub.changes.subscribers() < MAX_SUBSCRIPTIONS_PER_CALLER:
                    await asyncio.sleep(0.05)
            await _subscribe(opened[-1], "subscription { scoreChanged { id } }")
            refused = await _message(opened[-1])
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
            # Another caller is not held to this one's count.
            other = await stack.enter_async_context(live.socket(live.token("guardian")))
            await _ack(other)
            await _subscribe(other, "subscription { scoreChanged { id } }")
            async with asyncio.timeout(10):
                while live.hub.changes.subscribers() <= MAX_SUBSCRIPTIONS_PER_CALLER:
                    await asyncio.sleep(0.05)


async def test_a_caller_starting_subscriptions_too_fast_is_slowed_with_a_clear_error(
    folder: Path, tmp_path: Path
) -> None:
    from hub.realtime.socket import MAX_SUBSCRIPTIONS_PER_SOCKET, STARTS_BURST

    async with (
        live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live,
        live.socket(live.token("teacher")) as ws,
    ):
        await _ack(ws)
        started = 0
        while started < STARTS_BURST:  # opened and closed again: the whole burst spent
            batch = [str(started + n) for n in range(MAX_SUBSCRIPTIONS_PER_SOCKET)]
            for operation in batch:
                await _subscribe(ws, "subscription { scoreChanged { id } }", operation)
            async with asyncio.timeout(10):
                while live.hub.changes.subscribers() < len(batch):
                    await asyncio.sleep(0.02)
            for operation in batch:
                await ws.send(json.dumps({"id": operation, "type": "complete"}))
            async with asyncio.timeout(10):
                while live.hub.changes.subscribers():
                    await asyncio.sleep(0.02)
            started += len(batch)
        await _subscribe(ws, "subscription { scoreChanged { id } }", "fast")
        refused = await _message(ws)
        assert refused["type"] == "error" and refused["id"] == "fast", refused
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert live.hub.changes.subscribers() == 0
        await asyncio.sleep(0.5)  # the bucket refills: starting again works
        await _subscribe(ws, "subscription { scoreChanged { id } }", "later")
        async with asyncio.timeout(10):
            while live.hub.changes.subscribers() < 1:
                await asyncio.sleep(0.02)


SECTION_SCORES = """query { viewer { sections { edges { node { id
  students(first: 5) { edges { node { scores(first: 1) { edges { node { id } } } } } } } } } } }"""


def _end_teaching(folder: Path, teacher: str, section: str) -> None:
    def change(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        (row,) = [r for r in rows if r["userSourcedId"] == teacher and r["classSourcedId"] == section]
        row["status"] = "tobedeleted"
        return rows

    rewrite_csv(folder / "enrollments.csv", change)


async def test_a_teacher_who_no_longer_teaches_a_section_stops_getting_its_scores(
    folder: Path, tmp_path: Path
) -> None:
    store = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    async with live_hub(folder, store, mirror_rosters_seconds=1) as live:
        token = live.token("teacher")
        base = live.url.replace("ws://", "http://")

        async def sections() -> dict[str, str]:
            """Section hub id -> the hub id of one score in it, as the teacher sees them now."""
            async with httpx.AsyncClient() as client:
                body = (
                    await client.post(
                        base, json={"query": SECTION_SCORES}, headers={"Authorization": f"Bearer {token}"}
                    )
                ).json()
            out: dict[str, str] = {}
            for edge in body["data"]["viewer"]["sections"]["edges"]:
                for student in edge["node"]["students"]["edges"]:
                    for score in student["node"]["scores"]["edges"]:
                        out.setdefault(edge["node"]["id"], score["node"]["id"])
            return out

        taught = await sections()
        assert len(taught) >= 2, "the teacher needs two sections with scores"
        (left, left_score), (_, kept_score) = list(taught.items())[:2]
        async with live.socket(token) as ws:
            await _ack(ws)
            await _subscribe(ws, "subscription { scoreChanged { id } }")
            section = decode_id(left)
            assert section is not None and live.personas["teacher"].sourced_id is not None
            _end_teaching(folder, live.personas["teacher"].sourced_id, section.vendor_id)
            async with asyncio.timeout(30):
                while left in await sections():
                    await asyncio.sleep(0.2)
            for hub_id, score in ((left_score, "1.5"), (kept_score, "2.5")):
                decoded = decode_id(hub_id)
                assert decoded is not None
                _change_score(folder, decoded.vendor_id, score)
            message = await _message(ws)
            # Related at delivery time: the section she left no longer reaches her.
            assert message["payload"]["data"]["scoreChanged"]["id"] == kept_score
            with pytest.raises(TimeoutError):
                await _message(ws, timeout=3.0)

"""Mirror writes announced to the hub's other processes (PostgreSQL LISTEN/NOTIFY or Redis pub/sub).

Several hub processes share one store; one of them syncs each source, the
others follow the store's versions (at each tick of their syncs). A relay
makes them follow at once: after each commit the writer announces *which
source* it wrote, nothing else, and every other process follows that source
now: its in-memory copies are read again where the store's version moved, and
its subscribers are told the rows that changed, as the store has them.

A message is only a hint to look at the store, never trusted for what it
says was written: a forged one (anyone who may NOTIFY on the database, or
publish on the Redis) can at most make a process look at the store again,
and announcements of one source are merged while a look is under way. A
relay that loses its connection reconnects, then follows every source; what
was announced meanwhile is also caught up by the sync's tick.

One process needs no relay: its writes reach its subscribers directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["CHANNEL", "ChangeRelay", "PostgresRelay", "RedisRelay", "relay_for"]

log = logging.getLogger("homeroom.realtime")

CHANNEL = "homeroom_mirror_writes"
"""The NOTIFY channel (PostgreSQL) or pub/sub channel (Redis)."""

MAX_MESSAGE = 1000
"""Characters of a message taken at all (one names a source, far shorter)."""

MAX_PENDING = 256
"""Sources waiting to be followed at once; announcements past it are dropped
(the sync's tick follows every source anyway)."""

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Waits between attempts to reconnect (the last repeats)."""

IDLE_CHECK_SECONDS = 5.0
"""How often a connection with nothing to send is checked."""

Follow = Callable[[str], Awaitable[None]]
FollowAll = Callable[[], Awaitable[None]]


class ChangeRelay:
    """The transport-independent half: what to announce, what was announced.

    ``follow(source)`` is called for each source another process announced,
    one at a time; ``follow_all()`` after a reconnection."""

    def __init__(self) -> None:
        self.origin = secrets.token_hex(8)
        self._outgoing: set[str] = set()
        self._incoming: set[str] = set()
        self._to_send = asyncio.Event()
        self._to_follow = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._follow: Follow | None = None
        self._follow_all: FollowAll | None = None
        self.connected = asyncio.Event()

    # -- the hub's side --

    async def start(self, follow: Follow, follow_all: FollowAll) -> None:
        """Connect and listen (in the background, reconnecting as needed)."""
        self._follow, self._follow_all = follow, follow_all
        self._tasks = [
            asyncio.create_task(self._keep_connected()),
            asyncio.create_task(self._take_in()),
        ]

    def send(self, source: str) -> None:
        """Announce a committed write of ``source`` (never waits; merged with
        announcements of it not sent yet)."""
        if self._tasks:
            self._outgoing.add(source)
            self._to_send.set()

    async def aclose(self) -> None:
        """Stop listening and sending, and close the connection."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self._disconnect()

    # -- messages --

    def message(self, source: str) -> str:
        """The announcement of ``source``."""
        return json.dumps({"o": self.origin, "s": source}, ensure_ascii=True)

    def take(self, message: str | bytes) -> None:
        """One message arrived: another process's source is followed soon.
        Anything else (our own, malformed, too long) is ignored, and never logged."""
        try:
            if len(message) > MAX_MESSAGE:
                return
            envelope = json.loads(message)
            origin, source = envelope["o"], envelope["s"]
            if not isinstance(origin, str) or not isinstance(source, str):
                return
        except Exception:  # whatever it is, it is not an announcement
            return
        if origin == self.origin or (source not in self._incoming and len(self._incoming) >= MAX_PENDING):
            return
        self._incoming.add(source)
        self._to_follow.set()

    async def _take_in(self) -> None:
        while True:
            await self._to_follow.wait()
            self._to_follow.clear()
            sources, self._incoming = self._incoming, set()
            for source in sorted(sources):
                if self._follow is None:
                    continue
                try:
                    await self._follow(source)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one source's trouble never stops the relay
                    log.warning("relay: a source not followed (%s)", type(exc).__name__)

    # -- the connection --

    async def _keep_connected(self) -> None:
        attempt = 0
        first = True
        while True:
            try:
                await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                wait = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                attempt += 1
                log.warning("relay: cannot connect (%s); trying again in %.1f s", type(exc).__name__, wait)
                await asyncio.sleep(wait)
                continue
            attempt = 0
            self.connected.set()
            if not first and self._follow_all is not None:
                try:
                    await self._follow_all()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the sync's tick follows the store too
                    log.warning("relay: catching up after a reconnection failed (%s)", type(exc).__name__)
            first = False
            try:
                await self._pump()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("relay: connection lost (%s); reconnecting", type(exc).__name__)
            self.connected.clear()
            await self._disconnect()

    async def _pump(self) -> None:
        """Send what is announced while the connection lives; raises when it is lost."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._to_send.wait(), timeout=IDLE_CHECK_SECONDS)
            await self._check()
            self._to_send.clear()
            sources, self._outgoing = self._outgoing, set()
            try:
                await self._publish([self.message(source) for source in sorted(sources)])
            except BaseException:
                # Not sent: announced again once connected (merged with what comes meanwhile).
                self._outgoing |= sources
                self._to_send.set()
                raise

    async def _connect(self) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        raise NotImplementedError

    async def _publish(self, messages: list[str]) -> None:
        raise NotImplementedError

    async def _check(self) -> None:
        """Raise when the connection (or its listening) is gone."""
        raise NotImplementedError


class PostgresRelay(ChangeRelay):
    """LISTEN/NOTIFY on the hub's PostgreSQL store (one connection of its own)."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn
        self._conn: Any = None

    async def _connect(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(self.dsn)
        try:
            await conn.add_listener(CHANNEL, self._notified)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.take(payload)

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _publish(self, messages: list[str]) -> None:
        for message in messages:
            await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL, message)

    async def _check(self) -> None:
        conn = self._conn
        if conn is None or conn.is_closed():
            raise ConnectionError("the relay's connection closed")


class RedisRelay(ChangeRelay):
    """Pub/sub on Redis (``redis`` package: ``pip install 'homeroom[redis]'``)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._client: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def _connect(self) -> None:
        import redis.asyncio as redis

        client = redis.from_url(self.url)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(CHANNEL)
        except BaseException:
            await client.aclose()
            raise
        self._client, self._pubsub = client, pubsub
        self._reader = asyncio.create_task(self._read(pubsub))
        # A dead reader wakes the pump at once, rather than at its next idle check.
        self._reader.add_done_callback(lambda _: self._to_send.set())

    async def _read(self, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                self.take(message.get("data") or "")

    async def _disconnect(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        pubsub, client, self._pubsub, self._client = self._pubsub, self._client, None, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _publish(self, messages: list[str]) -> None:
        for message in messages:
            await self._client.publish(CHANNEL, message)

    async def _check(self) -> None:
        reader = self._reader
        if reader is None or reader.done():
            raise ConnectionError("the relay's subscription ended")


def relay_for(relay: str, store_url: str, redis_url: str | None) -> ChangeRelay | None:
    """The relay ``[realtime] relay`` names for a hub on ``store_url``
    (``None``: one process, none needed)."""
    from sqlalchemy.engine import make_url

    url = make_url(store_url)
    postgres = url.get_backend_name() == "postgresql"
    if relay == "redis" and redis_url:
        return RedisRelay(redis_url)
    if relay == "postgres" or (relay == "auto" and postgres):
        if not postgres:
            raise ValueError('[realtime] relay = "postgres" needs a PostgreSQL [store] url')
        return PostgresRelay(url.set(drivername="postgresql").render_as_string(hide_password=False))
    return None

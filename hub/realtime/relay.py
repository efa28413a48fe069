"""Mirror writes announced to the hub's other processes (PostgreSQL LISTEN/NOTIFY or Redis pub/sub).

Several hub processes share one store; one of them syncs each source. Its
writes reach the others' subscribers through a relay: after each commit the
writer sends what it wrote (a :class:`Write`: ids and versions, never values),
and every other process first brings its in-memory copy up to date from the
store (the rows read back, as after its own writes), then publishes the change
to its own subscribers. A relay that loses its connection reconnects and has
every copy checked against the store's versions (the changes sent meanwhile
are caught up, their events are not replayed).

One process needs no relay: its writes reach its subscribers directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from hub.model import Entity

__all__ = ["CHANNEL", "ChangeRelay", "PostgresRelay", "RedisRelay", "Write", "WriteKind", "relay_for"]

log = logging.getLogger("homeroom.realtime")

CHANNEL = "homeroom_mirror_writes"
"""The NOTIFY channel (PostgreSQL) or pub/sub channel (Redis)."""

WriteKind = Literal["written", "dropped", "replaced", "erased"]

PIECE = 3000
"""Characters of a write's JSON per message: PostgreSQL refuses a NOTIFY payload
of 8000 bytes or more, and the envelope's escaping may double a piece."""

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Waits between attempts to reconnect (the last repeats)."""


@dataclass(frozen=True, slots=True)
class Write:
    """One committed write of a mirror: which rows of which entity, and the entity's
    version before and after it. ``kind``: rows ``written`` (added or changed;
    ``ids``), ``dropped`` (deleted; ``ids``), the entity ``replaced`` whole (a full
    read; ``ids``: the rows it deleted) or ``erased`` (attributes forgotten after a
    policy change)."""

    kind: WriteKind
    source: str
    entity: Entity
    versions: tuple[int, int]
    ids: tuple[str, ...] = ()

    def to_json(self) -> str:
        """The write as compact ASCII JSON."""
        return json.dumps(
            [self.kind, self.source, self.entity.value, list(self.versions), list(self.ids)],
            ensure_ascii=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Write:
        """The write :meth:`to_json` gave; ``ValueError`` (or ``KeyError``/``TypeError``) if it is not one."""
        kind, source, entity, versions, ids = json.loads(text)
        if kind not in ("written", "dropped", "replaced", "erased"):
            raise ValueError("unknown write kind")
        before, after = (int(v) for v in versions)
        return cls(kind, str(source), Entity(entity), (before, after), tuple(str(i) for i in ids))


Receive = Callable[[Write], Awaitable[None]]
Resume = Callable[[], Awaitable[None]]


class ChangeRelay:
    """The transport-independent half: pieces out, pieces back together, in order.

    ``receive`` is called with each other process's write, one at a time in the
    order they arrive; ``resume`` after a reconnection (writes may have been
    missed: every copy is checked against the store)."""

    def __init__(self) -> None:
        self.origin = secrets.token_hex(8)
        self._outbox: asyncio.Queue[Write] = asyncio.Queue()
        self._inbox: asyncio.Queue[Write] = asyncio.Queue()
        self._partial: dict[tuple[str, str], list[str | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._receive: Receive | None = None
        self._resume: Resume | None = None
        self._sequence = 0
        self.connected = asyncio.Event()

    # -- the hub's side --

    async def start(self, receive: Receive, resume: Resume) -> None:
        """Connect and listen (in the background, reconnecting as needed)."""
        self._receive, self._resume = receive, resume
        self._tasks = [
            asyncio.create_task(self._keep_connected()),
            asyncio.create_task(self._take_in()),
        ]

    def send(self, write: Write) -> None:
        """Announce ``write`` to the other processes (never waits; called after its commit)."""
        if self._tasks:
            self._outbox.put_nowait(write)

    async def aclose(self) -> None:
        """Stop listening and sending, and close the connection."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self._disconnect()

    # -- pieces --

    def pieces(self, write: Write) -> list[str]:
        """``write`` as the messages that carry it (each well under 8000 bytes)."""
        text = write.to_json()
        self._sequence += 1
        number = str(self._sequence)
        parts = [text[i : i + PIECE] for i in range(0, len(text), PIECE)] or [""]
        return [
            json.dumps({"o": self.origin, "w": number, "i": i, "n": len(parts), "d": part}, ensure_ascii=True)
            for i, part in enumerate(parts)
        ]

    def take(self, message: str | bytes) -> None:
        """One message arrived: a whole write, once its last piece is here, goes to ``receive``."""
        try:
            envelope = json.loads(message)
            origin, number = str(envelope["o"]), str(envelope["w"])
            index, count, part = int(envelope["i"]), int(envelope["n"]), str(envelope["d"])
        except (ValueError, KeyError, TypeError):
            log.warning("relay: a message that is not a mirror write was ignored")
            return
        if origin == self.origin or not 0 <= index < count <= 10_000:
            return  # our own write (its subscribers were told directly), or nonsense
        key = (origin, number)
        parts = self._partial.setdefault(key, [None] * count)
        if len(parts) != count:
            self._partial.pop(key, None)
            return
        parts[index] = part
        if any(p is None for p in parts):
            return
        del self._partial[key]
        try:
            write = Write.from_json("".join(p or "" for p in parts))
        except (ValueError, KeyError, TypeError):
            log.warning("relay: a mirror write that could not be read was ignored")
            return
        self._inbox.put_nowait(write)

    async def _take_in(self) -> None:
        while True:
            write = await self._inbox.get()
            if self._receive is None:
                continue
            try:
                await self._receive(write)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one write's trouble never stops the relay
                log.warning("relay: a write of %s not taken up (%s)", write.entity.value, type(exc).__name__)

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
            self._partial.clear()
            self.connected.set()
            if not first and self._resume is not None:
                with contextlib.suppress(Exception):
                    await self._resume()
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
        """Send the outbox while the connection lives; raises when it is lost."""
        while True:
            try:
                write = await asyncio.wait_for(self._outbox.get(), timeout=5.0)
            except TimeoutError:
                await self._check()
                continue
            # Lost with the connection: the others catch it up from the store's versions.
            await self._publish(self.pieces(write))

    async def _connect(self) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        raise NotImplementedError

    async def _publish(self, messages: list[str]) -> None:
        raise NotImplementedError

    async def _check(self) -> None:
        """Raise when the connection is gone (checked while nothing is sent)."""
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
        conn = self._conn
        # One transaction: the pieces of a write are delivered together, in order.
        async with conn.transaction():
            for message in messages:
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, message)

    async def _check(self) -> None:
        conn = self._conn
        if conn is None or conn.is_closed():
            raise ConnectionError("the relay's connection closed")
        await conn.execute("SELECT 1")


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

    async def _read(self, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                self.take(message["data"])

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
        async with self._client.pipeline(transaction=True) as pipe:
            for message in messages:
                pipe.publish(CHANNEL, message)
            await pipe.execute()

    async def _check(self) -> None:
        reader = self._reader
        if reader is None or reader.done():
            raise ConnectionError("the relay's subscription ended")
        await self._client.ping()


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

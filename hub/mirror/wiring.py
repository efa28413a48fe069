"""Turning a ``mode = "mirror"`` source into a mirrored adapter, and following policy reloads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.mirror.adapter import MirroredAdapter
from hub.mirror.fields import stored_attributes
from hub.mirror.store import MirrorStore
from hub.mirror.sync import SyncIntervals
from hub.mirror.tables import is_linked
from hub.model import Entity, Record, data_fields
from hub.policy import PolicyEngine
from hub.realtime import Change, ChangeBus
from hub.realtime.relay import ChangeRelay
from hub.sdk import Adapter
from hub.store import create_engine

__all__ = ["MirrorWiring", "first_syncs_attempted", "follow_policy", "hub_attributes", "mirror_rows"]

PERSON_ENTITIES = (Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN)
MIRROR_POOL_TIMEOUT = 300.0
"""Seconds a mirror read may wait for one of its engine's pooled connections."""


@dataclass(frozen=True)
class MirrorWiring:
    """What a mirrored source needs from the hub: its store and its policy.

    ``store_url`` is the hub's ``[store]`` (the mirror lives in the district's
    database); ``policy()`` the engine in force, read at each decision;
    ``extra`` attributes the hub itself reads per entity (identity match
    keys, the e-mail sign-in binds by) besides those of the grants.
    """

    store_url: str
    policy: Callable[[], PolicyEngine]
    extra: Mapping[Entity, frozenset[str]] = field(default_factory=dict)
    changes: ChangeBus | None = None
    """Where the rows each sync changed are announced (subscriptions listen there)."""
    relay: ChangeRelay | None = None
    """Where each committed write is announced to the hub's other processes."""
    stores: dict[str, MirrorStore] = field(default_factory=dict)
    """Each open mirrored source's store, by source name (for writes relayed in)."""

    async def follow(self, source: str) -> None:
        """Another process wrote ``source``: its store follows the versions now (none open: ignored)."""
        store = self.stores.get(source)
        if store is not None:
            await store.follow(source)

    async def follow_all(self) -> None:
        """Announcements may have been missed: every open store follows the versions."""
        for name, store in tuple(self.stores.items()):
            await store.follow(name)

    def fields_for(self, entity: Entity) -> frozenset[str]:
        """The attributes of ``entity`` a mirror keeps under the policy in force."""
        return stored_attributes(self.policy(), entity, self.extra.get(entity, frozenset()))

    def _announce(
        self, source: str, entity: Entity, records: Sequence[Record], deleted: Sequence[str]
    ) -> None:
        if self.changes is None:
            return
        if deleted:
            self.changes.rows_deleted(entity)
        if not records:
            return
        links = {
            record.vendor_id: {
                name: tuple(value) if isinstance(value, tuple) else (value,)
                for name in data_fields(type(record))
                if is_linked(entity, name) and (value := getattr(record, name)) not in (None, "", ())
            }
            for record in records
        }
        self.changes.publish(Change(source, entity, tuple(links), links))

    def wrap(self, adapter: Adapter, table: Mapping[str, Any]) -> MirroredAdapter:
        """``adapter`` mirrored with the intervals of its (validated) ``[[sources]]`` table."""
        url = self.store_url
        name = str(table.get("name", ""))
        relay = self.relay

        def open_store() -> MirrorStore:
            # Waiting for a pooled connection is a busy hub, not a failed store:
            # past SQLAlchemy's 30 s default, a dashboard at 200 at once failed.
            store = MirrorStore(
                create_engine(url, pool_timeout=MIRROR_POOL_TIMEOUT),
                in_memory=bool(table.get("mirror_in_memory", True)),
                on_change=self._announce,
                on_commit=relay.send if relay is not None else None,
            )
            self.stores[name] = store
            return store

        return MirroredAdapter(
            adapter,
            open_store,
            self.fields_for,
            intervals=SyncIntervals.from_table(table),
        )


def hub_attributes(match_rules: Iterable[Any], bind_by_email: bool) -> dict[Entity, frozenset[str]]:
    """Attributes the hub reads whatever the policy: the ``[identity]`` match
    keys (both sides of each ``a=b``) and, when sign-in binds by e-mail, people's e-mail."""
    people: set[str] = {"email"} if bind_by_email else set()
    sections: set[str] = set()
    courses: set[str] = set()
    for rule in match_rules:
        for target, pairs in ((people, rule.people), (sections, rule.sections), (courses, rule.courses)):
            for pair in pairs:
                left, _, right = pair.partition("=")
                target.update({left.strip(), right.strip()} - {"vendor_id"})
    out = {entity: frozenset(people) for entity in PERSON_ENTITIES}
    out[Entity.SECTION] = frozenset(sections)
    out[Entity.COURSE] = frozenset(courses)
    return out


def follow_policy(
    adapters: Callable[[], Iterable[Adapter]], refresh: Callable[[str], None]
) -> Callable[[Any], None]:
    """A policy-reload callback: after a swap, each mirrored adapter erases what
    no grant reads any more and back-fills what became readable, then
    ``refresh(name)`` lets the registry read its capabilities again."""
    tasks: set[asyncio.Task[None]] = set()

    async def follow(adapter: MirroredAdapter) -> None:
        if await adapter.policy_changed():
            refresh(adapter.name)

    def on_outcome(outcome: Any) -> None:
        if not getattr(outcome, "swapped", False):
            return
        for adapter in adapters():
            if isinstance(adapter, MirroredAdapter):
                task = asyncio.ensure_future(follow(adapter))
                tasks.add(task)  # keep a reference until it is done
                task.add_done_callback(tasks.discard)

    return on_outcome


async def first_syncs_attempted(adapters: Iterable[Adapter]) -> None:
    """Wait until every mirrored adapter among ``adapters`` tried its first sync
    (the hub is ready then: a source whose first sync failed is down, as a live
    source that fails to open)."""
    mirrored = [adapter for adapter in adapters if isinstance(adapter, MirroredAdapter)]
    await asyncio.gather(*(adapter.first_sync_attempted() for adapter in mirrored))


def mirror_rows(adapter: Adapter) -> dict[str, int] | None:
    """Rows held per entity by a mirrored adapter (read so far, during its first sync)."""
    return adapter.freshness.rows_by_entity() if isinstance(adapter, MirroredAdapter) else None

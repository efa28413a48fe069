"""The identity map: the same person (or section, or course) in several
sources becomes one hub record.

Each secondary source is matched against the primary (roster) source on
configured keys, tried in order: ``vendor_id=identifier`` means "the primary
record whose vendor id equals this record's ``identifier``". A key that points
at more than one primary record, or a primary record claimed by more than one
secondary record, is ambiguous: it is reported and the records stay apart,
never merged silently. Links found once are kept in the store, so hub ids stay
the same across restarts even if a key later changes.

Everything here is read once at start (ids and key attributes only); the
per-row path is one dictionary look-up.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hub.federation.ids import encode_id
from hub.federation.registry import SourceRegistry
from hub.model import Entity, Record, Section
from hub.sdk import FetchRequest, SourceError, fetch_every_page
from hub.settings import IdentitySettings, MatchRule

__all__ = ["Ambiguity", "IdentityMap", "build_identity_map"]

log = logging.getLogger("homeroom.identity")

Key = tuple[str, str]  # (source, vendor id)
PEOPLE = (Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN)


def _rules_for(rule: MatchRule, entity: Entity) -> tuple[str, ...]:
    if entity in PEOPLE:
        return rule.people
    if entity is Entity.SECTION:
        return rule.sections
    if entity is Entity.COURSE:
        return rule.courses
    return ()


@dataclass(frozen=True, slots=True)
class Ambiguity:
    """Records that could be one and the same but were kept apart, and why."""

    entity: Entity
    source: str
    vendor_ids: tuple[str, ...]
    candidates: tuple[Key, ...]
    key: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.entity.value} in '{self.source}' ({', '.join(self.vendor_ids)}): {self.reason} "
            f"on {self.key}; kept apart"
        )


@dataclass
class IdentityMap:
    """Secondary records -> their primary record, and back."""

    primary: str | None = None
    lms_entities: frozenset[Entity] = frozenset()
    _to_primary: dict[tuple[Entity, str, str], Key] = field(default_factory=dict)
    _secondaries: dict[tuple[Entity, str, str], list[Key]] = field(default_factory=dict)
    _match_keys: dict[tuple[Entity, str, str], str] = field(default_factory=dict)
    ambiguities: list[Ambiguity] = field(default_factory=list)
    _notes: dict[tuple[Entity, str, str], str] = field(default_factory=dict)

    def link(self, entity: Entity, secondary: Key, primary: Key, match_key: str = "") -> None:
        """Record that ``secondary`` is the same record as ``primary``."""
        self._to_primary[(entity, *secondary)] = primary
        self._secondaries.setdefault((entity, *primary), []).append(secondary)
        self._match_keys[(entity, *secondary)] = match_key

    def report(self, ambiguity: Ambiguity) -> None:
        """Keep an ambiguity, and note it on every record it concerns."""
        self.ambiguities.append(ambiguity)
        note = f"kept apart: {ambiguity.reason} on {ambiguity.key}"
        for vendor_id in ambiguity.vendor_ids:
            self._notes[(ambiguity.entity, ambiguity.source, vendor_id)] = note
        for source, vendor_id in ambiguity.candidates:
            self._notes.setdefault(
                (ambiguity.entity, source, vendor_id),
                f"kept apart from {len(ambiguity.vendor_ids)} record(s) of '{ambiguity.source}': "
                f"{ambiguity.reason} on {ambiguity.key}",
            )

    def note(self, entity: Entity, source: str, vendor_id: str) -> str | None:
        """Why this record was not merged with a look-alike, when that happened."""
        return self._notes.get((entity, source, vendor_id))

    def canonical(self, entity: Entity, source: str, vendor_id: str) -> Key:
        """The key the hub knows this record by (its primary record's, when merged)."""
        return self._to_primary.get((entity, source, vendor_id), (source, vendor_id))

    def hub_id(self, entity: Entity, source: str, vendor_id: str) -> str:
        """The hub id of a vendor record (shared by all records merged with it)."""
        canonical = self._to_primary.get((entity, source, vendor_id))
        if canonical is None:
            return encode_id(entity.value, source, vendor_id)
        return encode_id(entity.value, *canonical)

    def other_keys(self, entity: Entity, source: str, vendor_id: str) -> tuple[Key, ...]:
        """Every other (source, vendor id) of the same record."""
        primary = self._to_primary.get((entity, source, vendor_id))
        if primary is None:  # a primary record (or one never merged): its secondaries
            return tuple(self._secondaries.get((entity, source, vendor_id), ()))
        keys = [primary, *self._secondaries.get((entity, *primary), ())]
        return tuple(key for key in keys if key != (source, vendor_id))

    @property
    def merges(self) -> bool:
        """Whether any records were merged at all."""
        return bool(self._to_primary)

    def links(self) -> Iterable[tuple[Entity, Key, Key, str]]:
        """(entity, secondary, primary, match key) of every link."""
        for (entity, source, vendor_id), primary in self._to_primary.items():
            yield entity, (source, vendor_id), primary, self._match_keys.get((entity, source, vendor_id), "")


def _values(record: Record, attribute: str) -> list[str]:
    raw = record.vendor_id if attribute == "vendor_id" else getattr(record, attribute, None)
    if raw is None or raw == "":
        return []
    items = raw if isinstance(raw, tuple) else (raw,)
    # E-mail and similar keys compare case-blind: vendors disagree on case.
    return [str(item).strip().casefold() for item in items if str(item).strip()]


async def _read_all(
    registry: SourceRegistry, source: str, entity: Entity, attributes: set[str]
) -> list[Record]:
    fields = frozenset(attributes - {"vendor_id"}) & registry.supported_fields(source, entity)
    return await fetch_every_page(
        functools.partial(registry.fetch, source), FetchRequest(entity=entity, fields=fields)
    )


async def _match_entity(
    registry: SourceRegistry,
    identity: IdentityMap,
    entity: Entity,
    primary: str,
    rule: MatchRule,
    known: Mapping[tuple[Entity, str, str], Key],
) -> None:
    pairs = [tuple(part.strip() for part in text.partition("=")[::2]) for text in _rules_for(rule, entity)]
    if not pairs or entity not in registry.capabilities[rule.source].entities:
        return
    if entity not in registry.capabilities[primary].entities:
        return
    primary_rows = await _read_all(registry, primary, entity, {p for p, _ in pairs})
    secondary_rows = await _read_all(registry, rule.source, entity, {s for _, s in pairs})
    indexes: dict[str, dict[str, list[str]]] = {}
    for primary_attribute, _ in pairs:
        index: dict[str, list[str]] = defaultdict(list)
        for row in primary_rows:
            for value in _values(row, primary_attribute):
                index[value].append(row.vendor_id)
        indexes[primary_attribute] = index

    claims: dict[str, list[tuple[str, str]]] = defaultdict(list)  # primary id -> (secondary id, key)
    for row in secondary_rows:
        remembered = known.get((entity, rule.source, row.vendor_id))
        if remembered is not None and remembered[0] == primary:
            claims[remembered[1]].append((row.vendor_id, "remembered link"))
            continue
        for primary_attribute, secondary_attribute in pairs:
            candidates = sorted(
                {
                    pid
                    for value in _values(row, secondary_attribute)
                    for pid in indexes[primary_attribute].get(value, ())
                }
            )
            if len(candidates) == 1:
                claims[candidates[0]].append((row.vendor_id, f"{primary_attribute}={secondary_attribute}"))
                break
            if len(candidates) > 1:
                identity.report(
                    Ambiguity(
                        entity,
                        rule.source,
                        (row.vendor_id,),
                        tuple((primary, c) for c in candidates),
                        f"{primary_attribute}={secondary_attribute}",
                        f"matches {len(candidates)} records of '{primary}'",
                    )
                )
                break
    for primary_id, claimants in claims.items():
        if len(claimants) > 1:
            identity.report(
                Ambiguity(
                    entity,
                    rule.source,
                    tuple(sorted(c for c, _ in claimants)),
                    ((primary, primary_id),),
                    ", ".join(sorted({key for _, key in claimants})),
                    f"{len(claimants)} records claim the same record of '{primary}'",
                )
            )
            continue
        identity.link(entity, (rule.source, claimants[0][0]), (primary, primary_id), claimants[0][1])


async def _courses_through_sections(
    registry: SourceRegistry, identity: IdentityMap, primary: str, secondary: str
) -> None:
    """Courses without a shared key (course codes repeat across schools) are
    matched through their merged sections: a secondary course whose sections
    all merged into sections of one primary course, and the only one to do so,
    is that course."""
    for source in (primary, secondary):
        if "course_id" not in registry.supported_fields(source, Entity.SECTION):
            return
    primary_course = {
        row.vendor_id: row.course_id
        for row in await _read_all(registry, primary, Entity.SECTION, {"course_id"})
        if isinstance(row, Section) and row.course_id
    }
    targets: dict[str, set[str]] = defaultdict(set)
    for row in await _read_all(registry, secondary, Entity.SECTION, {"course_id"}):
        if not isinstance(row, Section) or not row.course_id:
            continue
        merged = identity.canonical(Entity.SECTION, secondary, row.vendor_id)
        if merged[0] == primary and merged[1] in primary_course:
            targets[row.course_id].add(primary_course[merged[1]])
    claimed: dict[str, list[str]] = defaultdict(list)
    for course, candidates in targets.items():
        if len(candidates) == 1 and identity.canonical(Entity.COURSE, secondary, course)[0] != primary:
            claimed[next(iter(candidates))].append(course)
    # Only one-to-one pairs merge. Many LMS courses for one SIS course (Google
    # Classroom makes a course per class) is how that LMS is organised, not a
    # conflict between people's records: those courses simply stay apart.
    for primary_id, courses in claimed.items():
        if len(courses) == 1:
            identity.link(Entity.COURSE, (secondary, courses[0]), (primary, primary_id), "sections")


async def build_identity_map(
    registry: SourceRegistry,
    settings: IdentitySettings,
    known: Mapping[tuple[Entity, str, str], Key] | None = None,
) -> IdentityMap:
    """Match every configured secondary source against the primary one.

    ``known`` are links remembered from earlier runs (the store): they hold
    even when the keys that made them have changed since.
    """
    primary = settings.primary or next(iter(registry.adapters), None)
    identity = IdentityMap(primary=primary, lms_entities=frozenset(Entity(e) for e in settings.lms_entities))
    if primary is None or primary not in registry.adapters:
        return identity
    for rule in settings.match:
        if rule.source not in registry.adapters or rule.source == primary:
            log.warning("identity: source '%s' is not a configured secondary source; skipped", rule.source)
            continue
        for entity in (*PEOPLE, Entity.SECTION, Entity.COURSE):
            try:
                await _match_entity(registry, identity, entity, primary, rule, known or {})
            except SourceError as exc:
                log.warning("identity: could not match %s of '%s': %s", entity.value, rule.source, exc.reason)
        try:
            await _courses_through_sections(registry, identity, primary, rule.source)
        except SourceError as exc:
            log.warning("identity: could not match courses of '%s': %s", rule.source, exc.reason)
    for ambiguity in identity.ambiguities:
        log.warning("identity: %s", ambiguity)
    return identity

"""The read model: a source's records kept in the hub's database and answered from there.

A ``mode = "mirror"`` source is its adapter wrapped in :class:`MirroredAdapter`,
which implements the same ``Adapter`` protocol from a :class:`MirrorStore`
(tables in the hub's store, see :mod:`hub.mirror.tables`) kept fresh by
:class:`MirrorSync`. Only the attributes some grant of the policy can read,
and those the hub decides relations with, are stored
(:func:`stored_attributes`). See docs/mirror.md.
"""

from hub.mirror.adapter import MirroredAdapter
from hub.mirror.fields import STRUCTURAL_ATTRIBUTES, granted_fields, stored_attributes
from hub.mirror.freshness import Freshness
from hub.mirror.store import EntityState, MirrorStore, WriteCounts
from hub.mirror.sync import GRADEBOOK_ENTITIES, MirrorSync, SyncIntervals

__all__ = [
    "GRADEBOOK_ENTITIES",
    "STRUCTURAL_ATTRIBUTES",
    "EntityState",
    "Freshness",
    "MirrorStore",
    "MirrorSync",
    "MirroredAdapter",
    "SyncIntervals",
    "WriteCounts",
    "granted_fields",
    "stored_attributes",
]

"""Real time: changes the mirrors' syncs bring, pushed to GraphQL subscribers.

:mod:`hub.realtime.changes` carries which rows changed (ids only) from a
mirror's writes to the subscriptions of this process; each subscription then
reads the rows through a fresh scope of its caller (``hub/schema/subscriptions.py``),
so a change reaches only those who may see it at delivery time.
"""

from hub.realtime.changes import Change, ChangeBus, ChangeFeedClosed

__all__ = ["Change", "ChangeBus", "ChangeFeedClosed"]

"""Tests of hub.mirror: the read model's store, the mirrored adapter, its sync and a hub over it."""

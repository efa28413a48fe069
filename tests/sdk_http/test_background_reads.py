"""A mirror's sync is no query: inside ``background_reads`` a call may take past
``total_timeout`` (up to ``mirror_read_seconds``); outside, a query never does."""

from __future__ import annotations

import asyncio

import pytest

from hub.sdk import SourceUnavailable, background_deadline, background_reads
from hub.sdk.http import BearerToken, VendorClient

from .conftest import make_config


async def test_a_query_is_held_to_total_timeout() -> None:
    async with VendorClient(make_config(total_timeout=0.05), BearerToken("t")) as client:
        with pytest.raises(SourceUnavailable, match=r"within 0\.05 s \(total_timeout\)"):
            async with client.deadline():
                await asyncio.sleep(0.2)


async def test_a_background_read_may_take_longer_and_says_which_limit_it_hit() -> None:
    async with VendorClient(make_config(total_timeout=0.05), BearerToken("t")) as client:
        with background_reads(1.0):
            async with client.deadline():
                await asyncio.sleep(0.2)  # past total_timeout: allowed
            with pytest.raises(SourceUnavailable, match=r"within 1 s \(mirror_read_seconds\)"):
                async with client.deadline():
                    await asyncio.sleep(1.5)
        assert background_deadline() is None


async def test_tasks_started_in_a_background_read_inherit_it() -> None:
    async def seen() -> float | None:
        return background_deadline()

    with background_reads(30.0):
        inner = await asyncio.gather(asyncio.create_task(seen()))
    assert inner == [30.0]
    assert await seen() is None

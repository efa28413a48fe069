"""``/metrics`` over real HTTP: requests, answers, refusals, audit writes, vendor requests,
mirror rows and syncs are counted, and no id, name or query text is ever a label."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.mirror.conftest import fast_switching, simulator_credentials  # noqa: F401
from tests.realtime.test_subscriptions import SCORES, district, folder, live_hub

pytestmark = pytest.mark.usefixtures("simulator_credentials", "fast_switching")
__all__ = ["district", "folder"]  # the shared fixtures, found by pytest here

FORBIDDEN = (
    "query Snoop { viewer { sections { edges { node { students { edges { node { birthDate } } } } } } } }"
)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


async def test_metrics_count_what_happened_and_label_nothing_personal(folder: Path, tmp_path: Path) -> None:
    async with (
        live_hub(folder, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as live,
        httpx.AsyncClient(timeout=30) as client,
    ):
        base = live.url.replace("ws://", "http://").removesuffix("/graphql")
        before = _samples((await client.get(f"{base}/metrics")).text)
        teacher = {"Authorization": f"Bearer {live.token('teacher')}"}
        assert (
            await client.post(f"{base}/graphql", json={"query": SCORES}, headers=teacher)
        ).status_code == 200
        denied = await client.post(f"{base}/graphql", json={"query": FORBIDDEN}, headers=teacher)
        assert "FORBIDDEN" in denied.text
        refused = await client.post(
            f"{base}/graphql", json={"query": SCORES}, headers={"Authorization": "Bearer x"}
        )
        assert refused.status_code == 401
        await client.get(f"{base}/no/such/student-1234")
        scraped = await client.get(f"{base}/metrics")
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        after = _samples(scraped.text)

        def grew(name: str, **labels: str) -> float:
            return _value(after, name, **labels) - _value(before, name, **labels)

        assert grew("homeroom_http_requests_total", route="/graphql", method="POST", status="200") == 2
        assert grew("homeroom_http_requests_total", route="/graphql", status="401") == 1
        assert grew("homeroom_http_requests_total", route="other", status="404") == 1
        assert grew("homeroom_http_request_seconds_count", route="/graphql") == 3
        assert grew("homeroom_graphql_operations_total", outcome="ok") >= 1
        assert grew("homeroom_graphql_errors_total", code="FORBIDDEN") >= 1
        assert grew("homeroom_policy_refusals_total", reason="forbidden_field") >= 1
        assert grew("homeroom_policy_refusals_total", reason="token_refused") == 1
        assert grew("homeroom_audit_write_seconds_count") >= 1
        source = str(next(iter(live.hub.registry.states)))
        # The mirror's first sync read the simulator: its requests, rows and syncs.
        assert _value(after, "homeroom_upstream_requests_total", source=source, outcome="200") > 0
        assert _value(after, "homeroom_mirror_rows", source=source, entity="Student") > 0
        assert _value(after, "homeroom_mirror_sync_seconds_count", source=source) > 0
        assert _value(after, "homeroom_source_up", source=source) == 1.0
        # Labels are fixed words, codes and configured names: no person, id, path or query.
        teacher_id = live.personas["teacher"].sourced_id or "unused"
        for text in (teacher_id, "student-1234", "Snoop", "birthDate", "viewer", live.token("teacher")):
            assert text not in scraped.text, text


WORKER = """
from hub import metrics
metrics.HTTP_REQUESTS.labels("/graphql", "POST", "200").inc(3)
"""

SCRAPE = """
import asyncio, types
from starlette.requests import Request
from hub import metrics
registry = types.SimpleNamespace(states={}, adapters={}, observe_mirrors=lambda: None)
hub = types.SimpleNamespace(registry=registry, changes=types.SimpleNamespace(subscribers=lambda: 0))
endpoint = metrics.metrics_endpoint(hub, lambda request: True)
scope = {"type": "http", "method": "GET", "path": "/metrics", "headers": [], "query_string": b""}
print((asyncio.run(endpoint(Request(scope)))).body.decode())
"""


def test_in_multiprocess_mode_a_scrape_sums_every_workers_counters(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two workers, each its own process
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True, cwd=Path(__file__).parents[2])
    out = subprocess.run(
        [sys.executable, "-c", SCRAPE],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    ).stdout
    samples = _samples(out)
    assert _value(samples, "homeroom_http_requests_total", route="/graphql", status="200") == 6
    assert _value(samples, "homeroom_subscriptions_open") == 0

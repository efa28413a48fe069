"""OpenTelemetry spans hold what the hub did, never what it was asked about: no query text,
operation name, variable or argument value, and vendor URLs without their query strings."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

pytest.importorskip("opentelemetry.sdk", reason="OpenTelemetry is the optional extra homeroom[otel]")

from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hub.tracing import _async_request_hook, _request_hook, safe_tracing_extension
from tests.support import make_district, serving_hub

SECRET_QUERY = """query PeekAtJane($name: String!) {
  janeSmithIsOnIEP: students(first: 5, filter: {search: $name}) { edges { node { id givenName } } } }"""


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter


def _everything(exporter: InMemorySpanExporter) -> str:
    return " ".join(f"{span.name} {dict(span.attributes or {})}" for span in exporter.get_finished_spans())


def test_graphql_spans_carry_no_query_text_name_or_values(
    spans: InMemorySpanExporter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub import app as app_module

    real = app_module.build_schema

    def traced(**kwargs: Any) -> Any:
        return real(**{**kwargs, "extra_extensions": [safe_tracing_extension()]})

    monkeypatch.setattr(app_module, "build_schema", traced)
    with serving_hub(make_district(tmp_path / "district", 50)) as hub:
        spans.clear()
        answer = hub.post(SECRET_QUERY, token=hub.token("district_admin"), variables={"name": "Jane-4711"})
        assert answer.status_code == 200, answer.text
    text = _everything(spans)
    names = {span.name for span in spans.get_finished_spans()}
    assert "GraphQL operation" in names and any(name.startswith("GraphQL Resolving") for name in names)
    for secret in ("Jane", "jane", "4711", "PeekAtJane", "search", "givenName }", "query ", "IEP"):
        assert secret not in text, (secret, text[:500])


async def test_vendor_request_spans_have_no_query_string(spans: InMemorySpanExporter) -> None:
    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(request_hook=_request_hook, async_request_hook=_async_request_hook)
    try:
        with respx.mock:
            respx.get("https://sis.example.org/ims/oneroster/v1p1/users").respond(json={"users": []})
            spans.clear()
            async with httpx.AsyncClient() as client:
                await client.get(
                    "https://sis.example.org/ims/oneroster/v1p1/users",
                    params={"filter": "email='jane.doe@students.example.org'"},
                )
                await client.get("https://svc:hunter2@sis.example.org/ims/oneroster/v1p1/users")
            await asyncio.sleep(0)
    finally:
        instrumentor.uninstrument()
    text = _everything(spans)
    assert "sis.example.org/ims/oneroster/v1p1/users" in text
    assert "jane" not in text.lower() and "filter" not in text and "hunter2" not in text, text

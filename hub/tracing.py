"""OpenTelemetry traces, an optional extra (``pip install 'homeroom[otel]'``; ``[server] tracing = true``).

Spans say what the hub did, never what it was asked about: the GraphQL
operation span has a fixed name and no query text, no operation name (the
caller chooses it) and no variables; resolver spans carry the field's path
and no argument values; vendor requests (httpx) carry the URL without its
query string (a filter there may hold an e-mail or an id). Spans go where the
standard ``OTEL_EXPORTER_OTLP_*`` variables say: point them at the
district's own collector.
"""

from __future__ import annotations

from collections.abc import Generator
from inspect import isawaitable
from typing import Any

__all__ = ["TracingUnavailable", "safe_tracing_extension", "start_tracing", "strip_query"]

EXTRA = "pip install 'homeroom[otel]'"


class TracingUnavailable(Exception):
    """``[server] tracing`` is on but OpenTelemetry is not installed."""


def strip_query(url: str) -> str:
    """``url`` without its query string, fragment, user and password."""
    bare = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = bare.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def safe_tracing_extension() -> Any:
    """Strawberry's OpenTelemetry extension, stripped of query text, names and argument values."""
    try:
        from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context
        from strawberry.extensions import LifecycleStep
        from strawberry.extensions.tracing.opentelemetry import OpenTelemetryExtension
        from strawberry.extensions.tracing.utils import should_skip_tracing
    except ImportError as exc:
        raise TracingUnavailable(f"[server] tracing needs OpenTelemetry: {EXTRA}") from exc

    class SafeOpenTelemetry(OpenTelemetryExtension):
        def __init__(self, *, execution_context: Any = None) -> None:
            # No argument value becomes an attribute (an id, a search, a date of a student).
            super().__init__(execution_context=execution_context, arg_filter=lambda _args, _info: {})

        def add_tags(self, span: Any, info: Any, kwargs: Any) -> None:
            # The type and field, not the path: a path is made of the caller's aliases.
            span.set_attribute("component", "graphql")
            span.set_attribute("graphql.field", f"{info.parent_type.name}.{info.field_name}")

        async def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            if should_skip_tracing(_next, info):
                result = _next(root, info, *args, **kwargs)
                return await result if isawaitable(result) else result
            # No exception recorded: its message may quote input, a record or a vendor.
            with self._tracer.start_as_current_span(
                f"GraphQL Resolving: {info.parent_type.name}.{info.field_name}",
                context=set_span_in_context(self._span_holder[LifecycleStep.OPERATION]),
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                self.add_tags(span, info, kwargs)
                try:
                    result = _next(root, info, *args, **kwargs)
                    return await result if isawaitable(result) else result
                except Exception as exc:
                    span.set_status(Status(StatusCode.ERROR))
                    span.set_attribute("error.type", type(exc).__name__)
                    raise

        def on_operation(self) -> Generator[None, None, None]:
            span = self._tracer.start_span("GraphQL operation", kind=SpanKind.SERVER)
            span.set_attribute("component", "graphql")
            self._span_holder[LifecycleStep.OPERATION] = span
            try:
                yield
            finally:
                span.end()

    return SafeOpenTelemetry


def _request_hook(span: Any, request: Any) -> None:
    if span is None or not span.is_recording():
        return
    url = strip_query(str(getattr(request, "url", "")))
    for attribute in ("url.full", "http.url"):
        span.set_attribute(attribute, url)


def start_tracing(service_name: str = "homeroom") -> None:
    """A tracer provider exporting over OTLP (where the ``OTEL_EXPORTER_OTLP_*`` variables
    say), and vendor requests traced without their query strings."""
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise TracingUnavailable(f"[server] tracing needs OpenTelemetry: {EXTRA}") from exc
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
            OTLPSpanExporter,
        )

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    except ImportError:  # no exporter installed: spans are made, and stay in the process
        pass
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(request_hook=_request_hook, async_request_hook=_async_request_hook)


async def _async_request_hook(span: Any, request: Any) -> None:
    _request_hook(span, request)

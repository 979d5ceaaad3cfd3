"""OpenTelemetry: a tracer provider per process, gRPC client+server instrumentation,
OTLP export when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (W3C trace context crosses Envoy)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.grpc import (
    GrpcAioInstrumentorClient,
    GrpcAioInstrumentorServer,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_provider: TracerProvider | None = None


def setup_tracing(service: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Installs the process-wide tracer provider (once) and instruments gRPC aio."""
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(resource=Resource.create({"service.name": f"skymesh-{service}"}))
    if exporter is None and os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(insecure=True)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    GrpcAioInstrumentorServer().instrument()
    GrpcAioInstrumentorClient().instrument()
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush()
        _provider.shutdown()


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


# A batch span links at most this many other producers' traces (the first is its parent).
MAX_LINKS = 32


def kafka_trace(
    headers: Iterable[Sequence[Any]],
) -> trace.SpanContext | None:
    """The W3C ``traceparent`` a producer put in a Kafka record's headers, if any."""
    carrier = {
        str(key).lower(): value.decode("latin-1") if isinstance(value, bytes) else str(value)
        for key, value in headers
        if str(key).lower() in {"traceparent", "tracestate"}
    }
    if "traceparent" not in carrier:
        return None
    context = TraceContextTextMapPropagator().extract(carrier)
    span_context = trace.get_current_span(context).get_span_context()
    return span_context if span_context.is_valid else None


def batch_span(
    name: str, headers_of_records: Iterable[Iterable[Sequence[Any]]], attributes: dict[str, Any]
) -> contextlib.AbstractContextManager[trace.Span]:
    """A consumer span for one batch of Kafka records: it continues the trace of the first
    record that carries one and links the other producers' traces, so a producer's trace
    reaches every service the batch crossed."""
    producers: list[trace.SpanContext] = []
    for headers in headers_of_records:
        found = kafka_trace(headers)
        if found is not None and found not in producers:
            producers.append(found)
    parent = trace.set_span_in_context(trace.NonRecordingSpan(producers[0])) if producers else None
    links = [trace.Link(context) for context in producers[1 : 1 + MAX_LINKS]]
    return tracer("skymesh.broker").start_as_current_span(
        name, context=parent, kind=trace.SpanKind.CONSUMER, links=links, attributes=attributes
    )

"""Prometheus metrics of the service, in one registry so `/metrics` shows exactly these."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "hashigo_http_request_duration_seconds", "HTTP request latency by route template",
    ("method", "route"), buckets=_LATENCY_BUCKETS, registry=REGISTRY)
REQUESTS = Counter(
    "hashigo_http_requests_total", "HTTP responses by route template and status code",
    ("method", "route", "status"), registry=REGISTRY)
IN_FLIGHT = Gauge("hashigo_http_requests_in_flight", "HTTP requests being served", registry=REGISTRY)
WEBSOCKETS = Gauge("hashigo_websocket_connections", "Open authenticated WebSocket connections", registry=REGISTRY)
WEBSOCKET_EVENTS = Counter(
    "hashigo_websocket_events_total", "Events sent to WebSocket clients, or dropped for a full queue",
    ("outcome",), registry=REGISTRY)
BACKEND_LATENCY = Histogram(
    "hashigo_backend_call_duration_seconds", "Latency of calls to the database, key-value, storage, pub/sub",
    ("backend", "operation"), buckets=_LATENCY_BUCKETS, registry=REGISTRY)
BACKEND_ERRORS = Counter(
    "hashigo_backend_errors_total", "Backend calls that failed (timeouts, refused connections, errors)",
    ("backend", "operation"), registry=REGISTRY)

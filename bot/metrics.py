"""What the conversation side's two servers (Rasa with the channel, the action server) share for
operators: request counts and latencies by route, the correlation id of each request, and the
``/metrics`` answer (docs/metrics.md).

A route is labelled by its template (``conversations/<conversation_id:path>/trigger_intent``), never by
the path a caller sent, so no openid reaches a label and an attacker cannot grow the series; a path no
route matched is ``unmatched``.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from policies.correlation import CORRELATION_HEADER, accepted, correlation_id, new_correlation_id

REQUESTS = Counter(
    "heating_http_requests_total", "Requests answered, by route template and HTTP status", ["route", "method", "status"]
)
DURATION = Histogram(
    "heating_http_request_duration_seconds",
    "Time to answer a request, by route template",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.5, 10.0, 30.0, 60.0),
)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# One line per request (its route's template, status and time) under its correlation id, so that one
# message can be followed through the processes (docs/metrics.md, "Logs"); ACCESS_LOG=0 turns it off.
ACCESS_LOG = os.environ.get("ACCESS_LOG", "1") != "0"
access = logging.getLogger("heating.requests")


def route_of(request: Request) -> str:
    """The template of the route that answered ``request``, or ``unmatched``."""
    route = getattr(request, "route", None)
    path = getattr(route, "path", None)
    return "/" + str(path).lstrip("/") if path is not None else "unmatched"


def instrument(app: Sanic) -> None:
    """Counts and times every request of ``app`` and runs it under its correlation id (the caller's
    ``X-Correlation-ID`` when it is well formed, else a new one), which the answer carries back.
    Registered on the app itself, so Rasa's own routes are counted as well as the channel's; a second
    call changes nothing."""
    if getattr(app.ctx, "instrumented", False):
        return
    app.ctx.instrumented = True

    async def start(request: Request) -> None:
        request.ctx.started = time.perf_counter()
        cid = accepted(request.headers.get(CORRELATION_HEADER)) or new_correlation_id()
        request.ctx.correlation_id = cid
        correlation_id.set(cid)  # each request runs in a task of its own, or after the one before it

    async def finish(request: Request, answer: BaseHTTPResponse) -> None:
        started = getattr(request.ctx, "started", None)
        if started is None:
            return
        method = request.method if request.method in METHODS else "OTHER"
        route = route_of(request)
        seconds = time.perf_counter() - started
        REQUESTS.labels(route, method, str(answer.status)).inc()
        DURATION.labels(route, method).observe(seconds)
        if ACCESS_LOG:
            access.info("%s %s %s %.3f s", method, route, answer.status, seconds)
        if answer.headers is not None:  # the handler may have named the message it handled (the channel)
            answer.headers[CORRELATION_HEADER] = correlation_id.get() or request.ctx.correlation_id

    app.register_middleware(start, "request")
    app.register_middleware(finish, "response")


def metrics_answer(registry: CollectorRegistry = REGISTRY) -> HTTPResponse:
    """The registry in Prometheus's text format."""
    return response.raw(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def correlation_headers() -> dict[str, Any]:
    """The header that passes the current correlation id on to the next process (none outside one)."""
    cid = correlation_id.get()
    return {CORRELATION_HEADER: cid} if cid else {}


_REGISTERED: dict[str, Collector] = {}


def register_once(name: str, collector: Collector, registry: CollectorRegistry = REGISTRY) -> None:
    """``collector`` in the registry under ``name``, in place of the one registered before under that
    name (a process builds its app once; tests build several)."""
    previous = _REGISTERED.pop(name, None)
    if previous is not None:
        registry.unregister(previous)
    registry.register(collector)
    _REGISTERED[name] = collector

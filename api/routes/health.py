"""Probes for the process supervisor and the balancer (docs/metrics.md), and the Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.metrics import readiness

router = APIRouter(tags=["health"])

READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the database answers and its schema is the code's (or a later release's)"},
    503: {"description": "the database is down, or its migration has not reached the code's revision"},
}


@router.get("/health/live", responses={200: {"description": "the process answers"}})
def live() -> JSONResponse:
    """Liveness: the process answers; nothing else is asked."""
    return JSONResponse({"status": "ok"})


@router.get("/health/ready", responses=READY_RESPONSES)
def ready(request: Request) -> JSONResponse:
    """Readiness: 200 when this process can serve, 503 otherwise (the balancer sends it nothing)."""
    state = request.app.state
    found = readiness(state.engine, state.code_revision)
    return JSONResponse({"status": "ok" if found["ready"] else "unavailable", **found}, 200 if found["ready"] else 503)


@router.get("/health", responses=READY_RESPONSES)
def health(request: Request) -> JSONResponse:
    """The readiness probe, under the address the launcher and earlier configurations use."""
    return ready(request)


METRICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus's text exposition format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.get("/metrics", response_class=Response, responses=METRICS_RESPONSES)
async def prometheus_metrics() -> Response:
    """This process's metrics (docs/metrics.md), read from the database in a thread of its own."""
    body = await asyncio.to_thread(generate_latest)
    return Response(body, media_type=CONTENT_TYPE_LATEST)

"""A fake work-order backend for action tests: the real routes' contract, kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web


@dataclass
class FakeBackend:
    """Answers POST /api/v1/work-orders like the backend, including Idempotency-Key."""

    token: str = "test-api-token"
    orders: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer this many requests with 503 first
    response_minutes: int = 30

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v1/work-orders", self.create)
        return app

    async def create(self, request: web.Request) -> web.Response:
        self.requests.append({"headers": dict(request.headers), "body": await request.json()})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"code": "not_authenticated", "message": "no"}, status=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": "internal_error", "message": "down"}, status=503)
        key = request.headers.get("Idempotency-Key")
        if key and key in self.by_key:
            return web.json_response(self.by_key[key], status=200)
        body = self.requests[-1]["body"]
        if body.get("kind") not in {"complaint", "repair", "temperature_test", "business", "consultation"}:
            return web.json_response({"code": "validation_error", "message": "kind", "field": "kind"}, status=422)
        accepted = datetime(2026, 12, 10, 2, 0, tzinfo=timezone.utc)
        due = accepted + timedelta(minutes=self.response_minutes)
        order = {
            **body,
            "id": len(self.orders) + 1,
            "number": f"GD20261210{len(self.orders) + 1:06d}",
            "status": "accepted",
            # the backend (pydantic 2) writes UTC with a "Z" suffix
            "accepted_at": accepted.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "response_due_at": due.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        self.orders.append(order)
        if key:
            self.by_key[key] = order
        return web.json_response(order, status=201)

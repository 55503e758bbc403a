"""A fake work-order backend for action tests: the real routes' contract, kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from heating_standard.orders import Category, is_urgent

ACCEPTED = datetime(2026, 12, 10, 2, 0, tzinfo=timezone.utc)


def utc(moment: datetime) -> str:
    """The backend (pydantic 2) writes UTC with a "Z" suffix."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FakeBackend:
    """Answers the /api/v1 routes the action server uses, like the backend does."""

    token: str = "test-api-token"
    orders: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    residents: dict[str, dict[str, Any]] = field(default_factory=dict)
    grid_workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    outages: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    confirmed_quotes: list[dict[str, Any]] = field(default_factory=list)
    temperature_answers: list[dict[str, Any]] = field(default_factory=list)
    campaign_answers: list[dict[str, Any]] = field(default_factory=list)
    review_reports: list[dict[str, Any]] = field(default_factory=list)
    # one-time grid-worker codes -> the grid worker they bind
    bind_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    bind_status: int = 200  # answer binds with this status instead (404, 409, 429)
    fail_next: int = 0  # answer this many requests with 503 first
    accept_at_most: int | None = None  # once this many orders exist, new ones get 503 (down mid-list)
    response_minutes: int = 30

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/api/v1/work-orders", self.create)
        app.router.add_get("/api/v1/work-orders", self.list_orders)
        app.router.add_post("/api/v1/work-orders/{id}/actions/callback", self.callback)
        app.router.add_post("/api/v1/work-orders/{id}/actions/confirm_quote", self.confirm_quote)
        app.router.add_post("/api/v1/work-orders/{id}/temperature-test/answer", self.answer_temperature_test)
        app.router.add_post("/api/v1/campaign-contacts/{id}/answer", self.answer_campaign)
        app.router.add_post("/api/v1/work-orders/{id}/attachments", self.attach)
        app.router.add_get("/api/v1/residents/{openid}", self.resident)
        app.router.add_get("/api/v1/grid-workers/{openid}", self.grid_worker)
        app.router.add_post("/api/v1/grid-workers/bind", self.bind)
        app.router.add_get("/api/v1/outages", self.list_outages)
        app.router.add_post("/api/v1/handoffs", self.handoff)
        app.router.add_post("/api/v1/review-items", self.review_item)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "query_all": list(request.query.items()),
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"code": "not_authenticated", "message": "no"}, status=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": "internal_error", "message": "down"}, status=503)
        response: web.StreamResponse = await handler(request)
        return response

    async def create(self, request: web.Request) -> web.Response:
        body = self.requests[-1]["body"]
        key = request.headers.get("Idempotency-Key")
        if key and key in self.by_key:
            return web.json_response(self.by_key[key], status=200)
        if self.accept_at_most is not None and len(self.orders) >= self.accept_at_most:
            return web.json_response({"code": "internal_error", "message": "down"}, status=503)
        if body.get("kind") not in {"complaint", "repair", "temperature_test", "business", "consultation"}:
            return web.json_response({"code": "validation_error", "message": "kind", "field": "kind"}, status=422)
        number = len(self.orders) + 1
        leak = body.get("category") == "leak"
        order = {
            **body,
            # the backend decides urgency with the shared rule, whatever the bot sends
            "urgent": is_urgent(Category(body.get("category", "other")), bool(body.get("urgent"))),
            "id": number,
            "number": f"GD20261210{number:06d}",
            "status": "accepted",
            "accepted_at": utc(ACCEPTED),
            "response_due_at": utc(ACCEPTED + timedelta(minutes=self.response_minutes)),
            "handle_due_at": utc(ACCEPTED + timedelta(hours=1)) if leak else None,
            "next_due_at": utc(ACCEPTED + timedelta(minutes=self.response_minutes)),
            # 10.2.4: a visit at the appointed time, or within 30 minutes of acceptance without one
            "arrival_due_at": (body.get("appointment_at") or utc(ACCEPTED + timedelta(minutes=30)))
            if body.get("kind") in ("repair", "temperature_test")
            else None,
            # the sample operator file's promise for a complaint (10.1.4 办结条)
            "completion_due_at": utc(ACCEPTED + timedelta(hours=72)) if body.get("kind") == "complaint" else None,
        }
        self.orders.append(order)
        if key:
            self.by_key[key] = order
        return web.json_response(order, status=201)

    async def bind(self, request: web.Request) -> web.Response:
        body = await request.json()
        worker = self.bind_codes.pop(body["code"], None)
        if self.bind_status != 200 or worker is None:
            status = self.bind_status if self.bind_status != 200 else 404
            return web.json_response({"code": "refused", "message": "no"}, status=status)
        worker = {**worker, "openid": body["openid"]}
        self.grid_workers[body["openid"]] = worker
        return web.json_response(worker)

    async def list_orders(self, request: web.Request) -> web.Response:
        communities = request.query.getall("community", [])
        openid = request.query.get("resident_openid")
        statuses = request.query.getall("status", [])
        items = [
            o
            for o in reversed(self.orders)  # newest first
            if (openid is None or o.get("resident_openid") == openid)
            and (not communities or o.get("community") in communities)
            and (not statuses or o.get("status") in statuses)
        ]
        return web.json_response({"items": items, "total": len(items)})

    async def attach(self, request: web.Request) -> web.Response:
        body = await request.json()
        order_id = int(request.match_info["id"])
        order = next((o for o in self.orders if o["id"] == order_id), None)
        if order is None or order.get("resident_openid") != body.get("resident_openid"):
            # like the backend: the bot touches only the named resident's own order
            return web.json_response({"code": "not_found", "message": "no such order"}, status=404)
        self.attachments.append({"order_id": order_id, **body})
        return web.json_response({"id": len(self.attachments), "action": "attachment"}, status=201)

    async def callback(self, request: web.Request) -> web.Response:
        order_id = int(request.match_info["id"])
        order = next((o for o in self.orders if o["id"] == order_id), None)
        body = self.requests[-1]["body"]
        if order is None or order.get("resident_openid") != body.get("resident_openid"):
            return web.json_response({"code": "not_found", "message": "no order"}, status=404)
        self.callbacks.append({"order_id": order_id, **self.requests[-1]["body"]})
        return web.json_response({**order, "status": "called_back"})

    async def confirm_quote(self, request: web.Request) -> web.Response:
        order_id = int(request.match_info["id"])
        order = next((o for o in self.orders if o["id"] == order_id), None)
        body = self.requests[-1]["body"]
        if order is None or order.get("resident_openid") != body.get("resident_openid"):
            return web.json_response({"code": "not_found", "message": "no order"}, status=404)
        self.confirmed_quotes.append({"order_id": order_id, **body})
        return web.json_response(order)

    async def answer_temperature_test(self, request: web.Request) -> web.Response:
        order_id = int(request.match_info["id"])
        order = next((o for o in self.orders if o["id"] == order_id), None)
        body = self.requests[-1]["body"]
        if order is None or order.get("resident_openid") != body.get("resident_openid"):
            return web.json_response({"code": "not_found", "message": "no order"}, status=404)
        self.temperature_answers.append({"order_id": order_id, **body})
        return web.json_response(order)

    async def answer_campaign(self, request: web.Request) -> web.Response:
        self.campaign_answers.append({"contact_id": int(request.match_info["id"]), **self.requests[-1]["body"]})
        return web.json_response({"id": int(request.match_info["id"])})

    async def resident(self, request: web.Request) -> web.Response:
        found = self.residents.get(request.match_info["openid"])
        if found is None:
            return web.json_response({"code": "not_found", "message": "no resident"}, status=404)
        return web.json_response(found)

    async def grid_worker(self, request: web.Request) -> web.Response:
        found = self.grid_workers.get(request.match_info["openid"])
        if found is None:
            return web.json_response({"code": "not_found", "message": "no grid worker"}, status=404)
        return web.json_response(found)

    async def list_outages(self, request: web.Request) -> web.Response:
        community = request.query.get("community")
        items = [o for o in self.outages if community is None or community in o["communities"]]
        return web.json_response({"items": items})

    async def handoff(self, request: web.Request) -> web.Response:
        body = self.requests[-1]["body"]
        self.handoffs.append(body)
        return web.json_response({"id": len(self.handoffs), "status": "waiting", **body}, status=201)

    async def review_item(self, request: web.Request) -> web.Response:
        body = self.requests[-1]["body"]
        self.review_reports.append(body)
        return web.json_response({"id": len(self.review_reports)})

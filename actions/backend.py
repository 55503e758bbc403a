"""The one typed client through which actions reach the work-order backend.

Creates are safe to retry: each carries an ``Idempotency-Key``, so a retried request,
or a retried conversation turn, returns the order the first attempt made.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.metrics import correlation_headers
from bot.settings import BotSettings, get_settings
from policies.backoff import doubling

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# The longest wait between two tries of one call (API_RETRIES tries, API_BACKOFF_SECONDS doubling).
MAX_BACKEND_WAIT = 30.0


class BackendError(Exception):
    """The backend could not do what was asked."""


class BackendUnavailable(BackendError):
    """The backend did not answer (down, timing out, or failing) after every retry."""


class BackendRejected(BackendError):
    """The backend refused the request (4xx); retrying the same request will not help."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp from the backend; Python 3.10 does not read the "Z" suffix itself."""
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {value}")
    return parsed


@dataclass(frozen=True)
class WorkOrder:
    """The fields of a work order that the conversation uses."""

    id: int
    number: str
    kind: str
    category: str
    status: str
    urgent: bool
    accepted_at: datetime
    response_due_at: datetime | None
    handle_due_at: datetime | None
    next_due_at: datetime | None
    completion_due_at: datetime | None = None
    business_type: str | None = None
    # 10.2.4: a visit comes at the appointed time, or within 30 minutes of acceptance when none was booked
    appointment_at: datetime | None = None
    arrival_due_at: datetime | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> WorkOrder:
        def optional(name: str) -> datetime | None:
            value = body.get(name)
            return parse_timestamp(value) if value else None

        return cls(
            id=int(body["id"]),
            number=str(body["number"]),
            kind=str(body["kind"]),
            category=str(body["category"]),
            status=str(body["status"]),
            urgent=bool(body.get("urgent", False)),
            accepted_at=parse_timestamp(body["accepted_at"]),
            response_due_at=optional("response_due_at"),
            handle_due_at=optional("handle_due_at"),
            next_due_at=optional("next_due_at"),
            completion_due_at=optional("completion_due_at"),
            business_type=body.get("business_type"),
            appointment_at=optional("appointment_at"),
            arrival_due_at=optional("arrival_due_at"),
        )


class BackendClient:
    """HTTP client of the backend's ``/api/v1``, with bounded retries and backoff."""

    def __init__(self, settings: BotSettings):
        self._base = settings.api_url + "/api/v1"
        self._headers = {"Authorization": f"Bearer {settings.api_token}"}
        self._timeout = aiohttp.ClientTimeout(total=settings.api_timeout_seconds)
        self._attempts = max(1, settings.api_retries)
        self._backoff = settings.api_backoff_seconds

    @classmethod
    def from_env(cls) -> BackendClient:
        return cls(get_settings())

    async def create_work_order(self, order: dict[str, Any], idempotency_key: str) -> WorkOrder:
        """File a work order; the same key always yields the same order."""
        body = await self._request("POST", "/work-orders", json=order, headers={"Idempotency-Key": idempotency_key})
        return WorkOrder.from_json(body)

    async def resident(self, openid: str) -> dict[str, Any] | None:
        """Phone and addresses remembered for a WeChat user, or None for a new one."""
        return await self._optional("GET", f"/residents/{quote(openid, safe='')}")

    async def grid_worker(self, openid: str) -> dict[str, Any] | None:
        """The registered grid worker with this openid, or None."""
        return await self._optional("GET", f"/grid-workers/{quote(openid, safe='')}")

    async def bind_grid_worker(self, openid: str, code: str) -> dict[str, Any]:
        """Binds the sender to the grid worker whose one-time code they sent (11.4). A wrong code is a
        BackendRejected 404, too many wrong codes a 429 (not retried: each retry would be refused too)."""
        return await self._request(
            "POST", "/grid-workers/bind", json={"openid": openid, "code": code}, retry_on=RETRYABLE_STATUS - {429}
        )

    async def work_orders(self, **filters: Any) -> list[dict[str, Any]]:
        """Orders by resident_openid, community, status ... newest first."""
        body = await self._request("GET", "/work-orders", params=_query(filters))
        return list(body.get("items", []))

    async def attach(self, order_id: int, resident_openid: str, url: str, media_id: str | None) -> dict[str, Any]:
        """Keeps a photo the resident sent on their own order's audit trail (the backend checks it is theirs)."""
        body = {
            "kind": "image",
            "url": url,
            "media_id": media_id,
            "note": "住户通过微信发送的图片",
            "resident_openid": resident_openid,
        }
        return await self._request("POST", f"/work-orders/{order_id}/attachments", json=body)

    async def active_outages(self, community: str | None = None) -> list[dict[str, Any]]:
        body = await self._request("GET", "/outages", params=_query({"community": community}))
        return list(body.get("items", []))

    async def open_handoff(self, openid: str, reason: str, summary: str) -> dict[str, Any]:
        return await self._request(
            "POST", "/handoffs", json={"resident_openid": openid, "reason": reason, "summary": summary[:4000]}
        )

    async def record_callback(
        self, order_id: int, resident_openid: str, process_satisfied: bool, result_satisfied: bool
    ) -> dict[str, Any]:
        """The call-back survey's answers, through WeChat (10.1.6, 14.4.4, 14.4.5), for the resident's own
        order: the backend refuses another resident's."""
        return await self._request(
            "POST",
            f"/work-orders/{order_id}/actions/callback",
            json={
                "method": "wechat",
                "process_satisfied": process_satisfied,
                "result_satisfied": result_satisfied,
                "resident_openid": resident_openid,
            },
        )

    async def confirm_quote(self, order_id: int, resident_openid: str) -> dict[str, Any]:
        """The resident confirms the paid repair's quote (10.2.2); the backend refuses another resident's order."""
        return await self._request(
            "POST",
            f"/work-orders/{order_id}/actions/confirm_quote",
            json={"resident_openid": resident_openid, "note": "住户在微信中确认报价"},
        )

    async def answer_temperature_test(self, order_id: int, resident_openid: str, confirmed: bool) -> dict[str, Any]:
        """The resident confirms or disputes a temperature test's result (10.3 第1条 a, b); the backend records
        it once, for the order's own resident only."""
        return await self._request(
            "POST",
            f"/work-orders/{order_id}/temperature-test/answer",
            json={"resident_openid": resident_openid, "confirmed": confirmed},
        )

    async def answer_campaign(self, contact_id: int, resident_openid: str, rating: str) -> dict[str, Any]:
        """The resident's answer to a call-back (10.1.8) or the yearly survey (14.3.2 e); recorded once, for the
        contact's own resident."""
        return await self._request(
            "POST",
            f"/campaign-contacts/{contact_id}/answer",
            json={"resident_openid": resident_openid, "rating": rating},
        )

    async def report_for_review(self, report: dict[str, Any]) -> dict[str, Any]:
        """A message the bot was unsure of, for the review queue (actions/review.py); the backend redacts it
        before keeping it and keeps a message reported twice once."""
        return await self._request("POST", "/review-items", json=report)

    async def _optional(self, method: str, path: str) -> dict[str, Any] | None:
        try:
            return await self._request(method, path)
        except BackendRejected as exc:
            if exc.status == 404:
                return None
            raise

    async def _request(
        self, method: str, path: str, retry_on: frozenset[int] | set[int] = RETRYABLE_STATUS, **kwargs: Any
    ) -> dict[str, Any]:
        headers = {**self._headers, **correlation_headers(), **kwargs.pop("headers", {})}
        last_problem = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            try:
                async with (
                    aiohttp.ClientSession(timeout=self._timeout) as session,
                    session.request(method, self._base + path, headers=headers, **kwargs) as resp,
                ):
                    if resp.status < 400:
                        result: dict[str, Any] = await resp.json()
                        return result
                    payload = await _json_or_empty(resp)
                    if resp.status not in retry_on:
                        raise BackendRejected(
                            resp.status, str(payload.get("code", "error")), str(payload.get("message", ""))
                        )
                    last_problem = f"HTTP {resp.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            log.warning("backend %s %s failed (attempt %d/%d): %s", method, path, attempt, self._attempts, last_problem)
            if attempt < self._attempts:
                await asyncio.sleep(doubling(attempt - 1, base=self._backoff, cap=MAX_BACKEND_WAIT))
        raise BackendUnavailable(f"{method} {path}: {last_problem}")


def _query(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """Query parameters without the unset ones; lists repeat the key."""
    pairs: list[tuple[str, str]] = []
    for key, value in filters.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return pairs


async def _json_or_empty(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        payload = await resp.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return payload if isinstance(payload, dict) else {}

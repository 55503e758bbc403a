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

import aiohttp

from bot.settings import BotSettings, get_settings

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


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

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> WorkOrder:
        due = body.get("response_due_at")
        return cls(
            id=int(body["id"]),
            number=str(body["number"]),
            kind=str(body["kind"]),
            category=str(body["category"]),
            status=str(body["status"]),
            urgent=bool(body.get("urgent", False)),
            accepted_at=parse_timestamp(body["accepted_at"]),
            response_due_at=parse_timestamp(due) if due else None,
        )


class BackendClient:
    """HTTP client of the backend's ``/api/v1``, with bounded retries and backoff."""

    def __init__(self, settings: BotSettings, backoff_seconds: float = 0.5):
        self._base = settings.api_url + "/api/v1"
        self._headers = {"Authorization": f"Bearer {settings.api_token}"}
        self._timeout = aiohttp.ClientTimeout(total=settings.api_timeout_seconds)
        self._attempts = max(1, settings.api_retries)
        self._backoff = backoff_seconds

    @classmethod
    def from_env(cls) -> BackendClient:
        return cls(get_settings())

    async def create_work_order(self, order: dict[str, Any], idempotency_key: str) -> WorkOrder:
        """File a work order; the same key always yields the same order."""
        body = await self._request("POST", "/work-orders", json=order, headers={"Idempotency-Key": idempotency_key})
        return WorkOrder.from_json(body)

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {**self._headers, **kwargs.pop("headers", {})}
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
                    if resp.status not in RETRYABLE_STATUS:
                        raise BackendRejected(
                            resp.status, str(payload.get("code", "error")), str(payload.get("message", ""))
                        )
                    last_problem = f"HTTP {resp.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            log.warning("backend %s %s failed (attempt %d/%d): %s", method, path, attempt, self._attempts, last_problem)
            if attempt < self._attempts:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        raise BackendUnavailable(f"{method} {path}: {last_problem}")


async def _json_or_empty(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        payload = await resp.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return payload if isinstance(payload, dict) else {}

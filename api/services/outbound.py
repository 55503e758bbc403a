"""Outbound HTTP of the backend: the staff notifier webhook and the bot (Rasa's HTTP API).

Both are built from settings by the app factory; tests hand in clients on fake transports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The receiver did not take the message; it stays queued and is tried again."""


@dataclass
class WebhookNotifier:
    """POSTs staff notifications as JSON to the operator's webhook (NOTIFIER_WEBHOOK_URL)."""

    url: str | None
    client: httpx.Client

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, payload: dict[str, Any]) -> None:
        if not self.url:
            raise DeliveryFailed("no notifier webhook configured")
        try:
            resp = self.client.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        if resp.status_code >= 300:
            raise DeliveryFailed(f"HTTP {resp.status_code}")


# The input channel whose output the bot's proactive messages take: the WeChat channel, whose outbox
# sends them through the customer-service API (or a template) and keeps what it cannot send for staff.
WECHAT_CHANNEL = "wechat"


@dataclass
class BotClient:
    """Asks the bot to speak to a resident, or resumes a paused conversation (Rasa HTTP API)."""

    rasa_url: str
    token: str
    client: httpx.Client
    output_channel: str = WECHAT_CHANNEL

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        """One request to the Rasa server (its API, or the WeChat channel's staff endpoints)."""
        try:
            resp = self.client.request(method, f"{self.rasa_url.rstrip('/')}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{what} unreachable: {type(exc).__name__}: {exc}") from None
        if resp.status_code >= 300:
            raise DeliveryFailed(f"{what} answered HTTP {resp.status_code}: {resp.text[:200]}")
        return resp

    def _post(self, path: str, body: Any, params: dict[str, str] | None = None) -> httpx.Response:
        return self._call("POST", path, "Rasa", json=body, params={**(params or {}), "token": self.token})

    def _channel(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        """The WeChat channel's staff endpoints, with the Rasa token as a bearer token."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return self._call(
            method, f"/webhooks/{self.output_channel}/{endpoint}", "the WeChat channel", headers=headers, **kwargs
        )

    def trigger_intent(self, sender_id: str, intent: str, entities: dict[str, Any]) -> None:
        """POST /conversations/{id}/trigger_intent?output_channel=wechat: the bot speaks first.

        The WeChat channel is named, not "latest": a resident who has never written has no latest
        channel, and Rasa would then return the text in its HTTP answer, where nobody reads it. Messages
        that still come back that way were not sent, and count as a failed delivery.
        """
        resp = self._post(
            f"/conversations/{quote(sender_id, safe='')}/trigger_intent",
            {"name": intent, "entities": entities},
            {"output_channel": self.output_channel},
        )
        try:
            answer = resp.json()
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("messages"):
            raise DeliveryFailed(f"Rasa returned the messages instead of sending them through {self.output_channel}")

    def active_loop(self, sender_id: str) -> tuple[str | None, float | None]:
        """The form the resident is in the middle of (Rasa's active loop: a filing, a survey), if any, and
        when the conversation last moved (GET /conversations/{id}/tracker?include_events=NONE)."""
        path = f"/conversations/{quote(sender_id, safe='')}/tracker"
        answer = self._call("GET", path, "Rasa", params={"include_events": "NONE", "token": self.token}).json()
        loop = (answer.get("active_loop") or {}).get("name") if isinstance(answer, dict) else None
        latest = answer.get("latest_event_time") if isinstance(answer, dict) else None
        return (str(loop) if loop else None), (float(latest) if isinstance(latest, (int, float)) else None)

    def end_loop(self, sender_id: str) -> None:
        """End a form the resident left half-done (Rasa's ``action_deactivate_loop``; it says nothing)."""
        self._post(
            f"/conversations/{quote(sender_id, safe='')}/execute",
            {"name": "action_deactivate_loop"},
            {"output_channel": self.output_channel},
        )

    def transcript(self, sender_id: str) -> list[dict[str, Any]]:
        """Every event of the conversation (GET /conversations/{id}/tracker?include_events=ALL)."""
        path = f"/conversations/{quote(sender_id, safe='')}/tracker"
        resp = self._call("GET", path, "Rasa", params={"include_events": "ALL", "token": self.token})
        events = resp.json().get("events") or []
        return [e for e in events if isinstance(e, dict)]

    def send_as_staff(self, sender_id: str, text: str, staff: str, at: float) -> dict[str, Any]:
        """A staff member's message to the resident: sent by the WeChat channel's outbox, then written into
        the conversation as a bot event marked ``from: staff``, so the transcript stays whole.
        Returns the channel's outbox row (its delivery state)."""
        resp = self._channel("POST", "send", json={"openid": sender_id, "text": text})
        messages = resp.json().get("messages") or [{}]
        sent = dict(messages[0])
        event = {
            "event": "bot",
            "text": text,
            "timestamp": at,
            "metadata": {"from": "staff", "staff": staff, "outbox_id": sent.get("id")},
        }
        self._post(f"/conversations/{quote(sender_id, safe='')}/tracker/events", [event])
        return sent

    def outbox(self, sender_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One read of the channel's outbox for a resident: their outbox rows, newest first (with the
        delivery states), and what is left of their 48-hour window and 5-message quota (None: never
        heard from)."""
        answer = self._channel("GET", "outbox", params={"openid": sender_id}).json()
        answer = answer if isinstance(answer, dict) else {}
        rows = [m for m in answer.get("messages") or [] if isinstance(m, dict)]
        window = answer.get("window")
        return rows, window if isinstance(window, dict) else None

    def last_written(self, sender_ids: list[str]) -> dict[str, float]:
        """When each of these residents last wrote, as the WeChat channel saw it (Unix times; residents
        never heard from are left out). DeliveryFailed when the channel cannot be asked."""
        if not sender_ids:
            return {}
        answer = self._channel("GET", "last-written", params=[("openid", s) for s in sender_ids[:50]]).json()
        found = answer.get("last_written") if isinstance(answer, dict) else None
        if not isinstance(found, dict):
            return {}
        return {str(k): float(v) for k, v in found.items() if isinstance(v, int | float)}

    def answered(self, sender_id: str, message_id: str) -> bool:
        """Whether the WeChat channel sent out its answer to the resident's message ``message_id`` (in the
        push's reply, or through its outbox). DeliveryFailed when the channel cannot be asked."""
        params = {"openid": sender_id, "message_id": message_id}
        answer = self._channel("GET", "answered", params=params).json()
        return isinstance(answer, dict) and answer.get("answered") is True

    def media(self, media_id: str) -> tuple[bytes, str] | None:
        """A resident's photo as the WeChat channel keeps it; None when the platform no longer has it
        (404). DeliveryFailed when the channel or the platform is down."""
        path = f"/webhooks/{self.output_channel}/media/{quote(media_id, safe='')}"
        try:
            resp = self.client.get(
                f"{self.rasa_url.rstrip('/')}{path}", headers={"Authorization": f"Bearer {self.token}"}
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the WeChat channel unreachable: {type(exc).__name__}: {exc}") from None
        if resp.status_code == 404:
            return None
        if resp.status_code >= 300:
            raise DeliveryFailed(f"the WeChat channel answered HTTP {resp.status_code}: {resp.text[:200]}")
        return resp.content, resp.headers.get("Content-Type", "application/octet-stream").split(";")[0]

    def followers(self) -> int:
        """How many follow the account (the platform's count, through the WeChat channel). DeliveryFailed
        when it cannot say now."""
        answer = self._channel("GET", "followers").json()
        total = answer.get("total") if isinstance(answer, dict) else None
        if not isinstance(total, int):
            raise DeliveryFailed("the WeChat channel gave no follower count")
        return total

    def announce(self, key: str, text: str) -> dict[str, Any]:
        """An announcement to every follower by the platform's mass-send, at most once per ``key``: the
        channel's record of it (``status`` sent with ``msg_id``, refused with ``errcode``, or unknown).
        DeliveryFailed when the channel or the platform did not take it (nothing was sent: try later)."""
        path = f"{self.rasa_url.rstrip('/')}/webhooks/{self.output_channel}/announcements"
        try:
            resp = self.client.post(
                path, json={"key": key, "text": text}, headers={"Authorization": f"Bearer {self.token}"}
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the WeChat channel unreachable: {type(exc).__name__}: {exc}") from None
        if resp.status_code in (200, 201, 409) or (resp.status_code == 422 and "errcode" in resp.text):
            answer = resp.json()
            if isinstance(answer, dict) and answer.get("status") in ("sent", "unknown", "refused"):
                return answer
        raise DeliveryFailed(f"the WeChat channel answered HTTP {resp.status_code}: {resp.text[:200]}")

    def resume(self, sender_id: str) -> None:
        """The bot answers again, in a new session: ConversationResumed, then SessionStarted and
        action_listen, as Rasa's own action_session_start does. Without the new session the policies
        would predict from the chat with staff (the request for a person, messages read while paused)
        and answer the resident's next question as a misunderstanding. The transcript keeps every event."""
        events = [
            {"event": "resume"},
            {"event": "session_started"},
            {"event": "action", "name": "action_listen"},
        ]
        self._post(f"/conversations/{quote(sender_id, safe='')}/tracker/events", events)

    def forget(self, sender_id: str, media_ids: list[str]) -> dict[str, Any]:
        """A resident's erasure (12.1) on the conversation side: the WeChat channel, inside the Rasa
        server, deletes the conversation from the tracker store and drops their messages, window and
        photos (Rasa's own API cannot delete a conversation)."""
        removed = self._channel("POST", "forget", json={"openid": sender_id, "media_ids": media_ids}).json()
        return removed if isinstance(removed, dict) else {}

    def prune(self, before: datetime) -> dict[str, Any]:
        """Everything the conversation side keeps from before ``before``: the retention period (12.1)."""
        removed = self._channel("POST", "prune", json={"before": before.timestamp()}).json()
        return removed if isinstance(removed, dict) else {}

    def figures(self, first: date, last: date) -> list[dict[str, Any]]:
        """The bot's own figures per Beijing day, counted by the WeChat channel from the conversations."""
        answer = self._channel("GET", "figures", params={"first": first.isoformat(), "last": last.isoformat()})
        try:
            body = answer.json()
        except ValueError:
            raise DeliveryFailed("the WeChat channel answered something other than JSON") from None
        days = body.get("days") if isinstance(body, dict) else None
        return [d for d in days if isinstance(d, dict)] if isinstance(days, list) else []

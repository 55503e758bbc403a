"""The channel's endpoints for the backend, beside the platform's webhook (under /webhooks/wechat): the outbox
and a resident's window, when residents last wrote, whether an answer went out, a resident's photo,
erasure and pruning (12.1), the bot's daily figures, and a staff member's message. Every one needs the
admin token (``Authorization: Bearer``); the platform's own routes are in ``channels/wechat.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date
from functools import partial, wraps
from typing import Any, Protocol

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import bearer_matches
from channels.announcements import MAX_TEXT_CHARS, MassSender
from channels.delivery import Outbox, PlatformUnavailable
from channels.erasure import StoreCannotErase, erase_conversation, prune_conversations
from channels.figures import COUNTING as FIGURE_COUNTING
from channels.figures import FIRST_YEAR as FIRST_FIGURE_YEAR
from channels.figures import LAST_YEAR as LAST_FIGURE_YEAR
from channels.figures import MAX_DAYS as MAX_FIGURE_DAYS
from channels.figures import daily_figures
from channels.ordering import ResidentQueue, place

# The most residents one look at when they last wrote may name (the chats a member of staff holds).
LAST_WRITTEN_MAX = 50
# An announcement's key, as the backend makes it.
MAX_KEY_CHARS = 120
# The most photos one erasure names.
MAX_ERASED_MEDIA = 1000
# An openid is 28 characters on the platform; the backend stores at most 64.
MAX_OPENID_CHARS = 64

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


class Channel(Protocol):
    """What the endpoints use of the channel (``channels.wechat.WeChatWebhook``)."""

    outbox: Outbox
    queue: ResidentQueue
    announcements: MassSender

    def clock(self) -> float: ...

    async def fetch_media(self, media_id: str) -> tuple[bytes, str] | None: ...

    async def send_for_staff(self, openid: str, text: str) -> list[dict[str, Any]]: ...


def refused(detail: str, status: int) -> HTTPResponse:
    return response.json({"detail": detail}, status=status)


def json_body(request: Request) -> dict[str, Any]:
    return request.json if isinstance(request.json, dict) else {}


def conversation_store(request: Request) -> Any:
    """The Rasa agent's tracker store, or None before the model is loaded."""
    agent = getattr(request.app.ctx, "agent", None)
    return None if agent is None else agent.tracker_store


class InternalEndpoints:
    """The backend's endpoints of one channel, added to the channel's blueprint by ``install``."""

    def __init__(self, channel: Channel, admin_token: str):
        self.channel = channel
        self.admin_token = admin_token

    def install(self, blueprint: Blueprint) -> None:
        for uri, method, handler in (
            ("/outbox", "GET", self.outbox),
            ("/last-written", "GET", self.last_written),
            ("/answered", "GET", self.answered),
            ("/media/<media_id>", "GET", self.media),
            ("/forget", "POST", self.forget),
            ("/prune", "POST", self.prune),
            ("/figures", "GET", self.figures),
            ("/send", "POST", self.send),
            ("/followers", "GET", self.followers),
            ("/announcements", "POST", self.announce),
        ):
            blueprint.add_route(self.guarded(handler), uri, methods=[method], name=handler.__name__)

    def guarded(self, handler: Handler) -> Handler:
        """The handler, for callers with the admin token only (401 otherwise)."""

        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            if not bearer_matches(request.headers.get("Authorization", ""), self.admin_token):
                return refused("a valid bearer token is required", 401)
            return await handler(request, *args, **kwargs)

        return guarded

    async def outbox(self, request: Request) -> HTTPResponse:
        """Outbound messages by status (``?status=undelivered``, ``&openid=``) for staff, with the resident's
        window when one resident is named."""
        status = request.args.get("status") or None
        openid = request.args.get("openid") or None
        rows = await asyncio.to_thread(self.channel.outbox.list, status, openid)
        answer: dict[str, Any] = {"messages": [row.__dict__ for row in rows]}
        if openid:
            answer["window"] = await asyncio.to_thread(self.channel.outbox.window, openid)
        return response.json(answer)

    async def last_written(self, request: Request) -> HTTPResponse:
        """When each resident named (``?openid=…``, repeated, at most 50) last wrote: the console's top bar
        tells an agent that a resident wrote in a chat they hold."""
        openids = [o for o in request.args.getlist("openid") if o][:LAST_WRITTEN_MAX]
        found = await asyncio.to_thread(self.channel.outbox.last_written, openids)
        return response.json({"last_written": found})

    async def answered(self, request: Request) -> HTTPResponse:
        """Whether the answer to a resident's message (``?openid=&message_id=``, Rasa's message id) went
        out: in its push's reply, or kept in the outbox. The backend asks before it tells a resident a
        filed order's number again."""
        openid, key = request.args.get("openid") or "", request.args.get("message_id") or ""
        if not openid or not key:
            return refused("openid and message_id are required", 400)
        how = await asyncio.to_thread(self.channel.outbox.was_answered, openid, key)
        return response.json({"answered": how is not None, "how": how})

    async def media(self, _request: Request, media_id: str) -> HTTPResponse:
        """A resident's photo for the backend, which keeps it with the order."""
        try:
            found = await self.channel.fetch_media(media_id)
        except ValueError:
            return refused("not a media id", 404)
        except PlatformUnavailable as exc:
            return refused(f"the platform is unavailable: {exc}", 503)
        if found is None:
            return refused("the platform has no such media (expired after 3 days?)", 404)
        body, content_type = found
        return response.raw(body, content_type=content_type, headers={"X-Content-Type-Options": "nosniff"})

    async def forget(self, request: Request) -> HTTPResponse:
        """A resident's erasure (12.1), asked by the backend: their conversation, outbox, window and the
        photos it names."""
        body = json_body(request)
        openid = str(body.get("openid") or "")
        media_ids = [str(m) for m in body.get("media_ids") or [] if isinstance(m, str)][:MAX_ERASED_MEDIA]
        if not openid or len(openid) > MAX_OPENID_CHARS:
            return refused("openid is required", 422)
        # as a turn of the resident's: no turn of theirs (a kept one run again) writes while erasing
        async with self.channel.queue.turn(openid, place(int(self.channel.clock()), 0, f"erase:{openid}")):
            return await self.erasing(
                request,
                lambda store: erase_conversation(store, openid),
                lambda: self.channel.outbox.forget(openid, media_ids),
            )

    async def prune(self, request: Request) -> HTTPResponse:
        """Everything older than ``before`` (a Unix time), asked by the backend's scheduler once the
        operator file's retention period has passed (12.1)."""
        before = json_body(request).get("before")
        if not isinstance(before, (int, float)) or isinstance(before, bool) or before > self.channel.clock():
            return refused("before is a Unix time in the past", 422)
        return await self.erasing(
            request,
            lambda store: prune_conversations(store, float(before)),
            lambda: self.channel.outbox.prune(float(before)),
        )

    async def erasing(
        self, request: Request, in_store: Callable[[Any], int], in_outbox: Callable[[], dict[str, int]]
    ) -> HTTPResponse:
        """Erase from the tracker store, then from the outbox; 503 before the model is loaded, 501
        for a store this product does not erase from (nothing is erased then)."""
        store = conversation_store(request)
        if store is None:
            return refused("the conversation store is not loaded yet", 503)
        try:
            events = await asyncio.to_thread(in_store, store)
        except StoreCannotErase as exc:
            return refused(str(exc), 501)
        removed = await asyncio.to_thread(in_outbox)
        return response.json({**removed, "events": events})

    async def figures(self, request: Request) -> HTTPResponse:
        """The bot's own figures per Beijing day, ``?first=&last=`` (ISO dates), counted from the
        conversations (channels/figures.py), for the backend."""
        try:
            first = date.fromisoformat(request.args.get("first", ""))
            last = date.fromisoformat(request.args.get("last", ""))
        except ValueError:
            return refused("first and last are ISO dates", 422)
        if not 0 <= (last - first).days < MAX_FIGURE_DAYS:
            return refused(f"first to last is 1 to {MAX_FIGURE_DAYS} days", 422)
        if not FIRST_FIGURE_YEAR <= first.year <= last.year <= LAST_FIGURE_YEAR:
            return refused("the days are outside the years counted", 422)
        store = conversation_store(request)
        if store is None:
            return refused("the conversation store is not loaded yet", 503)
        try:
            count = partial(daily_figures, store, first, last)
            days = await asyncio.get_running_loop().run_in_executor(FIGURE_COUNTING, count)
        except StoreCannotErase as exc:
            return refused(str(exc), 501)
        return response.json({"days": days})

    async def followers(self, _request: Request) -> HTTPResponse:
        """How many follow the account (the platform's count): an announcement's recipients."""
        try:
            total = await self.channel.announcements.followers()
        except PlatformUnavailable as exc:
            return refused(f"the platform cannot say now: {exc}", 503)
        return response.json({"total": total})

    async def announce(self, request: Request) -> HTTPResponse:
        """An announcement to every follower by the platform's mass-send, at most once per ``key``
        (``channels.announcements``): 201 sent (``msg_id``), 200 the same key again, 409 unknown (a person
        checks the platform's record), 422 refused by the platform (its ``errcode``: 45028, the month's four
        are spent), 503 the platform did not get it (try later)."""
        body = json_body(request)
        key, text = str(body.get("key") or ""), str(body.get("text") or "").strip()
        if not key or len(key) > MAX_KEY_CHARS or not text or len(text) > MAX_TEXT_CHARS:
            return refused(f"a key (at most {MAX_KEY_CHARS}) and a text (at most {MAX_TEXT_CHARS}) are needed", 422)
        try:
            result = await self.channel.announcements.send(key, text)
        except PlatformUnavailable as exc:
            return refused(f"the platform did not take it: {exc}", 503)
        status = {"sent": 201, "unknown": 409, "refused": 422}[result.status]
        return response.json(result.__dict__, status=status)

    async def send(self, request: Request) -> HTTPResponse:
        """A staff member's message to a resident (the backend's handoff chat); answers the outbox rows
        with their delivery state."""
        body = json_body(request)
        try:
            sent = await self.channel.send_for_staff(str(body.get("openid") or ""), str(body.get("text") or ""))
        except ValueError as exc:
            return refused(str(exc), 422)
        return response.json({"messages": sent}, status=201)

"""Messages the bot sends outside a passive reply: the customer-service API, its quota, the outbox.

Every outbound message is first written to the outbox, then delivered:

1. through the customer-service message API while the resident's 48-hour window is open and fewer
   than 5 messages were pushed since their last message (the platform's quota; reserved with one
   conditional UPDATE, so processes never overspend it);
2. otherwise through a template message when ``WECHAT_TEMPLATE_ID`` is configured;
3. otherwise it is recorded as ``undelivered`` for staff, with the reason.

A platform that is down leaves the message ``pending``; the retry loop tries again with backoff.
Nothing is dropped silently. The platform API is called with aiohttp (wechatpy's client blocks).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot.loops import every
from bot.stores import make_engine, require_current
from channels.held import held_table
from channels.metrics import PUSH_REFUSALS
from channels.state import State, wait_for_value
from policies.backoff import doubling
from policies.wechat import OUTSIDE_WINDOW_ERROR, QUOTA_ERRORS, QUOTA_MESSAGES, WINDOW_SECONDS

log = logging.getLogger(__name__)

# Platform error codes: the window closed or the quota is used up; the access token is bad.
TOKEN_ERRORS = {40001, 40014, 42001}
# A resident's photo is fetched when it arrives (the platform keeps it 3 days) and kept here.
MAX_MEDIA_BYTES = 10 * 1024 * 1024


class PlatformUnavailable(Exception):
    """The platform API could not be reached or is busy; try again later. ``reached``: the request may
    have got to the platform (a timeout, an HTTP 5xx, an unreadable answer), so what it asked for may have
    happened; False when it surely did not (no connection, or the platform answered "busy")."""

    def __init__(self, detail: str, reached: bool = True) -> None:
        super().__init__(detail)
        self.reached = reached


class PlatformClient:
    """The few platform API calls the channel makes, against a configurable base URL."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session().request(method, f"{self.base_url}{path}", **kwargs) as response:
                if response.status >= 500:
                    raise PlatformUnavailable(f"{path}: HTTP {response.status}")
                result = json.loads(await response.text() or "{}")
        except aiohttp.ClientConnectorError as exc:
            raise PlatformUnavailable(f"{path}: {exc!r}", reached=False) from None
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as exc:
            raise PlatformUnavailable(f"{path}: {exc!r}") from None
        if result.get("errcode") == -1:  # "system busy": nothing was done
            raise PlatformUnavailable(f"{path}: platform busy", reached=False)
        return dict(result)

    async def fetch_token(self, app_id: str, secret: str) -> tuple[str, int]:
        result = await self.call(
            "GET", "/cgi-bin/token", params={"grant_type": "client_credential", "appid": app_id, "secret": secret}
        )
        if "access_token" not in result:
            raise PlatformUnavailable(f"no access token: errcode {result.get('errcode')} {result.get('errmsg', '')}")
        return str(result["access_token"]), int(result.get("expires_in") or 7200)

    async def get_media(self, token: str, media_id: str) -> tuple[bytes, str] | dict[str, Any]:
        """Temporary media (a resident's photo): its bytes and content type, or the platform's JSON error."""
        try:
            async with self.session().get(
                f"{self.base_url}/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}
            ) as response:
                if response.status >= 500:
                    raise PlatformUnavailable(f"/cgi-bin/media/get: HTTP {response.status}")
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                body = await response.content.read(MAX_MEDIA_BYTES + 1)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise PlatformUnavailable(f"/cgi-bin/media/get: {exc!r}") from None
        if content_type in ("application/json", "text/plain"):
            try:
                error = json.loads(body or b"{}")
            except json.JSONDecodeError:
                raise PlatformUnavailable("/cgi-bin/media/get: unreadable answer") from None
            if error.get("errcode") == -1:
                raise PlatformUnavailable("/cgi-bin/media/get: platform busy")
            return dict(error)
        if len(body) > MAX_MEDIA_BYTES:
            return {"errcode": 40006, "errmsg": f"media larger than {MAX_MEDIA_BYTES} bytes"}
        return body, content_type or "application/octet-stream"

    async def post(self, path: str, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return await self.call("POST", path, params={"access_token": token}, data=body, headers=headers)


class TokenCache:
    """One access token for all processes: cached in the shared state, refreshed by one of them.

    The refresh is guarded by a short lock key; the others wait for the new token instead of
    fetching their own (each fetch invalidates the previous token on the real platform).
    """

    def __init__(self, state: State, client: PlatformClient, app_id: str, secret: str) -> None:
        self.state, self.client, self.app_id, self.secret = state, client, app_id, secret
        self.key = f"token:{app_id}"
        self.lock_key = f"token-lock:{app_id}"

    async def get(self) -> str:
        for _ in range(3):
            token = await self.state.get(self.key)
            if token:
                return str(token)
            if await self.state.add(self.lock_key, 1, ttl=15):
                try:
                    # Another process may have stored a new token between our read and our lock: a second
                    # fetch would invalidate the token it has just handed out.
                    token = await self.state.get(self.key)
                    if token:
                        return str(token)
                    token, expires_in = await self.client.fetch_token(self.app_id, self.secret)
                    await self.state.set(self.key, token, ttl=max(60, expires_in - 300))
                    return token
                finally:
                    await self.state.delete(self.lock_key)
            token = await wait_for_value(self.state, self.key, time.monotonic() + 15)
            if token:
                return str(token)
        raise PlatformUnavailable("no access token: the refresh did not finish")

    async def invalidate(self, token: str) -> None:
        """Forget ``token`` after the platform refused it, unless another process replaced it already."""
        if await self.state.get(self.key) == token:
            await self.state.delete(self.key)


metadata = sa.MetaData()
outbox_table = sa.Table(
    "wechat_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("openid", sa.String(64), nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending, sent, undelivered
    sa.Column("via", sa.String(16)),  # custom, template
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("claimed_until", sa.Float, nullable=False, default=0.0),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # "<the backend's notification key>#<part>": a hand-over made again is not sent again (c002)
    sa.Column("handover_key", sa.String(120), unique=True),
)
contacts_table = sa.Table(
    "wechat_contacts",
    metadata,
    sa.Column("openid", sa.String(64), primary_key=True),
    sa.Column("last_inbound_at", sa.Float, nullable=False),
    sa.Column("pushes", sa.Integer, nullable=False, default=0),
    sa.Column("subscribed", sa.Boolean, nullable=False, default=True),
)


# The turns answered in the push's reply, recorded once the reply is written (c004): what the backend
# asks before it tells a resident an order's number again (``Outbox.was_answered``).
answered_table = sa.Table(
    "wechat_answered",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),  # the push's key: Rasa's message id
    sa.Column("openid", sa.String(64), nullable=False, index=True),
    sa.Column("answered_at", sa.Float, nullable=False, index=True),
)


media_table = sa.Table(
    "wechat_media",
    metadata,
    sa.Column("media_id", sa.String(128), primary_key=True),
    sa.Column("content_type", sa.String(64), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("fetched_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    openid: str
    text: str
    status: str
    via: str | None
    attempts: int
    last_error: str | None
    created_at: float


class Outbox:
    """The outbox and the per-resident quota, in SQLite by default or PostgreSQL (SQLAlchemy Core)."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self.engine = make_engine(url)
        require_current("channel", self.engine)  # the schema comes from bot/migrations/channel
        self.clock = clock

    # residents' windows -------------------------------------------------------------------
    def inbound(self, openid: str, subscribed: bool = True) -> None:
        """A message from the resident opens a new 48-hour window with a fresh quota."""
        now = self.clock()
        window = contacts_table.update().where(contacts_table.c.openid == openid)
        window = window.values(last_inbound_at=now, pushes=0, subscribed=subscribed)
        with self.engine.begin() as db:
            if db.execute(window).rowcount:
                return
            try:
                with db.begin_nested():
                    db.execute(
                        contacts_table.insert().values(
                            openid=openid, last_inbound_at=now, pushes=0, subscribed=subscribed
                        )
                    )
            except sa.exc.IntegrityError:  # another process inserted it first
                db.execute(window)

    def unsubscribed(self, openid: str) -> None:
        self.inbound(openid, subscribed=False)

    def is_unsubscribed(self, openid: str) -> bool:
        with self.engine.connect() as db:
            row = db.execute(sa.select(contacts_table.c.subscribed).where(contacts_table.c.openid == openid)).first()
        return row is not None and not row.subscribed

    def reserve_push(self, openid: str) -> bool:
        """Takes one of the window's 5 pushes; False when the window is closed or the quota used."""
        now = self.clock()
        with self.engine.begin() as db:
            return bool(
                db.execute(
                    contacts_table.update()
                    .where(
                        contacts_table.c.openid == openid,
                        contacts_table.c.subscribed.is_(True),
                        contacts_table.c.pushes < QUOTA_MESSAGES,
                        contacts_table.c.last_inbound_at >= now - WINDOW_SECONDS,
                    )
                    .values(pushes=contacts_table.c.pushes + 1)
                ).rowcount
            )

    def window(self, openid: str) -> dict[str, Any] | None:
        """What is left of the resident's customer-service window: when it closes and how many of its 5
        pushes remain (0 once closed, unsubscribed or used up). None for a resident never heard from."""
        with self.engine.connect() as db:
            row = db.execute(sa.select(contacts_table).where(contacts_table.c.openid == openid)).first()
        if row is None:
            return None
        closes_at = row.last_inbound_at + WINDOW_SECONDS
        is_open = bool(row.subscribed) and closes_at > self.clock()
        return {
            "last_inbound_at": row.last_inbound_at,
            "closes_at": closes_at,
            "open": is_open,
            "pushes_left": max(0, QUOTA_MESSAGES - row.pushes) if is_open else 0,
            "subscribed": bool(row.subscribed),
        }

    def last_written(self, openids: list[str]) -> dict[str, float]:
        """When each of these residents last wrote (a Unix time); residents never heard from are left out."""
        if not openids:
            return {}
        query = sa.select(contacts_table.c.openid, contacts_table.c.last_inbound_at).where(
            contacts_table.c.openid.in_(openids)
        )
        with self.engine.connect() as db:
            return {str(row.openid): float(row.last_inbound_at) for row in db.execute(query)}

    def release_push(self, openid: str) -> None:
        """Gives a reserved push back when the message did not go out."""
        with self.engine.begin() as db:
            db.execute(
                contacts_table.update()
                .where(contacts_table.c.openid == openid, contacts_table.c.pushes > 0)
                .values(pushes=contacts_table.c.pushes - 1)
            )

    def quota_used(self, openid: str) -> None:
        """The platform says the quota is gone: stop trying until the resident writes again."""
        with self.engine.begin() as db:
            db.execute(contacts_table.update().where(contacts_table.c.openid == openid).values(pushes=QUOTA_MESSAGES))

    # residents' photos -----------------------------------------------------------------------
    def keep_media(self, media_id: str, body: bytes, content_type: str) -> None:
        row = {"media_id": media_id, "content_type": content_type[:64], "body": body, "fetched_at": self.clock()}
        with self.engine.begin() as db:
            try:
                with db.begin_nested():
                    db.execute(media_table.insert().values(**row))
            except sa.exc.IntegrityError:  # fetched already (a retried push, another process)
                pass

    def media(self, media_id: str) -> tuple[bytes, str] | None:
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(media_table.c.body, media_table.c.content_type).where(media_table.c.media_id == media_id)
            ).first()
        return (bytes(row.body), str(row.content_type)) if row else None

    # a resident's erasure (12.1) -----------------------------------------------------------------
    def forget(self, openid: str, media_ids: list[str]) -> dict[str, int]:
        """Everything the channel keeps of one resident: their messages (sent, and kept to run again),
        window and the photos named."""
        with self.engine.begin() as db:
            messages = db.execute(outbox_table.delete().where(outbox_table.c.openid == openid)).rowcount
            messages += db.execute(held_table.delete().where(held_table.c.openid == openid)).rowcount
            db.execute(answered_table.delete().where(answered_table.c.openid == openid))
            db.execute(contacts_table.delete().where(contacts_table.c.openid == openid))
            photos = (
                db.execute(media_table.delete().where(media_table.c.media_id.in_(media_ids))).rowcount
                if media_ids
                else 0
            )
        return {"messages": int(messages or 0), "photos": int(photos or 0)}

    def prune(self, before: float) -> dict[str, int]:
        """What the channel keeps from before ``before`` (a Unix time): the retention period (12.1)."""
        with self.engine.begin() as db:
            messages = db.execute(outbox_table.delete().where(outbox_table.c.created_at < before)).rowcount
            messages += db.execute(held_table.delete().where(held_table.c.created_at < before)).rowcount
            db.execute(answered_table.delete().where(answered_table.c.answered_at < before))
            db.execute(contacts_table.delete().where(contacts_table.c.last_inbound_at < before))
            photos = db.execute(media_table.delete().where(media_table.c.fetched_at < before)).rowcount
        return {"messages": int(messages or 0), "photos": int(photos or 0)}

    # what the resident was sent ------------------------------------------------------------------
    def answered(self, key: str, openid: str) -> None:
        """The turn ``key`` was answered in its push's reply (the reply is written): recorded once."""
        row = answered_table.insert().values(key=key[:120], openid=openid, answered_at=self.clock())
        with self.engine.begin() as db:
            try:
                with db.begin_nested():
                    db.execute(row)
            except sa.exc.IntegrityError:  # the platform's retry got the same answer again
                pass

    def was_answered(self, openid: str, key: str) -> str | None:
        """How the answer to the turn ``key`` went out to the resident: "reply" (in the push's reply),
        "outbox" (kept to be pushed: sent, or tried until it is, or shown to staff as undelivered), or
        None when nothing of it went out (its process stopped after Rasa saved the turn)."""
        with self.engine.connect() as db:
            replied = db.execute(
                sa.select(answered_table.c.key).where(answered_table.c.key == key, answered_table.c.openid == openid)
            ).first()
            if replied is not None:
                return "reply"
            pushed = db.execute(
                sa.select(outbox_table.c.id)
                .where(
                    outbox_table.c.openid == openid,
                    outbox_table.c.handover_key.startswith(f"turn:{key}#", autoescape=True),
                )
                .limit(1)
            ).first()
        return "outbox" if pushed is not None else None

    # messages ---------------------------------------------------------------------------------
    def add(self, openid: str, text: str, handover_key: str | None = None) -> int | None:
        """Keeps a message to send; its id. With ``handover_key``, None when a message with that key is
        kept already: the backend handed the same notification over again, and it is not sent twice."""
        now = self.clock()
        row = outbox_table.insert().values(
            openid=openid,
            body=json.dumps({"text": text}, ensure_ascii=False),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            claimed_until=0.0,
            created_at=now,
            updated_at=now,
            handover_key=handover_key,
        )
        with self.engine.begin() as db:
            try:
                with db.begin_nested():
                    return int(db.execute(row).inserted_primary_key[0])
            except sa.exc.IntegrityError:
                if handover_key is None:
                    raise
                log.info("outbox: %s is kept already; not sent twice", handover_key)
                return None

    def claim(self, message_id: int, seconds: float = 60.0) -> OutboxMessage | None:
        """Takes a pending message for one delivery attempt; None if it is done or being tried."""
        now = self.clock()
        with self.engine.begin() as db:
            taken = db.execute(
                outbox_table.update()
                .where(
                    outbox_table.c.id == message_id,
                    outbox_table.c.status == "pending",
                    outbox_table.c.claimed_until < now,
                )
                .values(claimed_until=now + seconds, attempts=outbox_table.c.attempts + 1, updated_at=now)
            ).rowcount
            if not taken:
                return None
        return self.get(message_id)

    def finish(self, message_id: int, status: str, via: str | None = None, error: str | None = None) -> None:
        with self.engine.begin() as db:
            db.execute(
                outbox_table.update()
                .where(outbox_table.c.id == message_id)
                .values(status=status, via=via, last_error=error, claimed_until=0.0, updated_at=self.clock())
            )

    def retry_later(self, message_id: int, error: str, base_delay: float) -> None:
        message = self.get(message_id)
        attempts = message.attempts if message else 1
        delay = doubling(attempts - 1, base=base_delay, cap=3600.0)
        now = self.clock()
        with self.engine.begin() as db:
            db.execute(
                outbox_table.update()
                .where(outbox_table.c.id == message_id)
                .values(last_error=error, next_attempt_at=now + delay, claimed_until=0.0, updated_at=now)
            )

    def due(self, limit: int = 100) -> list[int]:
        now = self.clock()
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(outbox_table.c.id)
                .where(
                    outbox_table.c.status == "pending",
                    outbox_table.c.next_attempt_at <= now,
                    outbox_table.c.claimed_until < now,
                )
                .order_by(outbox_table.c.id)
                .limit(limit)
            ).all()
        return [int(row.id) for row in rows]

    def get(self, message_id: int) -> OutboxMessage | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(outbox_table).where(outbox_table.c.id == message_id)).first()
        return None if row is None else self._message(row)

    def list(self, status: str | None = None, openid: str | None = None, limit: int = 200) -> list[OutboxMessage]:
        query = sa.select(outbox_table).order_by(outbox_table.c.id.desc()).limit(limit)
        if status:
            query = query.where(outbox_table.c.status == status)
        if openid:
            query = query.where(outbox_table.c.openid == openid)
        with self.engine.connect() as db:
            return [self._message(row) for row in db.execute(query).all()]

    @staticmethod
    def _message(row: Any) -> OutboxMessage:
        return OutboxMessage(
            id=int(row.id),
            openid=row.openid,
            text=str(json.loads(row.body).get("text", "")),
            status=row.status,
            via=row.via,
            attempts=int(row.attempts),
            last_error=row.last_error,
            created_at=float(row.created_at),
        )


Send = Callable[[str], Awaitable[dict[str, Any]]]


class Courier:
    """Delivers outbox messages: customer-service API, then template, then ``undelivered``."""

    def __init__(
        self,
        outbox: Outbox,
        client: PlatformClient,
        tokens: TokenCache,
        template_id: str = "",
        retry_delay: float = 30.0,
    ) -> None:
        self.outbox, self.client, self.tokens = outbox, client, tokens
        self.template_id = template_id
        self.retry_delay = retry_delay

    async def push(self, openid: str, texts: list[str], handover: str | None = None) -> list[int]:
        """Keeps each text in the outbox, then tries to deliver it; returns the outbox ids of the texts
        kept now. Texts of a hand-over (the backend's notification ``handover``) are kept once."""
        ids = await self.keep(openid, texts, handover)
        await self.deliver_all(ids)
        return ids

    async def keep(self, openid: str, texts: list[str], handover: str | None = None) -> list[int]:
        """Only the first half of ``push``: the texts kept in the outbox, to be delivered (``deliver_all``)
        by whoever keeps them, or by the outbox's retry loop if that process stops first."""
        ids: list[int] = []
        for part, text in enumerate(t for t in texts if t):
            key = f"{handover}#{part}" if handover else None
            message_id = await asyncio.to_thread(self.outbox.add, openid, text, key)
            if message_id is not None:
                ids.append(message_id)
        return ids

    async def deliver_all(self, ids: list[int]) -> None:
        for message_id in ids:
            await self.deliver(message_id)

    async def deliver(self, message_id: int) -> None:
        message = await asyncio.to_thread(self.outbox.claim, message_id)
        if message is None:
            return
        try:
            await self._attempt(message)
        except PlatformUnavailable as exc:
            log.warning("wechat delivery %s deferred: %s", message_id, exc)
            await asyncio.to_thread(self.outbox.retry_later, message_id, str(exc), self.retry_delay)
        except Exception as exc:  # e.g. the shared state is down: keep the message and try again later
            log.exception("wechat delivery %s failed; kept for the next pass", message_id)
            await asyncio.to_thread(self.outbox.retry_later, message_id, repr(exc), self.retry_delay)

    async def _attempt(self, message: OutboxMessage) -> None:
        if await asyncio.to_thread(self.outbox.is_unsubscribed, message.openid):
            await asyncio.to_thread(self.outbox.finish, message.id, "undelivered", None, "the resident unsubscribed")
            return
        if await asyncio.to_thread(self.outbox.reserve_push, message.openid):
            payload = {"touser": message.openid, "msgtype": "text", "text": {"content": message.text}}
            try:
                result = await self._with_token(
                    lambda token: self.client.post("/cgi-bin/message/custom/send", token, payload)
                )
            except PlatformUnavailable:
                await asyncio.to_thread(self.outbox.release_push, message.openid)
                raise
            code = int(result.get("errcode") or 0)
            if code == 0:
                await asyncio.to_thread(self.outbox.finish, message.id, "sent", "custom")
                return
            if code not in QUOTA_ERRORS:
                error = f"customer-service API errcode {code}: {result.get('errmsg', '')}"
                await asyncio.to_thread(self.outbox.finish, message.id, "undelivered", None, error)
                return
            await asyncio.to_thread(self.outbox.quota_used, message.openid)
            PUSH_REFUSALS.labels("window" if code == OUTSIDE_WINDOW_ERROR else "quota").inc()
        else:
            window = await asyncio.to_thread(self.outbox.window, message.openid)
            PUSH_REFUSALS.labels("quota" if window and window["open"] else "window").inc()
        await self._fallback(message)

    async def _fallback(self, message: OutboxMessage) -> None:
        """Outside the window or over the quota: a template message if configured, else for staff."""
        if not self.template_id:
            reason = "outside the 48-hour window or over the 5-message quota; no template configured"
            await asyncio.to_thread(self.outbox.finish, message.id, "undelivered", None, reason)
            return
        payload = {
            "touser": message.openid,
            "template_id": self.template_id,
            "data": {"content": {"value": message.text}},
        }
        result = await self._with_token(
            lambda token: self.client.post("/cgi-bin/message/template/send", token, payload)
        )
        code = int(result.get("errcode") or 0)
        if code == 0:
            await asyncio.to_thread(self.outbox.finish, message.id, "sent", "template")
        else:
            error = f"template API errcode {code}: {result.get('errmsg', '')}"
            await asyncio.to_thread(self.outbox.finish, message.id, "undelivered", None, error)

    async def _with_token(self, send: Send) -> dict[str, Any]:
        """Calls the platform with the shared token, refreshing it once if the platform refuses it."""
        token = await self.tokens.get()
        result = await send(token)
        if int(result.get("errcode") or 0) in TOKEN_ERRORS:
            await self.tokens.invalidate(token)
            result = await send(await self.tokens.get())
        return result

    async def retry_due(self) -> int:
        """One pass over the pending messages whose time has come; returns how many were tried."""
        due = await asyncio.to_thread(self.outbox.due)
        for message_id in due:
            await self.deliver(message_id)
        return len(due)

    async def run_retries(self, interval: float) -> None:
        await every(interval, self.retry_due, "wechat outbox retries")

"""Announcements to every follower by the platform's mass-send (群发, ``/cgi-bin/message/mass/sendall``), for
the backend's scheduled notices (5.2.5 and 6.1.1 the season, 9.2.1 a price change). A service account has
four a natural month (``policies.wechat``); a second sending of one announcement would spend one and tell
every resident twice, so each is sent at most once:

- the backend names each announcement by a key; the channel records the key (``sending``) before calling
  the platform, and the result after (``sent`` with the platform's msg_id, or ``refused`` with its errcode);
- asked again with a key it has, it answers what it recorded instead of sending: a retry after a lost
  answer is safe;
- when the call failed where the platform may have got it (a timeout), the key stays ``sending``: the
  answer is "unknown" and a person checks the platform's record before anything is sent again. When the
  platform surely did not get it (no connection, "busy"), the key is released and the backend tries later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from channels.delivery import TOKEN_ERRORS, PlatformClient, PlatformUnavailable, TokenCache, metadata

mass_sends_table = sa.Table(
    "wechat_mass_sends",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),  # the backend's announcement key
    sa.Column("status", sa.String(16), nullable=False),  # sending, sent, refused
    sa.Column("msg_id", sa.String(64)),
    sa.Column("errcode", sa.Integer),
    sa.Column("detail", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

MAX_TEXT_CHARS = 600  # a notice, not an article: the backend's texts are far shorter


@dataclass(frozen=True)
class MassResult:
    """What became of one announcement: ``sent`` (with ``msg_id``), ``refused`` by the platform (with its
    ``errcode``), or ``unknown``."""

    status: str
    msg_id: str | None = None
    errcode: int | None = None
    detail: str | None = None


class MassSender:
    def __init__(
        self, engine: Engine, client: PlatformClient, tokens: TokenCache, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine, self.client, self.tokens, self.clock = engine, client, tokens, clock

    async def followers(self) -> int:
        """How many follow the account now (the platform's count). PlatformUnavailable when it cannot say."""
        result = await self._call("GET", "/cgi-bin/user/get", None)
        if "total" not in result:
            raise PlatformUnavailable(f"follower count: errcode {result.get('errcode')} {result.get('errmsg', '')}")
        return int(result["total"])

    async def send(self, key: str, text: str) -> MassResult:
        """The announcement ``key`` with ``text`` to every follower, at most once (see the module)."""
        known = await asyncio.to_thread(self._claim, key)
        if known is not None:
            return known
        payload = {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": text}}
        try:
            result = await self._call("POST", "/cgi-bin/message/mass/sendall", payload)
        except PlatformUnavailable as exc:
            if not exc.reached:
                await asyncio.to_thread(self._release, key)
                raise
            await asyncio.to_thread(self._record, key, "sending", None, None, str(exc))
            return MassResult("unknown", detail=str(exc))
        if result.get("errcode", 0) != 0 or "msg_id" not in result:
            errcode = int(result.get("errcode") or 0)
            detail = str(result.get("errmsg") or "")
            await asyncio.to_thread(self._record, key, "refused", None, errcode, detail)
            return MassResult("refused", errcode=errcode, detail=detail)
        msg_id = str(result["msg_id"])
        await asyncio.to_thread(self._record, key, "sent", msg_id, None, None)
        return MassResult("sent", msg_id=msg_id)

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        """One platform call with the shared token; a refused token is replaced once."""
        for _ in range(2):
            token = await self.tokens.get()
            if payload is None:
                result = await self.client.call(method, path, params={"access_token": token})
            else:
                result = await self.client.post(path, token, payload)
            if result.get("errcode") not in TOKEN_ERRORS:
                return result
            await self.tokens.invalidate(token)
        return result

    def _claim(self, key: str) -> MassResult | None:
        """Record ``key`` as being sent; what was recorded of it before, if anything."""
        now = self.clock()
        try:
            with self.engine.begin() as db:
                db.execute(mass_sends_table.insert().values(key=key, status="sending", created_at=now, updated_at=now))
            return None
        except IntegrityError:
            pass
        with self.engine.connect() as db:
            row = db.execute(sa.select(mass_sends_table).where(mass_sends_table.c.key == key)).one()
        if row.status == "sent":
            return MassResult("sent", msg_id=row.msg_id)
        if row.status == "refused":
            return MassResult("refused", errcode=row.errcode, detail=row.detail)
        return MassResult("unknown", detail=row.detail or "being sent, or its sending was interrupted")

    def _release(self, key: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                mass_sends_table.delete().where(mass_sends_table.c.key == key, mass_sends_table.c.status == "sending")
            )

    def _record(self, key: str, status: str, msg_id: str | None, errcode: int | None, detail: str | None) -> None:
        with self.engine.begin() as db:
            db.execute(
                mass_sends_table.update()
                .where(mass_sends_table.c.key == key)
                .values(status=status, msg_id=msg_id, errcode=errcode, detail=detail, updated_at=self.clock())
            )

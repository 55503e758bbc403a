"""The fake platform API's rules, without a web framework (the routes and the tests wrap it).

It issues access tokens, takes customer-service messages under the platform's quota (5 messages
within 48 hours of the resident's last message: errcode 45047 over the quota, 45015 outside the
window), takes template messages and menus, mass-sends to every follower (4 a natural month, Beijing
time: errcode 45028 after), counts the followers, and keeps every delivered message in a per-resident
inbox the chat front ends read. Error codes follow the platform's published ones.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from policies.wechat import (
    MASS_SENDS_PER_MONTH,
    NO_MASS_QUOTA_ERROR,
    OUTSIDE_WINDOW_ERROR,
    OVER_QUOTA_ERROR,
    QUOTA_MESSAGES,
    WINDOW_SECONDS,
)

TOKEN_SECONDS = 7200
# The platform counts mass-sends by the natural month in China.
PLATFORM_TZ = timezone(timedelta(hours=8))
# Temporary media (a resident's photo) can be fetched for 3 days after it was sent.
MEDIA_SECONDS = 3 * 24 * 3600


def sample_png(seed: int) -> bytes:
    """A small PNG of one colour, so that each simulated photo is a real, distinct image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    size = 96
    colour = bytes(((seed * 67) % 256, (seed * 131) % 256, (seed * 199) % 256))
    rows = b"".join(b"\x00" + colour * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class Delivered:
    """A message the platform delivered to a resident's phone."""

    seq: int
    openid: str
    kind: str  # custom, template, mass
    text: str
    at: float


@dataclass
class _Window:
    last_inbound_at: float = 0.0
    pushes: int = 0


@dataclass
class FakePlatform:
    app_id: str
    app_secret: str
    clock: Callable[[], float] = time.time
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    token_fetches: int = 0
    menu: dict[str, Any] | None = None
    failures_left: int = 0  # the next N calls answer "system busy" (errcode -1)
    media: dict[str, tuple[bytes, float]] = field(default_factory=dict)  # media_id -> (PNG, sent at)
    _windows: dict[str, _Window] = field(default_factory=dict)
    followers: set[str] = field(default_factory=set)
    mass_sends: list[tuple[int, str, float]] = field(default_factory=list)  # (msg_id, month, at)
    _inbox: list[Delivered] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # what the phone tells the platform ---------------------------------------------------
    def resident_wrote(self, openid: str) -> None:
        """A message from the resident opens a new 48-hour window with 5 pushes; whoever writes follows."""
        with self._lock:
            self._windows[openid] = _Window(last_inbound_at=self.clock())
            self.followers.add(openid)

    def resident_left(self, openid: str) -> None:
        """The resident unfollowed: no mass-send reaches them."""
        with self._lock:
            self.followers.discard(openid)

    def resident_sent_photo(self, media_id: str) -> None:
        with self._lock:
            self.media[media_id] = (sample_png(len(self.media) + 1), self.clock())

    # the API ------------------------------------------------------------------------------
    def get_media(self, token: str, media_id: str) -> bytes | dict[str, Any]:
        """The photo's bytes, or the platform's JSON error (40007 for an unknown or expired media id)."""
        with self._lock:
            problem = self._check(token)
            if problem:
                return problem
            found = self.media.get(media_id)
            if found is None or self.clock() - found[1] > MEDIA_SECONDS:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            return found[0]

    def token(self, grant_type: str, app_id: str, secret: str) -> dict[str, Any]:
        if grant_type != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if app_id != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if secret != self.app_secret:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        with self._lock:
            self.token_fetches += 1
            token = secrets.token_urlsafe(24)
            # a new token replaces the old one, as on the real platform
            self.tokens = {token: self.clock() + TOKEN_SECONDS}
        return {"access_token": token, "expires_in": TOKEN_SECONDS}

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens = {token: 0.0 for token in self.tokens}

    def _check(self, token: str) -> dict[str, Any] | None:
        if self.failures_left > 0:
            self.failures_left -= 1
            return {"errcode": -1, "errmsg": "system error"}
        expires = self.tokens.get(token)
        if expires is None:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if expires <= self.clock():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def custom_send(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            problem = self._check(token)
            if problem:
                return problem
            openid = str(payload.get("touser") or "")
            text = str((payload.get("text") or {}).get("content") or "")
            if payload.get("msgtype") != "text" or not openid or not text:
                return {"errcode": 44002, "errmsg": "empty post data or unsupported msgtype"}
            window = self._windows.get(openid)
            if window is None or self.clock() - window.last_inbound_at > WINDOW_SECONDS:
                return {
                    "errcode": OUTSIDE_WINDOW_ERROR,
                    "errmsg": "response out of time limit or subscription is canceled",
                }
            if window.pushes >= QUOTA_MESSAGES:
                return {"errcode": OVER_QUOTA_ERROR, "errmsg": "out of response count limit"}
            window.pushes += 1
            self._deliver(openid, "custom", text)
        return {"errcode": 0, "errmsg": "ok"}

    def template_send(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            problem = self._check(token)
            if problem:
                return problem
            openid = str(payload.get("touser") or "")
            data = payload.get("data") or {}
            if not openid or not payload.get("template_id") or not isinstance(data, dict):
                return {"errcode": 40037, "errmsg": "invalid template_id"}
            text = "\n".join(str((value or {}).get("value", "")) for value in data.values())
            self._deliver(openid, "template", text)
            msgid = len(self._inbox)
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def create_menu(self, token: str, menu: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            problem = self._check(token)
            if problem:
                return problem
            buttons = menu.get("button")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
                return {"errcode": 40016, "errmsg": "invalid button size"}
            self.menu = menu
        return {"errcode": 0, "errmsg": "ok"}

    def user_get(self, token: str) -> dict[str, Any]:
        """The followers (one page: the simulator has few)."""
        with self._lock:
            problem = self._check(token)
            if problem:
                return problem
            openids = sorted(self.followers)
        return {"total": len(openids), "count": len(openids), "data": {"openid": openids}, "next_openid": ""}

    def mass_sendall(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A text to every follower (``filter.is_to_all``), four a natural month."""
        with self._lock:
            problem = self._check(token)
            if problem:
                return problem
            text = str((payload.get("text") or {}).get("content") or "")
            if payload.get("msgtype") != "text" or not text or not (payload.get("filter") or {}).get("is_to_all"):
                return {"errcode": 40004, "errmsg": "invalid media type or filter"}
            month = datetime.fromtimestamp(self.clock(), PLATFORM_TZ).strftime("%Y-%m")
            if sum(1 for _, sent, _at in self.mass_sends if sent == month) >= MASS_SENDS_PER_MONTH:
                return {"errcode": NO_MASS_QUOTA_ERROR, "errmsg": "has no masssend quota"}
            msg_id = 1000 + len(self.mass_sends) + 1
            self.mass_sends.append((msg_id, month, self.clock()))
            for openid in sorted(self.followers):
                self._deliver(openid, "mass", text)
        return {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id, "msg_data_id": msg_id}

    def mass_get(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            problem = self._check(token)
            if problem:
                return problem
            known = any(msg_id == payload.get("msg_id") for msg_id, _, _ in self.mass_sends)
        if not known:
            return {"errcode": 40132, "errmsg": "invalid msg_id"}
        return {"msg_id": payload["msg_id"], "msg_status": "SEND_SUCCESS"}

    # what the phone shows ---------------------------------------------------------------------
    def _deliver(self, openid: str, kind: str, text: str) -> None:
        self._inbox.append(Delivered(len(self._inbox) + 1, openid, kind, text, self.clock()))

    def inbox(self, openid: str, after: int = 0) -> list[Delivered]:
        with self._lock:
            return [m for m in self._inbox if m.openid == openid and m.seq > after]

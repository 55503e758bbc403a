"""The resident's phone: pushes messages to the bot's webhook exactly as the platform does.

Each push is signed (and in compatible/safe mode encrypted), posted with the platform's 5-second
timeout and retried with the same ``MsgId`` when no answer comes in time (up to 3 tries); the
passive reply is checked, decrypted and read.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from xml.sax.saxutils import escape

import httpx
from defusedxml import ElementTree as SafeET

from fake_wechat.envelope import AesEnvelope, signature
from fake_wechat.platform import FakePlatform


@dataclass(frozen=True)
class PhoneConfig:
    webhook_url: str
    token: str
    app_id: str = ""
    encoding_aes_key: str = ""
    mode: str = "plaintext"  # plaintext, compatible, safe
    account: str = "gh_heating_simulator"
    timeout_seconds: float = 5.0
    tries: int = 3


@dataclass(frozen=True)
class PhoneResult:
    """What the resident's phone shows after one push: the passive reply, if any."""

    status: str  # reply, success (no passive reply), no-answer (every try timed out), refused
    reply: str | None
    tries: int
    http_status: int | None = None
    detail: str = ""
    msg_id: str = ""  # the push's MsgId (events have none)


NUMERIC_FIELDS = {"CreateTime", "MsgId", "Location_X", "Location_Y", "Scale"}


def push_xml(fields: dict[str, str]) -> str:
    """A push in the platform's XML: numbers bare, text in CDATA."""

    def cdata(value: str) -> str:
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"

    body = "".join(
        f"<{name}>{escape(value) if name in NUMERIC_FIELDS else cdata(value)}</{name}>"
        for name, value in fields.items()
    )
    return f"<xml>{body}</xml>"


class Phone:
    def __init__(
        self,
        config: PhoneConfig,
        client: httpx.AsyncClient,
        platform: FakePlatform | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.client = client
        self.platform = platform
        self.clock = clock
        self._last_msg_id = 0
        self.envelope = (
            AesEnvelope(config.encoding_aes_key, config.app_id) if config.mode in ("compatible", "safe") else None
        )

    # what a resident can do --------------------------------------------------------------
    async def text(self, openid: str, content: str) -> PhoneResult:
        return await self.push(openid, {"MsgType": "text", "Content": content}, message=True)

    async def voice(self, openid: str, recognition: str) -> PhoneResult:
        fields = {"MsgType": "voice", "MediaId": secrets.token_hex(8), "Format": "amr", "Recognition": recognition}
        return await self.push(openid, fields, message=True)

    async def image(self, openid: str, pic_url: str) -> PhoneResult:
        media_id = secrets.token_hex(8)
        if self.platform is not None:
            self.platform.resident_sent_photo(media_id)  # the platform keeps it for 3 days
        fields = {"MsgType": "image", "PicUrl": pic_url, "MediaId": media_id}
        return await self.push(openid, fields, message=True)

    async def location(self, openid: str, label: str, x: str = "37.5133", y: str = "122.1204") -> PhoneResult:
        fields = {"MsgType": "location", "Location_X": x, "Location_Y": y, "Scale": "15", "Label": label}
        return await self.push(openid, fields, message=True)

    async def event(self, openid: str, event: str, key: str = "") -> PhoneResult:
        fields = {"MsgType": "event", "Event": event}
        if key:
            fields["EventKey"] = key
        return await self.push(openid, fields, message=False)

    # the protocol ----------------------------------------------------------------------------
    async def push(self, openid: str, content: dict[str, str], message: bool) -> PhoneResult:
        fields = {"ToUserName": self.config.account, "FromUserName": openid, "CreateTime": str(int(self.clock()))}
        fields.update(content)
        if message:
            fields["MsgId"] = self._next_msg_id()
        if self.platform is not None and content.get("Event") == "unsubscribe":
            self.platform.resident_left(openid)
        elif self.platform is not None and content.get("Event") != "VIEW":
            self.platform.resident_wrote(openid)
        xml = push_xml(fields)
        detail = ""
        for attempt in range(1, self.config.tries + 1):
            params, body = self._sign(xml)
            params["openid"] = openid  # the platform names the sender in the query too (balancers hash on it)
            try:
                response = await self.client.post(
                    self.config.webhook_url,
                    params=params,
                    content=body.encode("utf-8"),
                    headers={"Content-Type": "text/xml; charset=utf-8"},
                    timeout=self.config.timeout_seconds,
                )
            except httpx.TimeoutException:
                detail = f"no answer within {self.config.timeout_seconds:g} s"
                continue
            except httpx.HTTPError as exc:
                return PhoneResult("refused", None, attempt, None, f"the webhook is unreachable: {exc}")
            if response.status_code != 200:
                return PhoneResult("refused", None, attempt, response.status_code, response.text[:200])
            return replace(self._read(response.text, params, attempt), msg_id=fields.get("MsgId", ""))
        return PhoneResult("no-answer", None, self.config.tries, None, detail, fields.get("MsgId", ""))

    def _next_msg_id(self) -> str:
        """The platform's MsgIds grow with time (the channel orders one resident's messages by them):
        microseconds since the epoch, one more than the last when two fall in the same microsecond."""
        self._last_msg_id = max(self._last_msg_id + 1, int(self.clock() * 1_000_000))
        return str(self._last_msg_id)

    def _sign(self, xml: str) -> tuple[dict[str, str], str]:
        timestamp, nonce = str(int(self.clock())), str(secrets.randbelow(10**9))
        params = {"signature": signature(self.config.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if self.envelope is None:
            return params, xml
        encrypted = self.envelope.encrypt(xml)
        params.update(encrypt_type="aes", msg_signature=signature(self.config.token, timestamp, nonce, encrypted))
        account = f"<ToUserName><![CDATA[{self.config.account}]]></ToUserName>"
        body = f"<xml>{account}<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return params, body

    def _read(self, body: str, params: dict[str, Any], tries: int) -> PhoneResult:
        if body.strip() in ("", "success"):
            return PhoneResult("success", None, tries, 200)
        root = SafeET.fromstring(body.encode("utf-8"))
        fields = {child.tag: child.text or "" for child in root}
        if "Encrypt" in fields:
            if self.envelope is None:
                return PhoneResult("refused", None, tries, 200, "an encrypted reply in plaintext mode")
            expected = signature(
                self.config.token, fields.get("TimeStamp", ""), fields.get("Nonce", ""), fields["Encrypt"]
            )
            if expected != fields.get("MsgSignature"):
                return PhoneResult("refused", None, tries, 200, "the reply's signature is wrong")
            root = SafeET.fromstring(self.envelope.decrypt(fields["Encrypt"]).encode("utf-8"))
            fields = {child.tag: child.text or "" for child in root}
        return PhoneResult("reply", fields.get("Content", ""), tries, 200)

"""The WeChat Official Account message protocol: signatures, safe-mode crypto, XML, message kinds.

Built on wechatpy for the platform's signature, AES envelope (``PrpCrypto``), message classes and
reply rendering; the untrusted XML itself is parsed with defusedxml (no DTDs, no entities, bounded
size and depth), and signatures are compared in constant time.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.utils import WeChatSigner

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
MODES = ("plaintext", "compatible", "safe")

# What residents see for what the bot cannot read.
UNSUPPORTED_REPLY = "您好，这类消息我暂时无法处理，请用文字描述您的问题，或发送图片、语音。"
VOICE_UNRECOGNISED = "抱歉，没有听清您的语音，请再说一遍或直接打字告诉我。"
LOCATION_HELP = (
    "收到您的位置：{label}。登记地址还需要小区名称、楼号、单元和房间号，请发给我，例如“阳光小区3号楼2单元501”。"
)
UNKNOWN_MENU_REPLY = "这个菜单暂时不可用，请直接发消息告诉我您的问题。"
# What a resident who writes faster than the rate limit is told, once per window (WECHAT_RATE_LIMIT_TEXT).
RATE_LIMIT_REPLY = "您的消息发得太快了，请稍等一分钟再发。漏水等紧急情况请直接拨打供热服务热线。"
TOO_LONG_REPLY = (
    "您的消息有{length}个字，超过了每条{limit}字的上限，我没有处理。请分成几条较短的消息发给我，每条{limit}字以内。"
)

# Rasa reads a message that starts with "/" as an intent named directly ("/intent{...}"). Residents'
# text never may: a leading "/" is shown as the full-width "／", which Rasa reads as ordinary text.
INTENT_PREFIX = "/"
NEUTRAL_PREFIX = "／"
# Characters XML 1.0 does not allow; a reply containing one would be unreadable to the platform.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class BadPush(Exception):
    """A push that is not a well-formed WeChat message; answered with a 4xx."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WeChatConfig:
    """The channel's settings, from ``credentials.yml`` (which reads the environment)."""

    token: str
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    mode: str = "plaintext"
    api_base_url: str = DEFAULT_API_BASE_URL
    max_body_bytes: int = 64 * 1024
    max_depth: int = 4
    # Characters of one text message the bot will read (a longer one is answered with TOO_LONG_REPLY).
    max_text_chars: int = 1000
    replay_window_seconds: int = 300
    reply_budget_seconds: float = 4.5
    redis_url: str = ""
    outbox_url: str = "sqlite:///var/wechat.sqlite3"
    template_id: str = ""
    menu_path: str = "config/wechat_menu.yml"
    retry_interval_seconds: float = 30.0
    # Messages one resident (openid) may send per window, counted across every Rasa process (Redis);
    # 0 = no limit. The first message over the limit is answered with rate_limit_text, later ones not.
    rate_limit: int = 20
    rate_limit_window_seconds: int = 60
    rate_limit_text: str = RATE_LIMIT_REPLY

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> WeChatConfig:
        values = {k: v for k, v in dict(credentials or {}).items() if v not in (None, "")}
        if not values.get("token"):
            raise ValueError("the wechat channel needs a token (WECHAT_TOKEN)")
        aes_key = str(values.get("encoding_aes_key") or "")
        mode = str(values.get("mode") or ("safe" if aes_key else "plaintext")).lower()
        _check_mode(mode, aes_key, str(values.get("app_id") or ""))
        # what credentials.yml gives, each as its field's type; the field's default for what it leaves empty
        taken: dict[str, Any] = {field: convert(values[key]) for field, key, convert in _FIELDS if values.get(key)}
        if "rate_limit" in values:
            taken["rate_limit"] = int(values["rate_limit"])  # 0 (no limit) is a value here
        config = cls(token=str(values["token"]), encoding_aes_key=aes_key, mode=mode, **taken)
        return replace(
            config,
            api_base_url=config.api_base_url.rstrip("/"),
            rate_limit_window_seconds=max(1, config.rate_limit_window_seconds),
        )


# credentials.yml's keys of the channel's settings: (field, key, type).
_FIELDS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("app_id", "app_id", str),
    ("app_secret", "app_secret", str),
    ("api_base_url", "api_base_url", str),
    ("replay_window_seconds", "replay_window_seconds", int),
    ("reply_budget_seconds", "reply_budget_seconds", float),
    ("redis_url", "redis_url", str),
    ("outbox_url", "outbox_url", str),
    ("template_id", "template_id", str),
    ("menu_path", "menu", str),
    ("max_text_chars", "max_text_chars", int),
    ("retry_interval_seconds", "retry_interval_seconds", float),
    ("rate_limit_window_seconds", "rate_limit_window_seconds", int),
    ("rate_limit_text", "rate_limit_text", str),
)


def _check_mode(mode: str, aes_key: str, app_id: str) -> None:
    """The message mode, and what the encrypted ones need (the platform's 43-character key, the app id)."""
    if mode not in MODES:
        raise ValueError(f"WECHAT_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "plaintext":
        if len(aes_key) != 43:
            raise ValueError("compatible and safe modes need a 43-character WECHAT_ENCODING_AES_KEY")
        if not app_id:
            raise ValueError("compatible and safe modes need WECHAT_APP_ID")


# A Unix time as the platform writes it: ASCII digits, no leading zero (so one time has one spelling).
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}")


def sign(*parts: str) -> str:
    """The platform's signature: SHA-1 of the sorted parts (token, timestamp, nonce[, encrypt])."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def signature_valid(token: str, args: Mapping[str, str], now: float, window_seconds: int) -> bool:
    """True for a correct signature (compared in constant time) on a fresh timestamp."""
    timestamp, nonce, signature = args.get("timestamp", ""), args.get("nonce", ""), args.get("signature", "")
    # ASCII digits only: str.isdigit() also takes "²" or "١", which int() then refuses.
    if not (_TIMESTAMP.fullmatch(timestamp) and nonce and signature):
        return False
    if not same(sign(token, timestamp, nonce), signature):
        return False
    # A valid signature on an old timestamp is a replay.
    return abs(now - int(timestamp)) <= window_seconds


class Envelope:
    """Safe mode's AES envelope: ``<Encrypt>`` in, ``<Encrypt>`` + ``<MsgSignature>`` out."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        self.token = token
        self.key = base64.b64decode(encoding_aes_key + "=")
        self.app_id = app_id

    def open(self, encrypted: str, args: Mapping[str, str]) -> bytes:
        """The plaintext XML inside ``encrypted``, after checking ``msg_signature``."""
        expected = sign(self.token, args.get("timestamp", ""), args.get("nonce", ""), encrypted)
        if not same(expected, args.get("msg_signature", "")):
            raise BadPush("invalid message signature", status=403)
        try:
            plain = PrpCrypto(self.key).decrypt(encrypted, self.app_id)
        except InvalidAppIdException:
            raise BadPush("the message is for another account", status=403) from None
        except (ValueError, TypeError, IndexError, UnicodeDecodeError, struct.error) as exc:
            raise BadPush(f"the message cannot be decrypted: {exc}") from None
        return plain if isinstance(plain, bytes) else str(plain).encode("utf-8")

    def seal(self, xml: str, nonce: str, timestamp: str) -> str:
        """``xml`` encrypted and signed for a safe-mode passive reply."""
        encrypted = PrpCrypto(self.key).encrypt(xml, self.app_id)
        encrypted = encrypted.decode() if isinstance(encrypted, bytes) else str(encrypted)
        signature = sign(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{reply_text(nonce)}]]></Nonce></xml>"
        )


def parse_xml(body: bytes, max_depth: int) -> dict[str, str]:
    """The fields of an ``<xml>`` document: no DTDs, no entities, bounded depth."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        # LookupError: an encoding the XML declaration names and Python does not know
        raise BadPush(f"not acceptable XML: {exc}") from None
    if root.tag != "xml":
        raise BadPush("the root element must be <xml>")
    if _depth(root) > max_depth:
        raise BadPush("the message is nested too deeply")
    return {child.tag: (child.text or "").strip() for child in root}


def _depth(root: Any) -> int:
    """The element tree's depth, walked without recursion (a 64 KiB body nests 20,000 deep)."""
    deepest, level = 0, [(root, 1)]
    while level:
        element, depth = level.pop()
        deepest = max(deepest, depth)
        level.extend((child, depth + 1) for child in element)
    return deepest


def parse_push(body: bytes, max_depth: int) -> dict[str, str]:
    """A pushed message's fields, checked for what every message carries."""
    fields = parse_xml(body, max_depth)
    for required in ("ToUserName", "FromUserName", "MsgType"):
        if not fields.get(required):
            raise BadPush(f"the message has no {required}")
    return fields


@dataclass(frozen=True)
class Inbound:
    """What a push means for the bot: text for Rasa, a direct reply, or nothing to say."""

    openid: str
    account: str
    key: str  # the same for the platform's retries of this push
    kind: str
    text: str | None = None  # sent to Rasa
    reply: str | None = None  # answered directly, without the bot
    metadata: dict[str, Any] = field(default_factory=dict)


def intent_text(intent: str, entities: Mapping[str, Any] | None = None) -> str:
    """Rasa's way to name an intent directly: ``/intent{"entity": "value"}``."""
    return f"/{intent}{json.dumps(dict(entities), ensure_ascii=False)}" if entities else f"/{intent}"


def resident_text(text: str) -> str:
    """What a resident wrote, made safe to hand to Rasa: it can never name an intent.

    Rasa's parser reads text whose first non-blank character is "/" as ``/intent{entities}`` (and so
    could start an internal intent such as the call-back survey with another resident's order).
    """
    stripped = text.lstrip()
    if stripped.startswith(INTENT_PREFIX):
        return NEUTRAL_PREFIX + stripped[len(INTENT_PREFIX) :]
    return text


def reply_text(text: str) -> str:
    """Text safe inside the CDATA of a passive reply: a "]]>" cannot end the CDATA early, and no
    character XML forbids is left. The resident reads the same words."""
    # The reply renders text as <![CDATA[...]]>: split "]]>" across two CDATA sections.
    return _XML_INVALID.sub("", text).replace("]]>", "]]]]><![CDATA[>")


# A grid worker binding their WeChat: "绑定 K7MX-Q4PA" (11.4). The backend checks the code.
_BIND = re.compile(r"^\s*绑定\s*[:：]?\s*([A-Za-z0-9]{4}[-－ ]?[A-Za-z0-9]{4})\s*$")


def _typed(base: dict[str, Any], text: str, meta: dict[str, Any], max_chars: int) -> Inbound:
    """A resident's own words (typed or recognised from voice): bounded, and never an intent, except
    the one command the channel itself reads, a grid worker's binding code."""
    if len(text) > max_chars:
        return Inbound(**base, reply=TOO_LONG_REPLY.format(length=len(text), limit=max_chars), metadata=meta)
    binding = _BIND.match(text)
    if binding:
        code = "".join(ch for ch in binding.group(1) if ch.isalnum()).upper()
        return Inbound(**base, text=intent_text("bind_grid_worker", {"bind_code": code}), metadata=meta)
    return Inbound(**base, text=resident_text(text), metadata=meta)


def interpret(fields: Mapping[str, str], menu: Mapping[str, str], max_text_chars: int = 1000) -> Inbound:
    """Turns a push into what the channel does with it. ``menu`` maps CLICK keys to intents; a text
    longer than ``max_text_chars`` is answered directly, without the bot."""
    openid, account = fields["FromUserName"], fields["ToUserName"]
    kind = fields["MsgType"].lower()
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    # Messages are retried with the same MsgId; events with the same sender and CreateTime. The sender is
    # part of the key: a push reusing another resident's MsgId is another message, never their answer.
    sent, event = fields.get("CreateTime", ""), fields.get("Event", "")
    key = f"msg:{openid}:{msg_id}" if msg_id else f"evt:{openid}:{sent}:{event}"
    base = {"openid": openid, "account": account, "key": key, "kind": kind}
    meta = {"msg_type": kind, "msg_id": msg_id or "", "create_time": fields.get("CreateTime", "")}
    if kind == "text":
        return _typed(base, fields.get("Content", ""), meta, max_text_chars)
    if kind == "voice":
        recognised = fields.get("Recognition", "").strip()
        if not recognised:
            return Inbound(**base, reply=VOICE_UNRECOGNISED, metadata=meta)
        return _typed(base, recognised, {**meta, "voice": True}, max_text_chars)
    if kind == "image":
        image = {"media_id": fields.get("MediaId", ""), "pic_url": fields.get("PicUrl", "")}
        return Inbound(**base, text=intent_text("share_image", image), metadata={**meta, **image})
    if kind == "location":
        label = fields.get("Label") or f"{fields.get('Location_X', '')},{fields.get('Location_Y', '')}"
        return Inbound(**base, reply=LOCATION_HELP.format(label=label), metadata=meta)
    if kind != "event":
        return Inbound(**base, reply=UNSUPPORTED_REPLY, metadata=meta)
    event = fields.get("Event", "").lower()
    meta = {**meta, "event": event}
    if event == "subscribe":
        return Inbound(**base, text=intent_text("subscribe"), metadata=meta)
    if event == "click":
        intent = menu.get(fields.get("EventKey", ""))
        if intent is None:
            return Inbound(**base, reply=UNKNOWN_MENU_REPLY, metadata=meta)
        return Inbound(**base, text=intent_text(intent), metadata={**meta, "menu_key": fields.get("EventKey", "")})
    # unsubscribe, VIEW (a link was opened), reported locations, scans: nothing to say
    return Inbound(**base, metadata=meta)


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_OPTION = re.compile(r"^\s*(?:回复\s*)?(\d{1,2})\s*[.。、]?\s*$")


def chosen_option(text: str) -> str | None:
    """The number a resident replied with ("1", "１", "回复1"), or None."""
    match = _OPTION.match(text.translate(_FULL_WIDTH))
    return match.group(1) if match else None


def numbered(text: str, buttons: list[Mapping[str, Any]]) -> tuple[str, dict[str, str]]:
    """Buttons as numbered options in the text, and the number -> payload map to read the answer."""
    options = {str(i): str(b.get("payload") or b.get("title") or "") for i, b in enumerate(buttons, start=1)}
    lines = [f"回复 {i} {b.get('title', '')}" for i, b in enumerate(buttons, start=1)]
    return (text + "\n" + "\n".join(lines)).strip(), options

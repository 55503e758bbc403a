"""The WeChat Official Account (公众号) input channel of the Rasa server.

Registered in ``credentials.yml`` as ``channels.wechat.WeChatInput``; the platform posts to
``/webhooks/wechat/webhook``. The channel does transport only: it checks the platform's
signature, refuses replays, parses the untrusted XML safely, hands text to Rasa and answers
with a passive reply.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

log = logging.getLogger(__name__)

CHANNEL_NAME = "wechat"
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
# What the resident sees when a message type is not handled yet.
UNSUPPORTED_REPLY = "您好，目前我只能处理文字消息，请用文字描述您的问题。"
# The platform's documented answer for "no reply" (a turn with nothing to say, e.g. while a person
# has taken over the chat).
NO_REPLY = "success"


class BadPush(Exception):
    """A push that is not a well-formed WeChat message; answered with a 4xx."""


@dataclass(frozen=True)
class WeChatConfig:
    """The channel's settings, from ``credentials.yml`` (which reads the environment)."""

    token: str
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    max_body_bytes: int = 64 * 1024
    max_depth: int = 4
    replay_window_seconds: int = 300

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> WeChatConfig:
        values = dict(credentials or {})
        if not values.get("token"):
            raise ValueError("the wechat channel needs a token (WECHAT_TOKEN)")
        return cls(
            token=str(values["token"]),
            app_id=str(values.get("app_id") or ""),
            app_secret=str(values.get("app_secret") or ""),
            encoding_aes_key=str(values.get("encoding_aes_key") or ""),
            api_base_url=str(values.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/"),
            replay_window_seconds=int(values.get("replay_window_seconds") or 300),
        )


def sign(token: str, timestamp: str, nonce: str) -> str:
    """The platform's signature: SHA-1 of the sorted token, timestamp and nonce."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return str(signer.signature)


def signature_valid(token: str, args: Mapping[str, str], now: float, window_seconds: int) -> bool:
    """True for a correct signature (compared in constant time) on a fresh timestamp."""
    timestamp, nonce, signature = args.get("timestamp", ""), args.get("nonce", ""), args.get("signature", "")
    if not (timestamp.isdigit() and nonce and signature):
        return False
    if not hmac.compare_digest(sign(token, timestamp, nonce).encode(), signature.encode()):
        return False
    # A valid signature on an old timestamp is a replay.
    return abs(now - int(timestamp)) <= window_seconds


def parse_push(body: bytes, max_depth: int) -> dict[str, str]:
    """The fields of a pushed ``<xml>`` message. No DTDs, no entities, bounded depth."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise BadPush(f"not acceptable XML: {exc}") from None
    if root.tag != "xml":
        raise BadPush("the root element must be <xml>")

    def depth(element: Any, level: int = 1) -> int:
        return max([level] + [depth(child, level + 1) for child in element])

    if depth(root) > max_depth:
        raise BadPush("the message is nested too deeply")
    fields = {child.tag: (child.text or "").strip() for child in root}
    for required in ("ToUserName", "FromUserName", "MsgType"):
        if not fields.get(required):
            raise BadPush(f"the message has no {required}")
    return fields


@dataclass(frozen=True)
class Reply:
    """A transport-neutral HTTP answer."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class WeChatWebhook:
    """The webhook's logic, independent of the web framework, so it can be tested directly."""

    def __init__(self, config: WeChatConfig, clock: Callable[[], float] = time.time):
        self.config = config
        self.clock = clock

    def verify(self, args: Mapping[str, str]) -> Reply:
        """Server URL verification: echo ``echostr`` when the signature is right."""
        if not signature_valid(self.config.token, args, self.clock(), self.config.replay_window_seconds):
            return Reply(403, "invalid signature")
        return Reply(200, args.get("echostr", ""))

    async def receive(self, args: Mapping[str, str], body: bytes, on_new_message: OnNewMessage) -> Reply:
        """Handle one pushed message and answer with a passive reply."""
        if not signature_valid(self.config.token, args, self.clock(), self.config.replay_window_seconds):
            return Reply(403, "invalid signature")
        if len(body) > self.config.max_body_bytes:
            return Reply(413, "message too large")
        try:
            fields = parse_push(body, self.config.max_depth)
        except BadPush as exc:
            log.info("refused a malformed push: %s", exc)
            return Reply(400, "malformed message")
        message = MESSAGE_TYPES.get(fields["MsgType"].lower(), UnknownMessage)(fields)
        if message.type != "text":
            return self._text_reply(message, UNSUPPORTED_REPLY)

        collector = CollectingOutputChannel()
        await on_new_message(
            UserMessage(
                text=message.content,
                output_channel=collector,
                sender_id=message.source,
                input_channel=CHANNEL_NAME,
                message_id=str(message.id),
                metadata={"wechat": {"msg_id": str(message.id), "to_user": message.target}},
            )
        )
        texts = [m["text"] for m in collector.messages if m.get("text")]
        if not texts:
            return Reply(200, NO_REPLY)
        return self._text_reply(message, "\n\n".join(texts))

    @staticmethod
    def _text_reply(message: Any, text: str) -> Reply:
        return Reply(200, TextReply(message=message, content=text).render(), "application/xml; charset=utf-8")


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat Official Account."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(WeChatConfig.from_credentials(credentials))

    def __init__(self, config: WeChatConfig):
        self.webhook = WeChatWebhook(config)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = self.webhook
        blueprint = Blueprint("wechat_webhook", __name__)

        def to_sanic(reply: Reply) -> HTTPResponse:
            return response.text(reply.body, status=reply.status, content_type=reply.content_type)

        def args_of(request: Request) -> dict[str, str]:
            return {key: request.args.get(key, "") for key in request.args}

        @blueprint.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return to_sanic(webhook.verify(args_of(request)))

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return to_sanic(await webhook.receive(args_of(request), request.body or b"", on_new_message))

        return blueprint

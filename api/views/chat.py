"""A handoff's chat as staff read it: the conversation's events turned into messages. Pure functions.

The conversation lives in Rasa's tracker: the resident's messages are ``user`` events, the bot's and
staff's are ``bot`` events (staff's marked ``metadata.from = "staff"``). Messages the backend itself
triggered (``is_external``: notices, surveys, quotes) are not the resident's words and are left out;
what the bot said in answer to them is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

IMAGE_PREFIXES = ("/share_image",)  # named by the channel; a typed "／share_image" is text


# What the channel sends the bot for something other than typed text starts with "/" (a typed one is
# written "／"): a photo, a menu click, a picked reading. In a handoff's summary they read as words.
CHANNEL_PAYLOAD = re.compile(r"^/[A-Za-z_]+(\{.*\})?$")
PHOTO_WORDS = "[照片]"
CLICK_WORDS = "[点了菜单或按钮]"


def summary_lines(summary: str | None) -> list[str]:
    """A handoff's summary (the resident's last messages, one a line) as staff read it: a photo is
    "[照片]", a menu click "[点了菜单或按钮]", never the channel's payload."""
    lines = []
    for line in (summary or "").splitlines():
        if line.startswith(IMAGE_PREFIXES):
            lines.append(PHOTO_WORDS)
        elif CHANNEL_PAYLOAD.match(line):
            lines.append(CLICK_WORDS)
        elif line.strip():
            lines.append(line)
    return lines


@dataclass(frozen=True)
class ChatMessage:
    at: datetime
    sender: str  # resident, bot or staff
    text: str
    delivery: str | None = None  # staff messages: sent, sent_as_template, pending, undelivered
    media_id: str | None = None  # a photo the resident sent (the text says "[图片]")


def delivery_state(outbox_row: dict[str, Any] | None) -> str | None:
    """The channel's outbox row as one word: sent, sent_as_template, pending or undelivered."""
    if not outbox_row:
        return None
    status = str(outbox_row.get("status") or "")
    if status == "sent":
        return "sent_as_template" if outbox_row.get("via") == "template" else "sent"
    return status or None


def chat_messages(events: list[dict[str, Any]], outbox: dict[int, dict[str, Any]]) -> list[ChatMessage]:
    """The conversation's messages, oldest first; ``outbox`` maps outbox ids to their rows."""
    messages: list[ChatMessage] = []
    for event in events:
        kind, text = event.get("event"), str(event.get("text") or "")
        metadata = event.get("metadata") or {}
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=UTC)
        if kind == "user":
            if metadata.get("is_external") or not text:
                continue
            media_id = None
            if text.startswith(IMAGE_PREFIXES):
                media_id = _media_id(event)
                text = "[图片]"
            messages.append(ChatMessage(at, "resident", text, media_id=media_id))
        elif kind == "bot" and text:
            if metadata.get("from") == "staff":
                row = outbox.get(int(metadata["outbox_id"])) if metadata.get("outbox_id") is not None else None
                messages.append(ChatMessage(at, "staff", text, delivery_state(row)))
            else:
                messages.append(ChatMessage(at, "bot", text))
    return messages


def _media_id(event: dict[str, Any]) -> str | None:
    """The platform's media id of a photo, as the WeChat channel put it in the message's metadata
    (text a resident typed cannot set metadata, so a typed "／share_image{...}" names no photo)."""
    wechat = (event.get("metadata") or {}).get("wechat") or {}
    found = wechat.get("media_id") if isinstance(wechat, dict) and wechat.get("msg_type") == "image" else None
    return str(found) if found else None

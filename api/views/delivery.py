"""What became of a message to a resident, as staff read it. Pure functions.

The backend hands a resident's message (an outage notice, a survey …) to the bot, and the WeChat
channel keeps it in its outbox, which alone knows whether the platform took it, a template message
carried it, it is still being tried, or it could not be sent and why. The backend's own record says
only that it handed the message over. So staff read the channel's word when it can be asked, and are
told plainly when it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from api.views.chat import delivery_state

# The channel's reasons (channels/delivery.py, ``Courier``), in staff's words.
WINDOW_CLOSED = "居民超过48小时未与公众号互动或5条客服消息已用完，且未配置模板消息；请电话联系居民"
UNSUBSCRIBED = "居民已取消关注公众号"
NOT_IN_OUTBOX = "微信通道的发件记录中没有这条消息（可能已过保存期限被清理）"
RETRYING_PLATFORM = "微信平台暂时不可用，通道会自动重试"
RETRYING_HANDOVER = "上次交给微信通道失败，会自动重试"


@dataclass(frozen=True)
class Delivery:
    """A message's state (a key of ``api.views.labels.DELIVERIES``) and, where it helps, why."""

    state: str
    reason: str | None = None


def reason_words(raw: str | None) -> str:
    """Why the channel could not send a message, in Chinese (its own reasons are written in English)."""
    text = raw or ""
    if "unsubscribed" in text:
        return UNSUBSCRIBED
    if "48-hour window" in text:
        return WINDOW_CLOSED
    code = re.search(r"errcode (-?\d+)", text)
    if code and text.startswith("customer-service API"):
        return f"微信客服消息接口拒绝（错误码 {code.group(1)}）"
    if code and text.startswith("template API"):
        return f"微信模板消息接口拒绝（错误码 {code.group(1)}）"
    return f"其他原因：{text[:80]}" if text else "通道未说明原因"


def of_notice(
    to_resident: bool,
    handed_over: bool,
    backend_error: str | None,
    outbox_row: dict[str, Any] | None,
    channel_answered: bool,
) -> Delivery:
    """What became of one notification: ``outbox_row`` is the channel's row for it (None when the
    channel has none, or was not asked); ``channel_answered`` False when the channel could not be asked."""
    if not to_resident:  # for staff: posted to the notifier webhook, and always in the console's alerts
        return Delivery("pushed_to_staff") if handed_over else Delivery("staff_alert")
    if not handed_over:
        return Delivery("queued", RETRYING_HANDOVER if backend_error else None)
    if not channel_answered:
        return Delivery("unreachable")
    if outbox_row is None:
        return Delivery("missing", NOT_IN_OUTBOX)
    state = delivery_state(outbox_row) or "pending"
    if state == "undelivered":
        return Delivery(state, reason_words(outbox_row.get("last_error")))
    if state == "pending" and outbox_row.get("last_error"):
        return Delivery(state, RETRYING_PLATFORM)
    return Delivery(state)

"""What became of the notifications the backend sent, read from the WeChat channel's outbox.

The backend records only that it handed a resident's message to the bot (``handed_to_channel``); the
channel's outbox holds the truth (sent, sent as a template, still being tried, or undelivered with the
reason). This asks the channel once per resident through the bot client and matches each notification
to the outbox message that carries its text (the bot relays a notice's text unchanged).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.models import Notification
from api.services.outbound import BotClient, DeliveryFailed
from api.views import delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoticeDelivery:
    notification: Notification
    delivery: delivery.Delivery


def notice_deliveries(notifications: Sequence[Notification], bot: BotClient) -> tuple[list[NoticeDelivery], bool]:
    """Each notification with what became of it, and whether the channel answered. Once the channel
    cannot be asked it is not asked again for the rest: those are shown as not known, never guessed."""
    outboxes: dict[str, list[dict[str, Any]]] = {}
    answered = True
    found = []
    for notification in notifications:
        openid = notification.recipient_openid
        handed_over = notification.delivered_at is not None
        row = None
        if openid and handed_over and answered:
            if openid not in outboxes:
                try:
                    outboxes[openid], _ = bot.outbox(openid)
                except DeliveryFailed as exc:
                    log.warning("the WeChat channel's outbox cannot be read: %s", exc)
                    answered = False
            row = next((r for r in outboxes.get(openid, []) if r.get("text") == notification.message), None)
        state = delivery.of_notice(bool(openid), handed_over, notification.last_error, row, answered)
        found.append(NoticeDelivery(notification, state))
    return found, answered

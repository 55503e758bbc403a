"""Residents' photos kept with their orders.

The WeChat channel fetches a photo from the platform's media API when it arrives (the platform keeps
media for 3 days) and serves it to the backend. When the bot attaches a photo to an order, a pending
MediaFile is recorded; the scheduler then copies the photo into the backend's database, retrying with
backoff while the channel is down, and gives up (state ``failed``, with the reason) only when the
channel says the platform no longer has it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import MediaFile
from api.services.outbound import BotClient, DeliveryFailed

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# Shown in the console as an image; anything else is offered as a download.
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def expect(session: Session, order_id: int, media_id: str, now: datetime) -> None:
    """Record that the order has this photo to fetch (once per media id)."""
    if session.scalars(select(MediaFile).where(MediaFile.media_id == media_id)).first() is not None:
        return
    session.add(
        MediaFile(
            order_id=order_id, media_id=media_id, state="pending", attempts=0, next_attempt_at=now, created_at=now
        )
    )
    try:
        session.flush()
    except IntegrityError:  # recorded by a concurrent request
        session.rollback()


def fetch_due(session: Session, now: datetime, bot: BotClient, limit: int = 20) -> int:
    """One pass: copy the pending photos whose time has come; returns how many were stored."""
    due = session.scalars(
        select(MediaFile)
        .where(MediaFile.state == "pending", MediaFile.next_attempt_at <= now)
        .order_by(MediaFile.next_attempt_at)
        .limit(limit)
    ).all()
    stored = 0
    for item in due:
        item.attempts += 1
        try:
            found = bot.media(item.media_id)
        except DeliveryFailed as exc:
            wait = min(FIRST_RETRY * 2 ** (item.attempts - 1), LONGEST_RETRY)
            item.next_attempt_at = now + wait
            item.last_error = str(exc)[:500]
            session.commit()
            continue
        if found is None:
            item.state = "failed"
            item.last_error = "the platform no longer has this photo (media is kept for 3 days)"
        else:
            body, content_type = found
            item.body, item.content_type, item.size = body, content_type, len(body)
            item.sha256 = hashlib.sha256(body).hexdigest()
            item.state, item.stored_at, item.last_error = "stored", now, None
            stored += 1
        session.commit()
    return stored


def for_order(session: Session, order_id: int) -> list[MediaFile]:
    return list(session.scalars(select(MediaFile).where(MediaFile.order_id == order_id).order_by(MediaFile.id)))


def by_media_id(session: Session, media_id: str) -> MediaFile | None:
    return session.scalars(select(MediaFile).where(MediaFile.media_id == media_id)).first()


def kept(session: Session, file_id: int) -> MediaFile | None:
    """A kept photo's record by id, or None."""
    return session.get(MediaFile, file_id)

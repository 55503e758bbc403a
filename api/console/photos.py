"""Residents' photos in the console: on the order (kept in the backend) and in the chat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.console.pages import DeskDep
from api.deps import IdPath
from api.errors import Conflict, NotFound
from api.services import handoffs, media
from api.services.outbound import DeliveryFailed

router = APIRouter()

MediaIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


def _photo(body: bytes, content_type: str) -> Response:
    """An image is shown; anything else is only offered as a download, never rendered by the browser."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if content_type not in media.IMAGE_TYPES:
        content_type = "application/octet-stream"
        headers["Content-Disposition"] = "attachment"
    return Response(body, media_type=content_type, headers=headers)


@router.get("/media/{file_id}")
def order_photo(file_id: IdPath, desk: DeskDep) -> Response:
    item = media.kept(desk.session, file_id)
    if item is None or item.state != "stored" or item.body is None:
        raise NotFound(f"photo {file_id} is not kept (yet)")
    return _photo(item.body, item.content_type or "application/octet-stream")


@router.get("/chats/{handoff_id}/photos/{media_id}")
def chat_photo(handoff_id: IdPath, media_id: MediaIdPath, desk: DeskDep) -> Response:
    """A photo of this chat only: the kept copy, else the WeChat channel's."""
    bot = desk.bot
    if media_id not in {m.media_id for m in handoffs.messages(desk.session, handoff_id, bot)}:
        raise NotFound("this chat has no such photo")
    kept = media.by_media_id(desk.session, media_id)
    if kept is not None and kept.body is not None:
        return _photo(kept.body, kept.content_type or "application/octet-stream")
    try:
        found = bot.media(media_id)
    except DeliveryFailed as exc:
        raise Conflict(f"the photo cannot be read now: {exc}", code="bot_unavailable") from None
    if found is None:
        raise NotFound("the platform no longer has this photo (media is kept for 3 days)")
    return _photo(*found)

"""A cap on every request body, held while the body is read, whatever length the client declares.

A check of the declared Content-Length alone let a chunked upload (``Transfer-Encoding: chunked``, no
length) stream 40 MB through the multipart parser of the console's hotline import before anything said
no (review N9). This ASGI middleware counts the bytes as the app reads them and stops at the cap of the
request's path: the read raises ``RequestTooLarge``, a 413 that the app's error handlers answer as the
console's banner or the API's JSON. Nothing past the cap is read.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestTooLarge(HTTPException):
    """A body over its cap (413); raised while it is read, so FastAPI passes it on as it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request is larger than {limit // 1024} KB")


class BodyLimit:
    """Refuse a body over ``default`` bytes, or over the cap of the longest prefix of its path."""

    def __init__(self, app: ASGIApp, default: int, by_prefix: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.by_prefix = sorted(by_prefix.items(), key=lambda item: len(item[0]), reverse=True)

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.by_prefix if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        read = 0

        async def limited_receive() -> Message:
            nonlocal read
            if declared.isdigit() and int(declared) > limit:
                raise RequestTooLarge(limit)  # refused before a byte of it is read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)

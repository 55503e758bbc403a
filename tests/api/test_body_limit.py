"""Request bodies are capped while they are read, a declared length or not (review N9: a chunked upload
with no Content-Length streamed 40 MB through the console's multipart parser before a 422).

The requests go through httpx's ASGI transport, which hands the app the body chunk by chunk as the
generator yields it (the test client would read it whole first), so the tests see how much was read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.console.pages import MAX_BODY_BYTES
from api.main import API_MAX_BODY_BYTES
from tests.api.conftest import Browser

CHUNK = b"x" * 65536


class Stream:
    """A body of ``size`` bytes after ``head``, yielded a chunk at a time; counts what was taken."""

    def __init__(self, head: bytes, size: int, tail: bytes = b"") -> None:
        self.head, self.size, self.tail = head, size, tail
        self.taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        while self.taken < self.size:
            self.taken += len(CHUNK)
            yield CHUNK
        yield self.tail


def post_streamed(app: FastAPI, path: str, body: Stream, headers: dict[str, str]) -> httpx.Response:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            request = http.build_request("POST", path, content=body, headers=headers)
            assert request.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in request.headers
            return await http.send(request)

    return asyncio.run(post())


def test_a_chunked_upload_to_the_console_stops_at_the_cap_as_it_is_read(browser: Callable[[str], Browser]) -> None:
    b = browser("agent")
    part = 'Content-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
    body = Stream(f"--edge\r\n{part}".encode(), 40 * 1024 * 1024, b"\r\n--edge--\r\n")
    headers = {
        "Content-Type": "multipart/form-data; boundary=edge",
        "Cookie": f"hs_console={b.client.cookies.get('hs_console')}",
        "HX-Request": "true",
        "X-CSRF-Token": b.csrf,
    }
    answer = post_streamed(b.client.app, "/console/hotline-import/preview", body, headers)  # type: ignore[arg-type]
    assert answer.status_code == 413 and "提交的内容过大" in answer.text
    assert body.taken <= MAX_BODY_BYTES + len(CHUNK)  # not the 40 MB


def test_a_chunked_body_to_the_api_stops_at_the_cap_as_it_is_read(client: TestClient, auth: dict) -> None:
    body = Stream(b'{"kind": "repair", "description": "', 4 * API_MAX_BODY_BYTES, b'"}')
    headers = {**auth, "Content-Type": "application/json"}
    answer = post_streamed(client.app, "/api/v1/work-orders", body, headers)  # type: ignore[arg-type]
    assert answer.status_code == 413 and answer.json()["code"] == "too_large"
    assert body.taken <= API_MAX_BODY_BYTES + len(CHUNK)


def test_a_body_within_the_cap_is_read_whole_when_chunked(client: TestClient, auth: dict) -> None:
    body = Stream(b'{"kind": "repair", "category": "equipment", "source": "wechat", "description": "', 0, b'x"}')
    headers = {**auth, "Content-Type": "application/json"}
    answer = post_streamed(client.app, "/api/v1/work-orders", body, headers)  # type: ignore[arg-type]
    assert answer.status_code == 201, answer.text

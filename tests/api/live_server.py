"""A real HTTP server around a test's app (uvicorn in a thread), for what the in-process test client cannot
show: responses that stream for minutes while other requests come and go."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served on a free port of 127.0.0.1; yields its base URL. Open streams are cut at the end."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        eventually(lambda: server.started, "the server started")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def eventually(condition: Callable[[], object], what: str, within: float = 20.0) -> None:
    """Wait until ``condition()`` holds (the server runs in another thread); fail after ``within`` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(0.01)


class Stream:
    """One open server-sent-event stream, read line by line."""

    def __init__(self, client: httpx.Client, path: str) -> None:
        self._context = client.stream("GET", path)
        self.response = self._context.__enter__()
        self._lines = self.response.iter_lines()

    @property
    def status_code(self) -> int:
        return self.response.status_code

    def read_until(self, prefix: str) -> list[str]:
        """The lines up to and including the first that starts with ``prefix``."""
        seen = []
        for line in self._lines:
            seen.append(line)
            if line.startswith(prefix):
                return seen
        raise AssertionError(f"the stream ended without {prefix!r}: {seen}")

    def rest(self) -> list[str]:
        """Every line until the server ends the stream."""
        return list(self._lines)

    def close(self) -> None:
        self._context.__exit__(None, None, None)

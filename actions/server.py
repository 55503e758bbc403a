"""The action server: Rasa SDK's app, plus the loop that files orders kept while the backend was down.

Started as ``python -m actions.server --port 5055`` (``make actions``). Every ``SPOOL_INTERVAL_SECONDS``
it asks Rasa to run ``EXTERNAL_retry_filing`` in each waiting conversation
(``POST /conversations/{id}/trigger_intent``), so the order is filed with its original idempotency key
and the resident is told its number in the same chat.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from urllib.parse import quote

import aiohttp
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from actions.spool import FilingSpool

log = logging.getLogger(__name__)


async def retry_waiting(spool: FilingSpool, rasa_url: str, token: str, session: aiohttp.ClientSession) -> int:
    """Trigger the retry in every conversation that is due; returns how many Rasa accepted."""
    triggered = 0
    for waiting in spool.due():
        spool.postpone(waiting.key)  # the next attempt waits, whatever happens now
        url = f"{rasa_url.rstrip('/')}/conversations/{quote(waiting.sender_id, safe='')}/trigger_intent"
        try:
            async with session.post(
                url,
                params={"output_channel": "latest", "token": token},
                json={"name": "EXTERNAL_retry_filing", "entities": {}},
            ) as resp:
                if resp.status < 300:
                    triggered += 1
                else:
                    log.warning("Rasa refused the filing retry for %s: HTTP %s", waiting.sender_id, resp.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("Rasa unreachable for the filing retry: %s", exc)
    return triggered


async def retry_loop(interval: float) -> None:
    spool = FilingSpool.from_env()
    rasa_url = os.environ.get("RASA_URL", "http://127.0.0.1:5005")
    token = os.environ.get("RASA_AUTH_TOKEN", "")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        while True:
            try:
                await retry_waiting(spool, rasa_url, token, session)
            except Exception:  # the loop must outlive any one failure; the log says what
                log.exception("filing retry pass failed")
            await asyncio.sleep(interval)


def build_app(interval: float) -> Sanic:
    app = create_app("actions")

    @app.listener("after_server_start")
    async def start_retry_loop(app: Sanic, _loop: object) -> None:
        app.add_task(retry_loop(interval))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="action server with the filing retry loop")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default=os.environ.get("BIND_HOST", "127.0.0.1"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    interval = float(os.environ.get("SPOOL_INTERVAL_SECONDS", "60"))
    build_app(interval).run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()

"""The action server: Rasa SDK's app, plus the loop that files orders kept while the backend was down.

Started as ``python -m actions.server --port 5055`` (``make actions``). Only the Rasa server may run
actions: ``/webhook`` and ``/actions`` need ``Authorization: Bearer $ACTION_SERVER_TOKEN``, which
``endpoints.yml`` sends (the actions act with the backend's machine token, so an open webhook would let
anyone read a resident's data or file orders). ``/health`` (liveness), ``/health/ready`` (readiness: the
spool's database answers) and ``/metrics`` (docs/metrics.md) stay open. Every ``SPOOL_INTERVAL_SECONDS``
it asks Rasa to run ``EXTERNAL_retry_filing`` in each waiting conversation
(``POST /conversations/{id}/trigger_intent``), so the order is filed with its original idempotency key
and the resident is told its number in the same chat.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import cast
from urllib.parse import quote

import aiohttp
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.metrics import SpoolGauge, action_names, count_actions, register_spool_gauge, spool_answers
from actions.review import ReviewReporter
from actions.spool import FilingSpool
from bot import logs
from bot.loops import every
from bot.metrics import instrument, metrics_answer
from bot.operator import check_operator_file
from bot.settings import BotSettings, ConfigurationError, bearer_matches, get_settings

log = logging.getLogger(__name__)


async def retry_waiting(spool: FilingSpool, rasa_url: str, token: str, session: aiohttp.ClientSession) -> int:
    """Trigger the retry in every conversation that is due; returns how many Rasa accepted."""
    triggered = 0
    for waiting in spool.due():
        if not spool.claim(waiting):  # another action server is retrying it; the next attempt waits anyway
            continue
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


async def retry_loop(settings: BotSettings) -> None:
    spool = FilingSpool.from_env()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await every(
            settings.spool_interval_seconds,
            lambda: retry_waiting(spool, settings.rasa_url, settings.rasa_auth_token, session),
            "filing retries",
        )


# Paths only the Rasa server may call; /health stays open for the launcher and load balancers.
PROTECTED_PATHS = ("/webhook", "/actions")


def build_app(settings: BotSettings, retry_loop_enabled: bool = True) -> Sanic:
    """Rasa SDK's app behind the shared token, with the filing retry loop."""
    settings.check({"ACTION_SERVER_TOKEN": settings.action_server_token, "API_TOKEN": settings.api_token})
    check_operator_file(settings.app_env)  # a bad file, or the sample in production, stops the start
    app = create_app("actions")
    token = settings.action_server_token

    @app.on_request
    async def require_rasa(request: Request) -> HTTPResponse | None:
        if request.path.rstrip("/") not in PROTECTED_PATHS:
            return None
        if bearer_matches(request.headers.get("Authorization", ""), token):
            return None
        if not token and settings.app_env == "test":
            return None  # tests that run without a token configured
        log.warning("refused an action call from %s without the action server token", request.ip)
        return response.json({"error": "a valid bearer token is required"}, status=401)

    instrument(app)
    count_actions(app, action_names())
    register_spool_gauge(SpoolGauge())

    @app.get("/metrics")
    async def prometheus_metrics(_request: Request) -> HTTPResponse:
        return await asyncio.to_thread(metrics_answer)

    @app.get("/health/ready")
    async def ready(_request: Request) -> HTTPResponse:
        """Readiness: the filing spool's database answers (a backend that is down is the spool's job)."""
        if await asyncio.to_thread(spool_answers):
            return response.json({"status": "ok", "spool": True})
        return response.json({"status": "unavailable", "spool": False}, status=503)

    reporter = ReviewReporter()
    app.ctx.review_reporter = reporter

    @app.on_request
    async def report_for_review(request: Request) -> None:
        """What the bot was unsure of goes to the review queue, seen from the action it is about to run
        (actions/review.py); the action itself runs as it would without this."""
        if request.path.rstrip("/") != "/webhook" or request.method != "POST":
            return
        try:
            body = request.json if request.body else None
        except Exception:  # noqa: BLE001 - an unreadable body is the SDK's to refuse, not this hook's
            return
        if isinstance(body, dict) and isinstance(body.get("tracker"), dict):
            reporter.observe(str(body.get("next_action") or ""), body["tracker"])

    if retry_loop_enabled:

        @app.listener("after_server_start")
        async def start_retry_loop(app: Sanic, _loop: object) -> None:
            app.add_task(retry_loop(settings))

    return cast(Sanic, app)


def main() -> None:
    parser = argparse.ArgumentParser(description="action server with the filing retry loop")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logs.configure("actions", loggers=("sanic.root", "sanic.error", "sanic.access"))
    try:
        app = build_app(get_settings())
    except ConfigurationError as exc:
        raise SystemExit(f"the action server refuses to start: {exc}") from None
    app.run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()

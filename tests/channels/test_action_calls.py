"""Rasa's calls to the action server: retried while it is away, abandoned whole when it stays away,
never retried when the action itself failed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from channels.action_calls import RetryingActionEndpoint, TurnAbandoned, retry_actions

ANSWER = {"events": [{"event": "slot", "name": "pending_order", "value": None}], "responses": []}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ActionServer:
    """An action server on a real port whose first answers the test chooses: a status, or a cut connection."""

    def __init__(self, first: list[Any]) -> None:
        self.first = list(first)
        self.calls: list[dict[str, Any]] = []

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        self.calls.append({"body": await request.json(), "auth": request.headers.get("Authorization")})
        if self.first:
            what = self.first.pop(0)
            if what == "cut":  # killed while it ran the action: the connection ends without an answer
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            return web.json_response({"error": "x"}, status=int(what))
        return web.json_response(ANSWER)


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Callable[[ActionServer], Any]]:
    runners: list[web.AppRunner] = []

    async def start(server: ActionServer) -> str:
        app = web.Application()
        app.router.add_post("/webhook", server.webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}/webhook"

    yield start
    for runner in runners:
        await runner.cleanup()


def endpoint(url: str, **options: Any) -> RetryingActionEndpoint:
    base = EndpointConfig(url=url, headers={"Authorization": "Bearer action-token"})
    return RetryingActionEndpoint.around(base, delays=(0.0,) * 4, **options)


async def test_a_call_cut_or_refused_by_a_balancer_is_made_again_with_its_headers(serve: Any) -> None:
    server = ActionServer(["cut", 503, 502])
    url = await serve(server)
    answer = await endpoint(url).request(json={"next_action": "action_file_work_order"}, method="post")
    assert answer == ANSWER
    assert len(server.calls) == 4
    assert {c["auth"] for c in server.calls} == {"Bearer action-token"}
    assert {c["body"]["next_action"] for c in server.calls} == {"action_file_work_order"}


async def test_an_action_server_that_stays_away_abandons_the_turn() -> None:
    away = endpoint(f"http://127.0.0.1:{free_port()}/webhook")  # nothing listens there
    with pytest.raises(TurnAbandoned):
        await away.request(json={}, method="post")


async def test_the_turn_abandoned_passes_through_rasas_catch_all() -> None:
    """Rasa's processor catches every Exception an action raises and saves the turn anyway."""
    try:
        raise TurnAbandoned("away")
    except Exception:  # what Rasa's processor does
        pytest.fail("an abandoned turn must not be caught as an action's error")
    except BaseException as exc:
        assert isinstance(exc, TurnAbandoned)


async def test_an_action_that_failed_on_the_action_server_is_not_run_again(serve: Any) -> None:
    server = ActionServer([500])
    url = await serve(server)
    with pytest.raises(ClientResponseError):
        await endpoint(url).request(json={}, method="post")
    assert len(server.calls) == 1


async def test_after_an_abandoned_turn_the_next_calls_give_up_at_once_until_one_succeeds(serve: Any) -> None:
    """While the action server is known to be away, residents hear at once that their message is kept."""
    clock = [100.0]
    server = ActionServer([503] * 6)
    url = await serve(server)
    calls = endpoint(url, clock=lambda: clock[0])
    with pytest.raises(TurnAbandoned):
        await calls.request(json={}, method="post")
    assert len(server.calls) == 5
    with pytest.raises(TurnAbandoned):
        await calls.request(json={}, method="post")
    assert len(server.calls) == 6  # one try, no retries
    clock[0] += 11  # the pause is over: retried again, and the action server is back
    assert await calls.request(json={}, method="post") == ANSWER


class FakeProcessor:
    def __init__(self, endpoint: EndpointConfig) -> None:
        self.action_endpoint = endpoint


class FakeAgent:
    def __init__(self, endpoint: EndpointConfig | None) -> None:
        self.action_endpoint = endpoint
        self.processor = FakeProcessor(endpoint) if endpoint else None
        self.triggered: list[str] = []

    async def trigger_intent(self, intent: str, *args: Any) -> None:
        self.triggered.append(intent)
        if intent == "EXTERNAL_notice":
            raise TurnAbandoned("the action server at http://actions.test cannot be reached")


def test_the_agent_and_its_processor_get_one_retrying_endpoint_once() -> None:
    agent = FakeAgent(EndpointConfig(url="http://actions.test/webhook", headers={"Authorization": "Bearer t"}))
    retry_actions(agent)
    first = agent.action_endpoint
    assert isinstance(first, RetryingActionEndpoint)
    assert agent.processor is not None and agent.processor.action_endpoint is first
    assert (first.url, first.headers) == ("http://actions.test/webhook", {"Authorization": "Bearer t"})
    retry_actions(agent)
    assert agent.action_endpoint is first
    bare = FakeAgent(None)
    retry_actions(bare)  # a bot without actions: nothing to do
    assert bare.action_endpoint is None


async def test_a_triggered_turn_that_is_abandoned_is_an_error_rasas_api_answers() -> None:
    """Rasa's trigger_intent route catches only Exception: the backend must get a 500 and try again,
    not a connection closed without an answer."""
    agent = FakeAgent(EndpointConfig(url="http://actions.test/webhook"))
    retry_actions(agent)
    retry_actions(agent)  # wrapped once
    await agent.trigger_intent("EXTERNAL_outage_notice")
    with pytest.raises(Exception, match="cannot be reached") as raised:
        await agent.trigger_intent("EXTERNAL_notice")
    assert isinstance(raised.value, Exception) and not isinstance(raised.value, TurnAbandoned)
    assert agent.triggered == ["EXTERNAL_outage_notice", "EXTERNAL_notice"]


async def test_a_gateway_timeout_is_not_retried(serve: Any) -> None:
    """A balancer's 504 means the action may have run for a minute: not run again."""
    server = ActionServer([504])
    url = await serve(server)
    with pytest.raises(ClientResponseError):
        await endpoint(url).request(json={}, method="post")
    assert len(server.calls) == 1

"""A resident's turns: in the platform's order whatever delays one of them, kept and run again exactly
once when the action server is away, never run twice after a restart, and answered only to their sender.

Delays are induced (a message held up at a gate the test opens), never left to the machine's speed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from channels import held, ordering, wechat
from channels.action_calls import TurnAbandoned
from channels.delivery import Outbox, PlatformClient
from channels.ordering import ResidentQueue
from channels.state import MemoryState, State
from channels.wechat import HELD, WeChatWebhook
from fake_wechat.platform import FakePlatform
from tests.channels.conftest import NOW, Clock, platform_args
from tests.channels.test_wechat import BrokenState, DiesMidTurn, content, make_webhook


def says(openid: str, msg_id: int, text: str, sent: int = NOW) -> bytes:
    """A resident's text push as the platform sends it."""
    return (
        f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{sent}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


class Bot:
    """Stands in for Rasa: answers "答：<text>", after ``gate`` opens when one is set."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        self.received.append(message.text)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        await message.output_channel.send_text_message(message.sender_id, f"答：{message.text}")


class ActionServerAway(Bot):
    """Rasa while its action server cannot be reached: every turn is abandoned whole."""

    def __init__(self) -> None:
        super().__init__()
        self.away = True

    async def __call__(self, message: Any) -> None:
        if self.away:
            self.received.append(message.text)
            raise TurnAbandoned("the action server at http://actions.test cannot be reached")
        await super().__call__(message)


class HeldUpAtTheWindow(Outbox):
    """The channel's store as one process sees it when the first message's write of the resident's
    window is slow (a busy disk, a lock): that message is held up after it took its place."""

    def __init__(self, url: str, clock: Clock) -> None:
        super().__init__(url, clock=clock)
        self.gate = threading.Event()
        self.first = True

    def inbound(self, openid: str, subscribed: bool = True) -> None:
        if self.first:
            self.first = False
            self.gate.wait(30)
        super().inbound(openid, subscribed)


def waiting_signal(queue: ResidentQueue) -> dict[str, asyncio.Event]:
    """Per message key, an event set once that message has looked and found an earlier one ahead."""
    seen: dict[str, asyncio.Event] = {}
    looked = queue._anyone_ahead

    async def anyone_ahead(queue_key: str, members: list[str], member: str) -> bool:
        ahead = await looked(queue_key, members, member)
        if ahead:
            seen.setdefault(member.partition("|")[2], asyncio.Event()).set()
        return ahead

    queue._anyone_ahead = anyone_ahead  # type: ignore[method-assign]
    return seen


async def until(signals: dict[str, asyncio.Event], key: str, seconds: float = 20.0) -> None:
    """Until message ``key`` has been seen waiting (a test of order fails here if it never waits)."""

    async def seen() -> None:
        while key not in signals:
            await asyncio.sleep(0.01)
        await signals[key].wait()

    await asyncio.wait_for(seen(), timeout=seconds)


def store_url(outbox: Outbox) -> str:
    return outbox.engine.url.render_as_string(hide_password=False)


# --- the platform's order -----------------------------------------------------------------------
async def test_a_message_held_up_after_it_arrived_is_still_answered_before_the_next(
    clock: Clock, outbox: Outbox, state: State
) -> None:
    """#22: "暖气阀门坏了" then the address, 50 ms apart; the first is held up before it reaches the bot
    (its window's write is slow) and the second arrives at another Rasa process. The second waits."""
    slow = HeldUpAtTheWindow(store_url(outbox), clock)
    first, second = make_webhook(clock, slow, state=state), make_webhook(clock, outbox, state=state)
    waiting = waiting_signal(second.queue)
    bot = Bot()
    problem = asyncio.ensure_future(first.receive(platform_args(), says("oORDER", 101, "暖气阀门坏了"), bot))
    while "msg:oORDER:101" not in str(await state.queue("order:oORDER")):
        await asyncio.sleep(0.01)
    address = asyncio.ensure_future(second.receive(platform_args(), says("oORDER", 102, "阳光小区3号楼2单元501"), bot))
    await until(waiting, "msg:oORDER:102")  # the address has looked, and waits behind the problem
    assert bot.received == []
    slow.gate.set()
    replies = await asyncio.gather(problem, address)
    assert bot.received == ["暖气阀门坏了", "阳光小区3号楼2单元501"]
    assert [content(r.body) for r in replies] == ["答：暖气阀门坏了", "答：阳光小区3号楼2单元501"]


async def test_messages_that_arrive_out_of_order_during_a_turn_go_in_the_platforms_order(
    clock: Clock, outbox: Outbox, state: State
) -> None:
    """While the first turn runs, MsgId 203 arrives before 202: when the turn ends, 202 goes first."""
    webhook = make_webhook(clock, outbox, state=state, reply_budget_seconds=0.05)
    waiting = waiting_signal(webhook.queue)
    bot = Bot()
    bot.gate = asyncio.Event()
    await webhook.receive(platform_args(), says("oBURST", 201, "你好"), bot)
    await bot.entered.wait()
    await webhook.receive(platform_args(), says("oBURST", 203, "第三条"), bot)
    await until(waiting, "msg:oBURST:203")
    await webhook.receive(platform_args(), says("oBURST", 202, "第二条"), bot)
    await until(waiting, "msg:oBURST:202")
    bot.gate.set()
    await webhook.drain()
    assert bot.received == ["你好", "第二条", "第三条"]


async def test_the_place_of_a_process_that_stopped_lapses_and_the_next_message_goes_on(
    clock: Clock, outbox: Outbox, state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ordering, "PLACE_SECONDS", 0.3)
    stopped = ResidentQueue(state)
    await stopped.join("oLAPSE", ordering.place(NOW, 301, "msg:oLAPSE:301"))  # then the process was killed
    webhook = make_webhook(clock, outbox, state=state)
    bot = Bot()
    reply = await webhook.receive(platform_args(), says("oLAPSE", 302, "还在吗"), bot)
    assert content(reply.body) == "答：还在吗"
    assert await state.queue("order:oLAPSE") == []


async def test_other_residents_do_not_wait_for_one_residents_turn(clock: Clock, outbox: Outbox, state: State) -> None:
    webhook = make_webhook(clock, outbox, state=state, reply_budget_seconds=0.05)
    slow, quick = Bot(), Bot()
    slow.gate = asyncio.Event()
    await webhook.receive(platform_args(), says("oSLOW", 401, "第一条"), slow)
    reply = await webhook.receive(platform_args(), says("oQUICK", 402, "供暖时间"), quick)
    await quick.entered.wait()
    slow.gate.set()
    await webhook.drain()
    assert quick.received == ["供暖时间"] and slow.received == ["第一条"]
    assert reply.body == "success" or content(reply.body) == "答：供暖时间"


# --- kept while the action server is away --------------------------------------------------------
@pytest.fixture
def fake_platform(platform: tuple[FakePlatform, str]) -> FakePlatform:
    return platform[0]


def pushed(platform: FakePlatform, openid: str) -> list[str]:
    return [m.text for m in platform.inbox(openid)]


def away_from(
    openid: str, clock: Clock, outbox: Outbox, client: PlatformClient, platform: FakePlatform
) -> tuple[WeChatWebhook, ActionServerAway]:
    """A webhook whose bot cannot reach its action server, for a resident who wrote lately (so pushes go out)."""
    platform.resident_wrote(openid)
    return make_webhook(clock, outbox, client=client), ActionServerAway()


async def test_a_turn_that_cannot_run_is_kept_and_said_so_then_runs_first_when_the_resident_writes_again(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    webhook, bot = away_from("oKEPT", clock, outbox, client, fake_platform)
    reply = await webhook.receive(platform_args(), says("oKEPT", 501, "是的"), bot)
    assert content(reply.body) == HELD
    assert [t.text for t in webhook.held.of("oKEPT")] == ["是的"]

    bot.away = False
    reply = await webhook.receive(platform_args(), says("oKEPT", 502, "怎么样了"), bot)
    assert bot.received == ["是的", "是的", "怎么样了"]  # the kept turn ran again before the new one
    assert pushed(fake_platform, "oKEPT") == ["答：是的"]
    assert content(reply.body) == "答：怎么样了"
    assert webhook.held.of("oKEPT") == []

    await webhook.receive(platform_args(), says("oKEPT", 503, "谢谢"), bot)
    assert bot.received[-2:] == ["怎么样了", "谢谢"]  # run once: not again with the next message


async def test_the_retry_loop_runs_a_kept_turn_without_the_resident_writing_and_only_once(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    webhook, bot = away_from("oLOOP", clock, outbox, client, fake_platform)
    await webhook.receive(platform_args(), says("oLOOP", 601, "是的"), bot)
    assert await webhook.run_held_due(bot) == 0  # not due yet
    clock.now += 6
    assert await webhook.run_held_due(bot) == 1  # due, still away: put off for longer
    assert webhook.held.of("oLOOP")[0].attempts == 1
    bot.away = False
    clock.now += 6
    assert await webhook.run_held_due(bot) == 0  # 10 s after the second try, not 5
    clock.now += 5
    assert await webhook.run_held_due(bot) == 1
    assert pushed(fake_platform, "oLOOP") == ["答：是的"]
    clock.now += 600
    assert await webhook.run_held_due(bot) == 0
    assert bot.received == ["是的", "是的", "是的"]


async def test_a_newer_message_waits_behind_a_kept_one_that_still_cannot_run(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    webhook, bot = away_from("oQUEUE", clock, outbox, client, fake_platform)
    await webhook.receive(platform_args(), says("oQUEUE", 701, "我家漏水了"), bot)
    reply = await webhook.receive(platform_args(), says("oQUEUE", 702, "阳光小区3号楼2单元501"), bot)
    assert content(reply.body) == HELD
    assert bot.received == ["我家漏水了", "我家漏水了"]  # the newer one never ran ahead of the kept one
    assert [t.text for t in webhook.held.of("oQUEUE")] == ["我家漏水了", "阳光小区3号楼2单元501"]
    bot.away = False
    clock.now += 60
    await webhook.run_held_due(bot)
    assert bot.received[2:] == ["我家漏水了", "阳光小区3号楼2单元501"]
    assert pushed(fake_platform, "oQUEUE") == ["答：我家漏水了", "答：阳光小区3号楼2单元501"]


async def test_a_kept_turn_the_bot_keeps_failing_on_is_said_plainly_after_three_tries_and_holds_up_nothing(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    webhook, bot = away_from("oPOISON", clock, outbox, client, fake_platform)
    await webhook.receive(platform_args(), says("oPOISON", 751, "是的"), bot)

    async def broken(message: Any) -> None:
        if message.text == "是的":
            raise RuntimeError("a bug in the bot, or its store briefly down")
        await bot(message)

    bot.away = False
    reply = await webhook.receive(platform_args(), says("oPOISON", 752, "供暖时间"), broken)
    assert content(reply.body) == HELD  # tried once more later: a store may just be coming back
    for wait in (10, 20):
        clock.now += wait
        await webhook.run_held_due(broken)
    assert pushed(fake_platform, "oPOISON")[0].startswith("抱歉，系统暂时出了点问题")  # the third try
    assert pushed(fake_platform, "oPOISON")[1:] == ["答：供暖时间"]  # and the next message went on
    assert webhook.held.of("oPOISON") == []


async def test_a_kept_turn_is_given_up_with_a_plain_word_when_the_action_server_stays_away(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wechat, "MAX_KEPT_TRIES", 3)  # an hour of tries, made short
    webhook, bot = away_from("oLONG", clock, outbox, client, fake_platform)
    await webhook.receive(platform_args(), says("oLONG", 761, "是的"), bot)
    for wait in (6, 11, 21):
        clock.now += wait
        await webhook.run_held_due(bot)
    assert pushed(fake_platform, "oLONG") == [wechat.GIVEN_UP]
    assert webhook.held.of("oLONG") == []


async def test_two_retry_loops_run_a_kept_turn_once_and_leave_the_residents_turn_alone(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    """Two Rasa processes' loops find the same kept turn due: one runs it; the other neither runs it
    nor ends the turn the first holds."""
    shared = MemoryState()
    fake_platform.resident_wrote("oTWO")
    one = make_webhook(clock, outbox, state=shared, client=client)
    other = make_webhook(clock, outbox, state=shared, client=client)
    bot = ActionServerAway()
    await one.receive(platform_args(), says("oTWO", 771, "是的"), bot)
    bot.away, bot.gate = False, asyncio.Event()
    clock.now += 6
    loops = asyncio.gather(one.run_held_due(bot), other.run_held_due(bot))
    await bot.entered.wait()
    assert (await shared.get("order-running:oTWO")) is not None
    bot.gate.set()
    await loops
    assert bot.received.count("是的") == 2  # kept once, run once
    assert pushed(fake_platform, "oTWO") == ["答：是的"]
    assert await shared.get("order-running:oTWO") is None


class SlowThenAway(Bot):
    """Rasa on a turn that outlasts the reply budget (until ``gate`` opens), then finds the action
    server away while ``away``."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.away = True

    async def __call__(self, message: Any) -> None:
        if not self.away:
            return await super().__call__(message)
        self.received.append(message.text)
        self.entered.set()
        await self.gate.wait()
        raise TurnAbandoned("the action server at http://actions.test cannot be reached")


async def test_a_turn_past_the_reply_budget_is_kept_while_it_runs_and_run_elsewhere_when_its_process_stops(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    """ "是的" outlasts the 5 s the platform waits: it is answered "success" and runs on. The process is
    killed before the turn ends; the platform never sends the push again. Another process runs it."""
    fake_platform.resident_wrote("oSLOW")
    first = make_webhook(clock, outbox, client=client, reply_budget_seconds=0.05)
    bot = Bot()
    bot.gate = asyncio.Event()  # never opens: the process stops inside the turn
    reply = await first.receive(platform_args(), says("oSLOW", 1101, "是的"), bot)
    assert reply.body == "success"
    assert [t.text for t in first.held.of("oSLOW")] == ["是的"]
    await first.stop()

    second = make_webhook(clock, outbox, client=client)
    after = Bot()
    assert await second.run_held_due(after) == 0  # claimed by the stopped process for a while
    clock.now += held.CLAIM_SECONDS + 1
    assert await second.run_held_due(after) == 1
    assert after.received == ["是的"]
    assert pushed(fake_platform, "oSLOW") == ["答：是的"]
    assert second.held.of("oSLOW") == []


async def past_the_budget(
    openid: str,
    msg_id: int,
    bot: Bot,
    clock: Clock,
    outbox: Outbox,
    client: PlatformClient,
    platform: FakePlatform,
) -> WeChatWebhook:
    """ "是的" held up at the bot's gate past the reply budget (answered "success"), then let through."""
    platform.resident_wrote(openid)
    webhook = make_webhook(clock, outbox, client=client, reply_budget_seconds=0.05)
    reply = await webhook.receive(platform_args(), says(openid, msg_id, "是的"), bot)
    assert reply.body == "success"
    assert bot.gate is not None
    bot.gate.set()
    await webhook.drain()
    return webhook


async def test_a_turn_past_the_reply_budget_is_pushed_once_and_holds_up_neither_the_next_message_nor_the_loop(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    bot = Bot()
    bot.gate = asyncio.Event()
    webhook = await past_the_budget("oLATE", 1201, bot, clock, outbox, client, fake_platform)
    assert pushed(fake_platform, "oLATE") == ["答：是的"]
    assert webhook.held.of("oLATE") == []

    bot.gate = asyncio.Event()
    waiting = waiting_signal(webhook.queue)
    second = await webhook.receive(platform_args(), says("oLATE", 1202, "谢谢"), bot)
    third = asyncio.ensure_future(webhook.receive(platform_args(), says("oLATE", 1203, "再见"), bot))
    await until(waiting, "msg:oLATE:1203")  # "再见" waits behind "谢谢", which is past the budget
    bot.gate.set()
    await webhook.drain()
    heard = [content(r.body) for r in (second, await third) if r.body != "success"] + pushed(fake_platform, "oLATE")
    assert sorted(heard) == sorted(["答：是的", "答：谢谢", "答：再见"])  # once each, and nothing kept
    assert HELD not in heard
    clock.now += held.CLAIM_SECONDS + 600
    assert await webhook.run_held_due(bot) == 0
    assert bot.received == ["是的", "谢谢", "再见"]


async def test_a_request_cancelled_while_its_turn_is_being_kept_still_gets_its_answer_pushed_and_leaves_nothing(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    """The platform hangs up (the web server cancels the request) while the running turn is being kept."""
    fake_platform.resident_wrote("oGONE")
    webhook = make_webhook(clock, outbox, client=client, reply_budget_seconds=0.05)
    keeping, release = threading.Event(), threading.Event()
    keep = webhook.held.keep_running

    def slow_keep(turn: held.HeldTurn) -> None:
        keeping.set()
        release.wait(10)
        keep(turn)

    webhook.held.keep_running = slow_keep  # type: ignore[method-assign]
    bot = Bot()
    bot.gate = asyncio.Event()
    request = asyncio.ensure_future(webhook.receive(platform_args(), says("oGONE", 1401, "是的"), bot))
    while not keeping.is_set():
        await asyncio.sleep(0.01)
    request.cancel()
    release.set()
    bot.gate.set()
    await webhook.drain()
    assert pushed(fake_platform, "oGONE") == ["答：是的"]
    assert webhook.held.of("oGONE") == []
    assert webhook._flights == {}


async def test_a_turn_past_the_reply_budget_that_cannot_run_is_said_kept_and_tried_again_soon(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    bot = SlowThenAway()
    webhook = await past_the_budget("oLATEAWAY", 1301, bot, clock, outbox, client, fake_platform)
    assert pushed(fake_platform, "oLATEAWAY") == [HELD]
    bot.away = False
    clock.now += held.delay_after(0) + 1  # the kept turn's first try, not the running turn's claim
    assert await webhook.run_held_due(bot) == 1
    assert pushed(fake_platform, "oLATEAWAY") == [HELD, "答：是的"]
    assert webhook.held.of("oLATEAWAY") == []


def conversation_with(message_id: str, answer: str) -> Callable[[str], Awaitable[list[dict[str, Any]]]]:
    async def read(openid: str) -> list[dict[str, Any]]:
        return [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "是的", "message_id": message_id},
            {"event": "action", "name": "action_file_work_order"},
            {"event": "bot", "text": answer, "data": {"buttons": None}},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "谢谢", "message_id": "msg:other:1"},
            {"event": "bot", "text": "不客气"},
        ]

    return read


async def test_a_kept_turn_that_ran_before_a_restart_is_not_run_again_and_its_answer_is_sent(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    webhook, bot = away_from("oRAN", clock, outbox, client, fake_platform)
    await webhook.receive(platform_args(), says("oRAN", 801, "是的"), bot)
    # the next try ran the turn and Rasa saved it, but the process stopped before the row was removed
    webhook.read_conversation = conversation_with("msg:oRAN:801", "已为您登记工单，单号 GD20261206000001")
    clock.now += 60
    await webhook.run_held_due(bot)
    assert bot.received == ["是的"]
    assert pushed(fake_platform, "oRAN") == ["已为您登记工单，单号 GD20261206000001"]
    assert webhook.held.of("oRAN") == []


async def test_an_erasure_forgets_the_kept_messages_too(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox)
    await webhook.receive(platform_args(), says("oERASE", 901, "我的电话13800138000"), ActionServerAway())
    assert outbox.forget("oERASE", [])["messages"] == 1
    assert webhook.held.of("oERASE") == []


async def test_a_kept_push_that_comes_again_runs_once_and_is_answered_in_its_reply(
    clock: Clock, outbox: Outbox, client: PlatformClient, fake_platform: FakePlatform
) -> None:
    """The platform's retry of a push that was kept reaches another process (its reply cache lost): the
    kept turn runs once, and its answer is that retry's reply, not a push besides."""
    webhook, bot = away_from("oAGAIN", clock, outbox, client, fake_platform)
    body = says("oAGAIN", 781, "是的")
    assert content((await webhook.receive(platform_args(), body, bot)).body) == HELD
    bot.away = False
    other = make_webhook(clock, outbox, client=client)  # another process, nothing cached
    reply = await other.receive(platform_args(), body, bot)
    assert content(reply.body) == "答：是的"
    assert bot.received == ["是的", "是的"]
    assert pushed(fake_platform, "oAGAIN") == []
    assert other.held.of("oAGAIN") == []


async def test_a_replay_of_an_answered_push_takes_no_place_ahead_of_the_residents_next_message(
    clock: Clock, outbox: Outbox, state: State
) -> None:
    """Whoever replays a push answered already (the platform late, or a leaked signed URL with its body)
    gets the cached reply and holds up nobody."""
    webhook = make_webhook(clock, outbox, state=state)
    body = says("oREPLAYED", 791, "我家暖气不热")
    await webhook.receive(platform_args(), body, Bot())
    again = await webhook.receive(platform_args(), body, Bot())
    assert content(again.body) == "答：我家暖气不热"
    assert await state.queue("order:oREPLAYED") == []


async def test_a_push_taken_over_from_a_stopped_process_is_answered_from_the_conversation(
    clock: Clock, outbox: Outbox, state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process running "是的" saved the turn (the order is filed) and was killed before it answered;
    the balancer replays the push on the other process at once (the push is new, not 4 s old)."""
    monkeypatch.setattr(wechat, "TURN_LEASE_SECONDS", 0.4)
    monkeypatch.setattr(wechat, "LEASE_RENEW_SECONDS", 0.1)
    dying = DiesMidTurn(state)
    first = make_webhook(clock, outbox, state=dying)  # type: ignore[arg-type]
    second = make_webhook(clock, outbox, state=state)
    second.read_conversation = conversation_with("msg:oTAKEN:801", "已为您登记工单，单号 GD20261206000009")
    hung = asyncio.Event()

    async def saved_then_killed(message: Any) -> None:
        dying.dead = True
        hung.set()
        await asyncio.sleep(3600)

    lost = asyncio.ensure_future(first.receive(platform_args(), says("oTAKEN", 801, "是的"), saved_then_killed))
    await hung.wait()
    bot = Bot()
    reply = await second.receive(platform_args(), says("oTAKEN", 801, "是的"), bot)
    assert content(reply.body) == "已为您登记工单，单号 GD20261206000009"
    assert bot.received == []
    lost.cancel()
    await first.stop()


# --- a retried push after a restart ----------------------------------------------------------------
async def test_a_retry_of_a_push_whose_turn_was_saved_before_a_restart_is_answered_from_the_conversation(
    clock: Clock, outbox: Outbox
) -> None:
    """Rasa saved the turn (the order was filed), then the process stopped before answering; the
    platform's retry reaches a new process that remembers nothing: it reads the conversation."""
    webhook = make_webhook(clock, outbox)
    webhook.read_conversation = conversation_with("msg:oRETRY:1001", "已为您登记工单，单号 GD20261206000002")
    clock.now = NOW + 6  # the platform retries 5 s after its first try
    bot = Bot()
    reply = await webhook.receive(platform_args(), says("oRETRY", 1001, "是的"), bot)
    assert content(reply.body) == "已为您登记工单，单号 GD20261206000002"
    assert bot.received == []
    fresh = await webhook.receive(platform_args(), says("oRETRY", 1002, "是的"), bot)  # not in the conversation
    assert content(fresh.body) == "答：是的"


# --- replays and other senders ------------------------------------------------------------------
async def test_a_signed_query_seen_once_is_refused_with_another_body(clock: Clock, outbox: Outbox) -> None:
    """Plaintext mode signs the query, not the body: a leaked signed URL must not carry another message."""
    webhook = make_webhook(clock, outbox)
    bot = Bot()
    query = platform_args(nonce="424242")
    first = await webhook.receive(query, says("oR1", 1101, "供暖时间"), bot)
    forged = await webhook.receive(query, says("oR2", 1102, "转人工"), bot)
    retry = await webhook.receive(query, says("oR1", 1101, "供暖时间"), bot)  # the platform's own retry
    assert content(first.body) == content(retry.body) == "答：供暖时间"
    assert forged.status == 403
    assert bot.received == ["供暖时间"]


async def test_no_other_spelling_of_a_signed_query_escapes_the_binding(clock: Clock, outbox: Outbox) -> None:
    """The signature is SHA-1 of the sorted parts joined together: "0"+timestamp with the nonce's last
    digit dropped signs the same. A timestamp has one spelling (no leading zero), and the binding is
    keyed by the signature itself."""
    webhook = make_webhook(clock, outbox)
    query = platform_args(nonce="4242420")
    await webhook.receive(query, says("oR1", 1151, "供暖时间"), Bot())
    respelled = {**query, "timestamp": "0" + query["timestamp"], "nonce": "424242"}
    assert (await webhook.receive(respelled, says("oR2", 1152, "转人工"), Bot())).status == 403


async def test_with_redis_down_a_process_still_refuses_a_signature_it_has_seen(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, state=BrokenState())
    query = platform_args(nonce="616161")
    await webhook.receive(query, says("oR1", 1161, "供暖时间"), Bot())
    assert (await webhook.receive(query, says("oR2", 1162, "转人工"), Bot())).status == 403


async def test_the_replay_check_is_shared_by_every_rasa_process(clock: Clock, outbox: Outbox, state: State) -> None:
    """Two Rasa processes on one shared state (Redis in the scaled layout): the second refuses too."""
    one, other = make_webhook(clock, outbox, state=state), make_webhook(clock, outbox, state=state)
    query = platform_args(nonce="515151")
    await one.receive(query, says("oR1", 1201, "供暖时间"), Bot())
    forged = await other.receive(query, says("oR2", 1202, "转人工"), Bot())
    assert forged.status == 403


async def test_a_push_reusing_another_residents_msgid_gets_its_own_answer(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox)
    bot = Bot()
    mine = await webhook.receive(platform_args(), says("oVICTIM", 1301, "我家的工单"), bot)
    theirs = await webhook.receive(platform_args(), says("oOTHER", 1301, "供暖时间"), bot)
    assert content(mine.body) == "答：我家的工单"
    assert content(theirs.body) == "答：供暖时间"
    assert bot.received == ["我家的工单", "供暖时间"]

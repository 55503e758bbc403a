"""The WeChat Official Account (公众号) input channel of the Rasa server.

Registered in ``credentials.yml`` as ``channels.wechat.WeChatInput``; the platform posts to
``/webhooks/wechat/webhook``. For each push the channel checks the signature (and in safe mode the
message signature, then decrypts), refuses replays, parses the XML safely and then:

- answers in the passive reply when the bot finishes within the reply budget (4.5 s by default;
  the platform waits 5 s), joining a multi-message turn into one reply;
- otherwise answers ``success`` and delivers the bot's messages through the customer-service API
  (``channels.delivery``: outbox, quota, template fallback);
- never runs the bot twice for the platform's retries of one push (same ``MsgId``; for events the
  same sender and ``CreateTime``): a retry gets the first try's reply when it is ready, else
  ``success``.

Buttons become numbered options ("回复 1 …"); a reply with that number is sent to Rasa as the
button's payload. Proactive messages (``trigger_intent?output_channel=latest``) go through the
same outbox.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.replies import TextReply

from bot.loops import every
from bot.settings import check_secrets
from channels import metrics
from channels.action_calls import TurnAbandoned, retry_actions
from channels.announcements import MassSender
from channels.delivery import (
    TOKEN_ERRORS,
    Courier,
    Outbox,
    PlatformClient,
    PlatformUnavailable,
    TokenCache,
    outbox_table,
)
from channels.held import HeldTurn, HeldTurns, held_table
from channels.internal import MAX_OPENID_CHARS, InternalEndpoints
from channels.ordering import ResidentQueue, place
from channels.protocol import (
    BadPush,
    Envelope,
    Inbound,
    WeChatConfig,
    chosen_option,
    interpret,
    numbered,
    parse_push,
    parse_xml,
    reply_text,
    signature_valid,
)
from channels.state import MemoryState, ResilientState, State, make_state, wait_for_value
from policies.correlation import correlation_for, correlation_id

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL_NAME = "wechat"
# The platform's documented answer for "no passive reply".
NO_REPLY = "success"
TURN_TTL_SECONDS = 300  # the platform retries within about 15 s
# A push is being answered by the process that holds its lease, renewed every second while the bot
# runs; when that process dies the lease lapses within this many seconds (under the reply budget), and
# a replay of the push (the balancer's, or the platform's) takes the turn over instead of losing it.
TURN_LEASE_SECONDS = 3.0
LEASE_RENEW_SECONDS = 1.0
OPTIONS_TTL_SECONDS = 24 * 3600
# A staff member's message to a resident (the platform takes at most 2,048 bytes of text).
MAX_STAFF_TEXT_CHARS = 600
# A resident's photo: fetched at once, then again after these delays while the platform is down.
MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MEDIA_RETRY_DELAYS = (2.0, 10.0, 60.0, 300.0)
# What the resident reads when the bot itself failed on their message.
BOT_FAILED = "抱歉，系统暂时出了点问题，您的消息没有处理成功，请稍后再发一次；紧急情况请拨打客服热线。"
# ... and when their turn could not run but the message is kept, to be answered later (channels/held.py).
HELD = (
    "系统繁忙，您的信息已保存，恢复后会自动为您办理并把结果发给您，不需要重复发送。"
    "漏水等紧急情况请直接拨打供热服务热线。"
)
# A push this much older than its CreateTime may be the platform's retry of a push whose answer was
# lost with a stopped process: the conversation is read first, so that a turn Rasa saved is not run twice.
RETRY_AGE_SECONDS = 4.0
# How often the retry loop looks for kept turns that are due, and how many residents' it runs at once.
HELD_LOOP_SECONDS = 5.0
HELD_RESIDENTS_AT_ONCE = 4
# A kept turn is tried this often while the action server stays away (about an hour: 5, 10, 20, 40, 60 s,
# then every 2 minutes), or this often when the bot fails on it; then the resident is told and it goes.
MAX_KEPT_TRIES = 32
MAX_FAILED_TRIES = 3
GIVEN_UP = "抱歉，系统长时间未能恢复，您之前发来的信息没能办理。请重新发送；漏水等紧急情况请直接拨打供热服务热线。"


@dataclass
class Flight:
    """A push's turn while it runs in this process. When the reply budget passes first, the push is
    answered "success" and the turn is kept in the channel's store while it runs (``kept``, set once it
    is), so that the answer, or the turn itself if this process stops, is never lost."""

    text: str | None = None  # what goes to the bot, once the resident's earlier turns have ended
    finished: bool = False  # the turn has ended without being kept: its answer goes in the reply
    kept: asyncio.Event | None = None  # the push was answered "success": set once the turn is kept
    answer_ids: list[int] | None = None  # the answer, kept in the outbox, for delivery after the turn
    arrived: float = 0.0  # time.monotonic() when the push arrived (the reply time's start)


@dataclass(frozen=True)
class Reply:
    """A transport-neutral HTTP answer."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"
    # (push key, openid) of a reply that carries the bot's answer: recorded once the reply is written
    answered: tuple[str, str] | None = None


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# A conversation's stored events (Rasa's tracker store), for the turns that may have run already.
ReadConversation = Callable[[str], Awaitable[list[dict[str, Any]]]]


def load_menu(path: str | Path) -> dict[str, Any]:
    """The menu definition (``config/wechat_menu.yml``); an absent file is an empty menu."""
    file = Path(path)
    if not file.exists():
        return {"button": []}
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    if not isinstance(data.get("button"), list):
        raise ValueError(f"{file}: the menu needs a 'button' list")
    return data


def menu_intents(menu: Mapping[str, Any]) -> dict[str, str]:
    """CLICK key -> intent, from every button and sub-button of the menu."""
    keys: dict[str, str] = {}
    for button in menu.get("button", []):
        for item in [button, *button.get("sub_button", [])]:
            if item.get("type") == "click" and item.get("key") and item.get("intent"):
                keys[str(item["key"])] = str(item["intent"])
    return keys


class Options:
    """The numbered options last offered to each resident, to read "1" back as a button payload.

    They hold for the resident's next message only: a "2" typed later answers whatever was asked then.
    """

    def __init__(self, state: State) -> None:
        self.state = state

    async def offer(self, openid: str, options: dict[str, str]) -> None:
        await self.state.set(f"options:{openid}", options, ttl=OPTIONS_TTL_SECONDS)

    async def resolve(self, openid: str, text: str) -> str:
        options = await self.state.get(f"options:{openid}")
        if options is None:
            return text
        await self.state.delete(f"options:{openid}")
        number = chosen_option(text)
        return str(options.get(number, text)) if number else text


def answer_to(events: list[dict[str, Any]], message_id: str) -> list[dict[str, Any]] | None:
    """What the bot said after the resident's message ``message_id``, as Rasa's output messages; None
    when the conversation does not hold that message (its turn never ran, or was not saved). A message
    said again under the same id (a reading chosen among the bot's options: actions/handoff.py) belongs
    to the same turn."""
    answer: list[dict[str, Any]] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if answer is not None:
                if event.get("message_id") == message_id:
                    continue
                break
            if event.get("message_id") == message_id:
                answer = []
        elif kind == "bot" and answer is not None:
            data = event.get("data")
            data = data if isinstance(data, dict) else {}
            answer.append({**{k: v for k, v in data.items() if v}, "text": event.get("text")})
    return answer


async def render(messages: list[dict[str, Any]], openid: str, options: Options) -> list[str]:
    """Rasa's messages as texts for WeChat: buttons become numbered options."""
    texts: list[str] = []
    for message in messages:
        text = str(message.get("text") or "")
        buttons = message.get("buttons") or message.get("quick_replies")
        if buttons:
            text, offered = numbered(text, list(buttons))
            await options.offer(openid, offered)
        if message.get("image"):
            text = (text + "\n" + str(message["image"])).strip()
        if text:
            texts.append(text)
    return texts


class WeChatOutput(OutputChannel):
    """Messages the bot sends outside a user's turn (trigger_intent): through the outbox."""

    def __init__(self, courier: Courier, options: Options) -> None:
        self.courier = courier
        self.options = options

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        texts = await render([message], recipient_id, self.options)
        # the backend's notification key, which the action passes on (actions/trust.py)
        handover = message.get("handover")
        await self.courier.push(recipient_id, texts, str(handover)[:100] if handover else None)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.courier.push(recipient_id, [text])


class WeChatWebhook:
    """The webhook's logic, independent of the web framework, so it can be tested directly."""

    def __init__(
        self,
        config: WeChatConfig,
        clock: Callable[[], float] = time.time,
        state: State | None = None,
        outbox: Outbox | None = None,
        client: PlatformClient | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.state = ResilientState(state or make_state(config.redis_url))
        self.outbox = outbox or Outbox(config.outbox_url, clock=clock)
        self.client = client or PlatformClient(config.api_base_url)
        self.tokens = TokenCache(self.state, self.client, config.app_id, config.app_secret)
        self.courier = Courier(
            self.outbox, self.client, self.tokens, config.template_id, retry_delay=config.retry_interval_seconds
        )
        self.options = Options(self.state)
        self.queue = ResidentQueue(self.state)
        self.signed_here = MemoryState()  # the plaintext signatures this process has seen
        self.held = HeldTurns(self.outbox.engine, clock=clock)
        self.announcements = MassSender(self.outbox.engine, self.client, self.tokens, clock=clock)
        # set by the Rasa server's blueprint (the agent's tracker store); None in tests without Rasa
        self.read_conversation: ReadConversation | None = None
        self.menu = menu_intents(load_menu(config.menu_path))
        self.envelope = (
            Envelope(config.token, config.encoding_aes_key, config.app_id) if config.mode != "plaintext" else None
        )
        self._background: set[asyncio.Task[Any]] = set()
        self._flights: dict[str, Flight] = {}

    # URL verification ---------------------------------------------------------------------
    def verify(self, args: Mapping[str, str]) -> Reply:
        """Server URL verification: echo ``echostr`` when the signature is right."""
        if not signature_valid(self.config.token, args, self.clock(), self.config.replay_window_seconds):
            return Reply(403, "invalid signature")
        return Reply(200, args.get("echostr", ""))

    # pushes ------------------------------------------------------------------------------
    async def receive(self, args: Mapping[str, str], body: bytes, on_new_message: OnNewMessage) -> Reply:
        """Handle one push: a passive reply within the budget, else ``success`` and a later push."""
        arrived = time.monotonic()
        try:
            fields, encrypted = self._open(args, body)
            if not encrypted:
                await self._refuse_replayed_query(args, body)
        except BadPush as exc:
            log.info("refused a push: %s", exc)
            return Reply(exc.status, str(exc) if exc.status == 403 else "malformed message")
        inbound = interpret(fields, self.menu, self.config.max_text_chars)
        correlation_id.set(correlation_for(inbound.key))  # the same for the platform's retries of the push
        turn_key = f"turn:{inbound.key}"
        deadline = arrived + self.config.reply_budget_seconds
        lease_key, waited = f"lease:{inbound.key}", False
        while True:
            turn = await self.state.get(turn_key)
            if turn:  # answered already (the platform's retry), or being pushed
                return self._reply(inbound, str(turn.get("text") or ""), args, encrypted)
            if await self.state.add(lease_key, 1, ttl=TURN_LEASE_SECONDS):
                break
            # Another process holds the turn: its answer if it comes in time; the turn if its lease lapses.
            waited = True
            lease = await wait_for_value(self.state, lease_key, deadline, ready=lambda value: value is None)
            if lease is not None:
                return Reply(200, NO_REPLY)
        if waited:
            log.warning("took over %s: the process answering it stopped before it finished", inbound.key)
        else:
            metrics.MESSAGES_RECEIVED.labels(metrics.message_kind(inbound.kind)).inc()
        if inbound.text is not None:
            # the first thing done with a new message for the bot: its place in the resident's queue (a
            # retry or a replay of a push answered already never gets here, so it holds up nobody)
            await self.queue.join(inbound.openid, self._place(inbound))
        renewing = asyncio.ensure_future(self._renew_lease(lease_key))
        try:
            reply = await self._take_turn(turn_key, inbound, args, encrypted, deadline, on_new_message, waited)
            if reply.answered is not None:
                metrics.replied("passive", arrived)
            return reply
        finally:
            renewing.cancel()
            await self.state.delete(lease_key)

    async def _refuse_replayed_query(self, args: Mapping[str, str], body: bytes) -> None:
        """In plaintext mode the signature covers the query only, not the body: a signature seen once
        may come again only with the same body (the platform's retry), never with another. Keyed by the
        signature itself, so no other spelling of the same timestamp and nonce escapes it; kept in the
        shared state (every Rasa process) and in this process (which still refuses while Redis is down)."""
        key = f"signed:{args.get('signature', '')}"
        digest = hashlib.sha256(body).hexdigest()
        ttl = 2 * self.config.replay_window_seconds + 60  # longer than the timestamp stays fresh
        for state in (self.signed_here, self.state):
            if not await state.add(key, digest, ttl=ttl) and await state.get(key) not in (digest, None):
                raise BadPush("this signature was used for another message", status=403)

    @staticmethod
    def _place(inbound: Inbound) -> str:
        return place(inbound.metadata.get("create_time"), inbound.metadata.get("msg_id"), inbound.key)

    async def _renew_lease(self, lease_key: str) -> None:
        while True:
            await asyncio.sleep(LEASE_RENEW_SECONDS)
            await self.state.set(lease_key, 1, ttl=TURN_LEASE_SECONDS)

    async def _take_turn(
        self,
        turn_key: str,
        inbound: Inbound,
        args: Mapping[str, str],
        encrypted: bool,
        deadline: float,
        on_new_message: OnNewMessage,
        taken_over: bool = False,
    ) -> Reply:
        """This process answers the push: passively within the budget, else ``success`` and a later push."""
        if inbound.kind == "image" and MEDIA_ID.match(str(inbound.metadata.get("media_id") or "")):
            # The platform keeps a photo for 3 days: fetch it now, whatever the bot does with it.
            self._spawn(self.keep_media(str(inbound.metadata["media_id"])))
        # A message from the resident opens a new 48-hour customer-service window (retries do not).
        if inbound.metadata.get("event") == "unsubscribe":
            await asyncio.to_thread(self.outbox.unsubscribed, inbound.openid)
        elif inbound.kind != "event" or inbound.text:
            await asyncio.to_thread(self.outbox.inbound, inbound.openid)
        if inbound.text is None:
            texts = [inbound.reply] if inbound.reply else []
            return await self._passive(turn_key, inbound, texts, args, encrypted)
        over = await self._over_rate_limit(inbound.openid)
        if over:
            await self.queue.leave(inbound.openid, self._place(inbound))
            texts = [self.config.rate_limit_text] if over == 1 else []
            return await self._passive(turn_key, inbound, texts, args, encrypted)
        flight = self._flights[inbound.key] = Flight(arrived=deadline - self.config.reply_budget_seconds)
        overdue = False
        try:
            task = self._spawn(self._run_bot(inbound, on_new_message, taken_over))
            done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - time.monotonic()))
            if flight.finished and task not in done:
                await asyncio.wait({task})  # it has ended and only leaves the resident's queue
                done = {task}
            if task in done and task.exception() is None:
                return await self._passive(turn_key, inbound, task.result(), args, encrypted)
            if task in done:
                log.error("the bot failed on %s", inbound.key, exc_info=task.exception())
                return await self._passive(turn_key, inbound, [BOT_FAILED], args, encrypted)
            overdue = True
        finally:
            if not overdue:
                self._flights.pop(inbound.key, None)
        # Over the budget: answer "success" now and push the bot's answer when it is ready. The turn is
        # kept first, claimed by this process (channels/held.py): if this process stops before the turn
        # ends, the retry loop of another runs it (once: a turn Rasa saved is read, not run again). The
        # push and the keeping run in tasks of their own, so that a cancelled request (the platform hung
        # up) neither loses the answer nor marks the turn kept before its row is written.
        flight.kept = asyncio.Event()
        self._spawn(self._push_later(turn_key, inbound, task))
        await asyncio.shield(self._spawn(self._keep_while_running(inbound, flight)))
        await self.state.set(turn_key, {"status": "pushing"}, ttl=TURN_TTL_SECONDS)
        return Reply(200, NO_REPLY)

    async def _over_rate_limit(self, openid: str) -> int:
        """How far this message is over the resident's limit (1 = the first one over); 0 = within it.

        A fixed window on the wall clock, counted in the shared state, so every Rasa process counts
        the same messages; a platform retry of the same push is not counted again (it never gets here).
        """
        limit, window = self.config.rate_limit, self.config.rate_limit_window_seconds
        if limit <= 0:
            return 0
        count = await self.state.incr(f"rate:{openid}:{int(self.clock() // window)}", ttl=window + 5)
        if count <= limit:
            return 0
        if count == limit + 1:
            metrics.RATE_LIMITED.inc()
            log.warning("rate limit: %s sent more than %d messages in %d s", openid, limit, window)
        return count - limit

    def _open(self, args: Mapping[str, str], body: bytes) -> tuple[dict[str, str], bool]:
        """Checks, decrypts and parses a push; returns its fields and whether it was encrypted."""
        if not signature_valid(self.config.token, args, self.clock(), self.config.replay_window_seconds):
            raise BadPush("invalid signature", status=403)
        if len(body) > self.config.max_body_bytes:
            raise BadPush("message too large", status=413)
        encrypted = args.get("encrypt_type", "").lower() == "aes"
        if self.config.mode == "safe" and not encrypted:
            raise BadPush("plaintext pushes are refused in safe mode", status=403)
        if not encrypted:
            return parse_push(body, self.config.max_depth), False
        if self.envelope is None:
            raise BadPush("an encrypted push, but no WECHAT_ENCODING_AES_KEY is configured")
        outer = parse_xml(body, self.config.max_depth)
        if not outer.get("Encrypt"):
            raise BadPush("the encrypted push has no Encrypt")
        inner = self.envelope.open(outer["Encrypt"], args)
        if len(inner) > self.config.max_body_bytes:
            raise BadPush("message too large", status=413)
        return parse_push(inner, self.config.max_depth), True

    # a turn of the bot ----------------------------------------------------------------------
    async def _run_bot(self, inbound: Inbound, on_new_message: OnNewMessage, taken_over: bool = False) -> list[str]:
        """The resident's turn, when every earlier message of theirs has finished: first the messages
        kept from an earlier outage, then this one; kept in turn when the action server is away."""
        flight = self._flights.get(inbound.key) or Flight()
        async with self.queue.turn(inbound.openid, self._place(inbound)):
            flight.text = await self.options.resolve(inbound.openid, inbound.text or "")
            turn = self._held_turn(inbound, flight.text)
            texts, kept = await self._turn_of(inbound, turn, on_new_message, taken_over)
            if flight.kept is None:
                flight.finished = True  # answered in the reply
                return texts
            # answered "success" already: the answer is kept in the outbox before the resident's next
            # message may run, and the turn kept while it ran is done, or handed to the retry loop
            await flight.kept.wait()
            if kept:
                flight.answer_ids = await self.courier.keep(inbound.openid, texts, handover=f"held:{inbound.key}")
                await asyncio.to_thread(self.held.release, inbound.key)
            else:
                flight.answer_ids = await self.courier.keep(inbound.openid, texts, handover=f"turn:{inbound.key}")
                await asyncio.to_thread(self.held.done, inbound.key)
            return texts

    async def _keep_while_running(self, inbound: Inbound, flight: Flight) -> None:
        """Keeps the turn that runs past the reply budget (``HeldTurns.keep_running``), then lets its end go on."""
        assert flight.kept is not None
        try:
            await asyncio.to_thread(self.held.keep_running, self._held_turn(inbound, flight.text))
        except Exception:
            log.exception("could not keep the running turn %s; its answer is still pushed", inbound.key)
        finally:
            flight.kept.set()

    def _held_turn(self, inbound: Inbound, text: str | None) -> HeldTurn:
        """The push as a turn to keep: ``text`` is what goes to the bot (the raw text until it is known)."""
        metadata = {"wechat": {**inbound.metadata, "to_user": inbound.account}}
        return HeldTurn(inbound.key, inbound.openid, self._place(inbound), text or inbound.text or "", metadata)

    async def _turn_of(
        self, inbound: Inbound, turn: HeldTurn, on_new_message: OnNewMessage, taken_over: bool
    ) -> tuple[list[str], bool]:
        """The bot's answer to the push (inside the resident's turn), and whether it was kept instead."""
        ran, answer = await self._run_held(inbound.openid, on_new_message, current=inbound.key, up_to=turn.place)
        if not ran:
            return await self._hold(turn), True  # an earlier message is still waiting: this one goes after it
        if answer is not None:
            return answer, False  # this very push was kept, and has just run
        # A push taken over from a process that stopped, or one old enough to be the platform's
        # retry after a restart, may have had its turn saved already: never run it twice.
        if taken_over or self._may_be_a_retry(inbound):
            answered = await self._answered_already(inbound.openid, inbound.key)
            if answered is not None:
                log.info("%s was answered before a restart: its answer again, the turn not run twice", inbound.key)
                return answered, False
        try:
            return await self._ask_bot(turn, on_new_message), False
        except TurnAbandoned as exc:
            log.warning("kept %s to run again later: %s", inbound.key, exc)
            return await self._hold(turn), True

    async def _ask_bot(self, turn: HeldTurn, on_new_message: OnNewMessage) -> list[str]:
        collector = CollectingOutputChannel()
        await on_new_message(
            UserMessage(
                text=turn.text,
                output_channel=collector,
                sender_id=turn.openid,
                input_channel=CHANNEL_NAME,
                message_id=turn.key,
                metadata=turn.metadata,
            )
        )
        return await render(collector.messages, turn.openid, self.options)

    async def _hold(self, turn: HeldTurn) -> list[str]:
        """Keep the message to run later and say so; if it cannot even be kept, say that plainly."""
        try:
            await asyncio.to_thread(self.held.hold, turn)
        except Exception:
            log.exception("could not keep %s to run later", turn.key)
            return [BOT_FAILED]
        return [HELD]

    async def _run_held(
        self, openid: str, on_new_message: OnNewMessage, current: str | None = None, up_to: str | None = None
    ) -> tuple[bool, list[str] | None]:
        """Runs the resident's kept turns, oldest first (inside the resident's turn). Each answer is pushed
        under the message's key, so a second run of the same answer is not sent twice; the answer to
        ``current`` (this very push, kept before and pushed again) is returned instead, for its reply.
        (False, None) while one still cannot run."""
        mine: list[str] | None = None
        for turn in await asyncio.to_thread(self.held.of, openid):
            if up_to is not None and turn.place > up_to:
                break  # kept while running, and later than this push: not ahead of it
            if turn.key == current and self._running_here(turn.key):
                continue  # this very push, kept only while it runs here: it runs after the earlier ones
            if not await asyncio.to_thread(self.held.claim, turn):
                log.info("kept %s is being tried elsewhere: %s waits", turn.key, current or "the retry loop")
                return False, None  # another process is running it
            log.info("running kept %s (try %d)", turn.key, turn.attempts + 1)
            texts = await self._run_kept(turn, on_new_message)
            if texts is None:
                return False, None
            if turn.key == current:
                mine = texts
            else:
                await self.courier.push(openid, texts, handover=f"turn:{turn.key}")
            await asyncio.to_thread(self.held.done, turn.key)
        return True, mine

    def _running_here(self, key: str) -> bool:
        """Whether the push ``key`` runs in this process after its reply was "success" (kept meanwhile)."""
        flight = self._flights.get(key)
        return flight is not None and flight.kept is not None

    async def _run_kept(self, turn: HeldTurn, on_new_message: OnNewMessage) -> list[str] | None:
        """One try of a kept turn (claimed): its answer, or None when it is put off for a later try. A turn
        that has been tried too often is given up with a plain word to the resident, so that one message
        never holds up the resident's later ones for good."""
        tries = turn.attempts + 1
        try:
            texts = await self._answered_already(turn.openid, turn.key)
            return texts if texts is not None else await self._ask_bot(turn, on_new_message)
        except TurnAbandoned as exc:
            if tries < MAX_KEPT_TRIES:
                log.warning("kept %s still cannot run (try %d): %s", turn.key, tries, exc)
                await asyncio.to_thread(self.held.put_off, turn)
                return None
            log.error("kept %s given up after %d tries: %s", turn.key, tries, exc)
            return [GIVEN_UP]
        except Exception:
            if tries < MAX_FAILED_TRIES:  # a store briefly down while everything comes back
                log.warning("kept %s failed (try %d); tried again later", turn.key, tries, exc_info=True)
                await asyncio.to_thread(self.held.put_off, turn)
                return None
            # the bot itself fails on it, as it may on any message: said plainly, as in a turn
            log.exception("the bot failed on kept %s", turn.key)
            return [BOT_FAILED]

    async def run_held_due(self, on_new_message: OnNewMessage) -> int:
        """One pass of the retry loop: the kept turns of every resident with one due, a few residents at a
        time (one resident whose turn runs long holds up no other); how many residents."""
        gate = asyncio.Semaphore(HELD_RESIDENTS_AT_ONCE)

        async def resident(openid: str) -> int:
            async with gate:
                kept = await asyncio.to_thread(self.held.of, openid)
                if not kept:
                    return 0
                async with self.queue.turn(openid, kept[0].place):
                    await self._run_held(openid, on_new_message)
                return 1

        due = await asyncio.to_thread(self.held.due)
        if due:
            log.info("kept turns due for %d residents", len(due))
        done = await asyncio.gather(*(resident(o) for o in due))
        return sum(done)

    async def run_held_loop(self, on_new_message: OnNewMessage, interval: float = HELD_LOOP_SECONDS) -> None:
        await every(interval, lambda: self.run_held_due(on_new_message), "kept turns")

    def _may_be_a_retry(self, inbound: Inbound) -> bool:
        sent = str(inbound.metadata.get("create_time") or "")
        return self.read_conversation is not None and sent.isdigit() and self.clock() - int(sent) >= RETRY_AGE_SECONDS

    async def _answered_already(self, openid: str, message_id: str) -> list[str] | None:
        """The bot's answer to ``message_id`` if the conversation holds that message (its turn ran and
        was saved), else None."""
        if self.read_conversation is None:
            return None
        try:
            events = await self.read_conversation(openid)
        except Exception:
            log.warning("could not read the conversation of %s to look for %s", openid, message_id, exc_info=True)
            return None
        answer = answer_to(events, message_id)
        return None if answer is None else await render(answer, openid, self.options)

    async def _passive(
        self, turn_key: str, inbound: Inbound, texts: list[str], args: Mapping[str, str], encrypted: bool
    ) -> Reply:
        joined = "\n\n".join(t for t in texts if t)
        await self.state.set(turn_key, {"status": "answered", "text": joined}, ttl=TURN_TTL_SECONDS)
        return self._reply(inbound, joined, args, encrypted)

    async def _push_later(self, turn_key: str, inbound: Inbound, task: asyncio.Future[list[str]]) -> None:
        """Delivers the answer the turn kept in the outbox (``_run_bot``); says so when the bot failed."""
        flight = self._flights.get(inbound.key) or Flight()
        try:
            await task
        except Exception:
            log.exception("the bot failed on %s after the reply budget", inbound.key)
            await self.courier.push(inbound.openid, [BOT_FAILED], handover=f"turn:{inbound.key}")
            await asyncio.to_thread(self.held.done, inbound.key)
        else:
            await self.courier.deliver_all(flight.answer_ids or [])
            if flight.arrived and flight.answer_ids:
                metrics.replied("pushed", flight.arrived)
                log.info("pushed the answer to %s after the reply budget", inbound.key)
        finally:
            self._flights.pop(inbound.key, None)

    def _reply(self, inbound: Inbound, text: str, args: Mapping[str, str], encrypted: bool) -> Reply:
        if not text:
            return Reply(200, NO_REPLY)
        xml = TextReply(source=inbound.account, target=inbound.openid, content=reply_text(text)).render()
        if encrypted and self.envelope is not None:
            timestamp = str(int(self.clock()))
            xml = self.envelope.seal(xml, args.get("nonce", ""), timestamp)
        return Reply(200, xml, "application/xml; charset=utf-8", answered=(inbound.key, inbound.openid))

    async def record_answered(self, reply: Reply) -> None:
        """The reply carrying the turn's answer is written: remember that it went out (``Outbox.answered``).
        Rasa saved the turn before: a process that stops before this line leaves the turn unrecorded, and
        the backend then sends a filed order's number again rather than leave it unheard."""
        if reply.answered is None:
            return
        try:
            await asyncio.to_thread(self.outbox.answered, *reply.answered)
        except Exception:
            log.warning("could not record that %s was answered", reply.answered[0], exc_info=True)

    def _spawn(self, coroutine: Awaitable[T]) -> asyncio.Future[T]:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def send_for_staff(self, openid: str, text: str) -> list[dict[str, Any]]:
        """A staff member's message to a resident, through the same outbox as the bot's: the
        customer-service API within the window and quota, a template, or kept as undelivered."""
        text = text.strip()
        if not openid or not text:
            raise ValueError("openid and text are required")
        if len(openid) > MAX_OPENID_CHARS:
            raise ValueError(f"an openid is at most {MAX_OPENID_CHARS} characters")
        if len(text) > MAX_STAFF_TEXT_CHARS:
            raise ValueError(f"a message is at most {MAX_STAFF_TEXT_CHARS} characters")
        ids = await self.courier.push(openid, [text])
        found = [await asyncio.to_thread(self.outbox.get, message_id) for message_id in ids]
        return [message.__dict__ for message in found if message is not None]

    async def fetch_media(self, media_id: str) -> tuple[bytes, str] | None:
        """A resident's photo: the kept copy, else from the platform's media API (kept from then on).
        None when the platform refuses it (expired or unknown); PlatformUnavailable when it is down."""
        if not MEDIA_ID.match(media_id):
            raise ValueError("not a media id")
        found = await asyncio.to_thread(self.outbox.media, media_id)
        if found is not None:
            return found
        token = await self.tokens.get()
        result = await self.client.get_media(token, media_id)
        if isinstance(result, dict) and int(result.get("errcode") or 0) in TOKEN_ERRORS:
            await self.tokens.invalidate(token)
            result = await self.client.get_media(await self.tokens.get(), media_id)
        if isinstance(result, dict):
            log.warning("the platform refused media %s: %s", media_id, result)
            return None
        await asyncio.to_thread(self.outbox.keep_media, media_id, *result)
        return result

    async def keep_media(self, media_id: str) -> bool:
        """Fetch and keep a photo, retrying while the platform is down; False if it could not be kept."""
        for delay in (0.0, *MEDIA_RETRY_DELAYS):
            await asyncio.sleep(delay)
            try:
                return await self.fetch_media(media_id) is not None
            except PlatformUnavailable as exc:
                log.warning("media %s not fetched yet: %s", media_id, exc)
            except Exception:  # the store is down: try again later, as for the outbox
                log.exception("media %s not kept yet", media_id)
        return False

    async def drain(self) -> None:
        """Waits for answers still being pushed (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def stop(self) -> None:
        """Stops whatever this process still runs in the background (tests of a stopped process)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*list(self._background), return_exceptions=True)


def check_channel_secrets(config: WeChatConfig, rasa_auth_token: str, app_env: str) -> None:
    """The Rasa server refuses to start with its HTTP API open (outside tests) or, in production, with
    a sample or short secret: anyone could otherwise read conversations or sign pushes."""
    secrets = {"RASA_AUTH_TOKEN": rasa_auth_token, "WECHAT_TOKEN": config.token}
    if app_env == "production":
        secrets["WECHAT_APP_SECRET"] = config.app_secret
    check_secrets(app_env, secrets)


async def read_conversation(app: Any, openid: str) -> list[dict[str, Any]]:
    """The stored events of a resident's conversation (its latest session), as Rasa's JSON."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        raise RuntimeError("the conversation store is not loaded yet")
    tracker = await agent.tracker_store.retrieve(openid)
    return [] if tracker is None else [event.as_dict() for event in tracker.events]


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat Official Account."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        values = dict(credentials or {})
        config = WeChatConfig.from_credentials(values)
        admin_token = str(values.get("admin_token") or "")
        check_channel_secrets(config, admin_token, str(values.get("app_env") or "development"))
        return cls(config, admin_token=admin_token)

    def __init__(self, config: WeChatConfig, admin_token: str = "") -> None:
        self.webhook = WeChatWebhook(config)
        self.admin_token = admin_token

    def get_output_channel(self) -> OutputChannel:
        return WeChatOutput(self.webhook.courier, self.webhook.options)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = self.webhook
        admin_token = self.admin_token
        blueprint = Blueprint("wechat_webhook", __name__)

        def to_sanic(reply: Reply) -> HTTPResponse:
            return response.text(reply.body, status=reply.status, content_type=reply.content_type)

        def args_of(request: Request) -> dict[str, str]:
            return {key: request.args.get(key, "") for key in request.args}

        @blueprint.listener("after_server_start")
        async def start_retries(app: Any, _loop: Any) -> None:
            agent = getattr(app.ctx, "agent", None)
            if agent is not None:
                retry_actions(agent)  # Rasa's calls to the action server survive its restarts
            webhook.read_conversation = partial(read_conversation, app)
            webhook._spawn(webhook.courier.run_retries(webhook.config.retry_interval_seconds))
            webhook._spawn(webhook.run_held_loop(on_new_message))

        metrics.install(blueprint, webhook.outbox.engine, outbox_table, held_table)  # the probes and /metrics

        @blueprint.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return to_sanic(webhook.verify(args_of(request)))

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | None:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is not None:
                retry_actions(agent)  # a model loaded since the start has an agent of its own
            reply = await webhook.receive(args_of(request), request.body or b"", on_new_message)
            if reply.answered is None:
                return to_sanic(reply)
            # the answer is written to the platform first, and only then recorded as gone out (in a task of
            # its own: the platform hangs up once it has read the reply, and Sanic cancels this handler)
            sent = await request.respond(to_sanic(reply))
            await sent.send(end_stream=True)
            webhook._spawn(webhook.record_answered(reply))
            return None

        InternalEndpoints(webhook, admin_token).install(blueprint)
        return blueprint

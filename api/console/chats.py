"""The chat desk: waiting and held handoffs, the live chat with the resident, notes and quick replies."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.console import bar, security
from api.console.live import LiveStreams
from api.console.orders import action_request
from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.deps import IdPath
from api.errors import Conflict, Unprocessable
from api.models import Handoff
from api.schemas import MAX_ID, WorkOrderCreate
from api.services import desk as desk_service
from api.services import handoffs, order_actions, replies, resident_notices, work_orders
from api.services.outbound import DeliveryFailed
from api.views import chat, labels
from heating_standard.lifecycle import Action
from heating_standard.privacy import mask_text

router = APIRouter()

REASONS = {
    "requested": "要求人工",
    "anger": "情绪激动",
    "fallback": "连续未能理解",
    "erasure": "申请删除个人信息",
    "other": "其他",
}
Text600 = Annotated[str, Form(min_length=1, max_length=600)]


def _handoff_row(desk: Desk, handoff: Handoff) -> dict[str, Any]:
    waited_until = handoff.taken_at or desk.now
    return {
        "h": handoff,
        "reason": REASONS.get(handoff.reason, handoff.reason),
        "waited": (waited_until - handoff.created_at).total_seconds(),
        "summary": mask_text("\n".join(chat.summary_lines(handoff.summary))),
    }


def _inbox(desk: Desk) -> dict[str, Any]:
    waiting, _ = handoffs.list_handoffs(desk.session, "waiting")
    active, _ = handoffs.list_handoffs(desk.session, "active")
    supervising = desk.principal.may_approve
    return {
        "waiting": [_handoff_row(desk, h) for h in waiting],
        "active": [_handoff_row(desk, h) for h in active],
        "settings": desk_service.settings(desk.session),
        "loads": desk_service.loads(desk.session, desk.now) if supervising else [],
    }


@router.get("/chats", response_class=HTMLResponse)
def inbox_page(desk: DeskDep) -> HTMLResponse:
    return desk.render_page("chats.html", "_chat_list.html", **_inbox(desk))


@router.post("/chats/settings", response_class=HTMLResponse)
def save_desk_settings(
    desk: WritingDeskDep, chat_limit: Annotated[int, Form(ge=1, le=desk_service.CHAT_LIMIT_MAX)]
) -> HTMLResponse:
    """A supervisor turns the round robin on or off and sets each agent's chat limit; turned on, the
    queue is given out at once."""
    auto_assign = desk.form.get("auto_assign") == "1"
    desk_service.save_settings(desk.session, desk.principal, auto_assign, chat_limit, desk.now)
    desk_service.auto_assign(desk.session, desk.now)
    return desk.render("_desk_settings.html", settings=desk_service.settings(desk.session), saved=True)


def _chat_context(desk: Desk, handoff_id: int) -> dict[str, Any]:
    handoff = handoffs.get_handoff(desk.session, handoff_id)
    bot = desk.bot
    try:
        messages, window = handoffs.messages_and_window(desk.session, handoff_id, bot)
        unavailable = None
    except Conflict as exc:
        messages, window, unavailable = [], None, exc.message
    closes_in = None
    if window and window.get("open"):
        closes_in = window["closes_at"] - desk.now.timestamp()
    return {
        "row": _handoff_row(desk, handoff),
        "h": handoff,
        "messages": messages,
        "window": window,
        "closes_in": closes_in,
        "unavailable": unavailable,
        "notes": handoffs.notes(desk.session, handoff_id),
        "orders": handoffs.resident_orders(desk.session, handoff),
        "addresses": handoffs.resident_addresses(desk.session, handoff),
        "known_phone": handoffs.resident_phone(desk.session, handoff),
        "once": secrets.token_urlsafe(16),
        "replies": replies.offered(desk.session, desk.principal),
        # filled as a reply is inserted: only the order's number; the deadline is filled at sending (it may
        # have passed while the page was open) and the resident's name too (the pages do not show it, 12.1)
        "variables": {k: v for k, v in replies.values(desk.session, handoff, desk.now).items() if k == "{单号}"},
        "macro_actions": replies.MACRO_ACTIONS,
        "technicians": work_orders.technician_accounts(desk.session),
        "holds": handoff.status == "active" and handoff.taken_by == desk.principal.name,
        "agents": handoffs.assignable_staff(desk.session) if desk.principal.may_approve else [],
        "here": _colleagues_here(desk, handoff_id),
        "labels": labels,
    }


@router.get("/chats/{handoff_id}", response_class=HTMLResponse)
def chat_page(handoff_id: IdPath, desk: DeskDep) -> HTMLResponse:
    return desk.render("chat.html", **_chat_context(desk, handoff_id))


@router.get("/chats/{handoff_id}/transcript", response_class=HTMLResponse)
def chat_transcript(handoff_id: IdPath, desk: DeskDep) -> HTMLResponse:
    return desk.render("_transcript.html", **_chat_context(desk, handoff_id))


@router.get("/chats/{handoff_id}/panel", response_class=HTMLResponse)
def chat_panel(handoff_id: IdPath, desk: DeskDep) -> HTMLResponse:
    return desk.render("_chat_panel.html", **_chat_context(desk, handoff_id))


def _colleagues_here(desk: Desk, handoff_id: int) -> list[desk_service.Here]:
    return [h for h in desk_service.here(desk.session, handoff_id, desk.now) if h.staff != desk.principal.name]


@router.get("/chats/{handoff_id}/presence", response_class=HTMLResponse)
def chat_presence(handoff_id: IdPath, desk: DeskDep) -> HTMLResponse:
    """Who else has the chat open, and who of them is typing (fetched when the stream says ``presence``)."""
    handoffs.get_handoff(desk.session, handoff_id)
    return desk.render("_presence.html", here=_colleagues_here(desk, handoff_id))


@router.post("/chats/{handoff_id}/typing", status_code=204)
def chat_typing(handoff_id: IdPath, desk: WritingDeskDep) -> Response:
    """The reply box says its member of staff is typing (every few seconds while keys are pressed)."""
    handoffs.get_handoff(desk.session, handoff_id)
    desk_service.typing(desk.session, desk.principal.name, handoff_id, desk.now)
    return Response(status_code=204)


class ChatLook:
    """The looks of one stream at one chat, each in a worker thread; each returns the chat's fingerprint,
    which changes when anything shown changes (messages, delivery states, the holder, notes), and the
    top bar's (``api.console.bar``: the page's one stream carries both).

    A look opens its own short session, which also checks that the login is still alive (LoginRequired
    otherwise), and closes it before the channel and the bot are asked. It reads the WeChat channel's
    outbox every time (a few milliseconds: the resident's last message time and the outbox's states)
    but the conversation from Rasa's tracker (the whole conversation, about 12 ms of Rasa's time) only
    when the channel shows something new, for ``SETTLING_LOOKS`` looks after it (the channel records a
    message a moment before the conversation does), and every ``FULL_LOOK_EVERY`` looks in any case."""

    SETTLING_LOOKS = 3
    FULL_LOOK_EVERY = 10

    def __init__(self, request: Request, handoff_id: int) -> None:
        self.request = request
        self.handoff_id = handoff_id
        self.channel_seen: Any = None
        self.settling = 0
        self.since_conversation = 0
        self.messages: list[tuple[str, str]] = []
        self.sayer = desk_service.Sayer(handoff_id)

    def __call__(self) -> dict[str, str]:
        state = self.request.app.state
        now = state.clock()
        with state.session_factory() as session:
            principal = security.console_principal(self.request, session, now)
            handoff = handoffs.get_handoff(session, self.handoff_id)
            notes = len(handoffs.notes(session, self.handoff_id))
            shown: list[Any] = [handoff.status, handoff.taken_by, handoff.assigned_to, handoff.work_order_id, notes]
            openid = handoff.resident_openid
            self.sayer.say(session, principal.name, now)
            here = desk_service.here(session, self.handoff_id, now)
            others = [[h.staff, h.typing] for h in here if h.staff != principal.name]
            counted, mine = desk_service.bar_counts(session, principal.name)
        return {
            "changed": self._chat(openid),
            "panel": json.dumps(shown),
            "presence": json.dumps(others),
            "bar": bar.fingerprint(state.bot, counted, mine),
        }

    def _chat(self, openid: str) -> str:
        state = self.request.app.state
        try:
            rows, window = state.bot.outbox(openid)
        except DeliveryFailed:
            return json.dumps(["the channel does not answer"], ensure_ascii=False)
        channel = [[(r.get("id"), r.get("status"), r.get("via")) for r in rows], (window or {}).get("last_inbound_at")]
        if channel != self.channel_seen:
            self.channel_seen, self.settling = channel, self.SETTLING_LOOKS + 1
        self.since_conversation += 1
        if self.settling or self.since_conversation >= self.FULL_LOOK_EVERY:
            self.settling = max(0, self.settling - 1)
            self.since_conversation = 0
            try:
                found = handoffs.messages_from(state.bot.transcript(openid), rows)
                self.messages = [(m.sender, m.text) for m in found]
            except DeliveryFailed:
                self.messages = []
        return json.dumps([channel, self.messages], ensure_ascii=False)


def _stream_opener(request: Request, handoff_id: int) -> str:
    """Who opens the stream (LoginRequired without a live login; NotFound for no such chat)."""
    with request.app.state.session_factory() as session:
        principal = security.console_principal(request, session, request.app.state.clock())
        handoffs.get_handoff(session, handoff_id)
    return principal.name


@router.get("/chats/{handoff_id}/stream")
async def chat_stream(handoff_id: IdPath, request: Request) -> Response:
    """Server-sent events: ``changed`` whenever the chat changes (the page then fetches the transcript),
    so a resident's message appears within about a second without reloading. The stream holds nothing
    between its looks (``api.console.live``), ends at logout, and each member of staff may hold only a
    few (429 beyond)."""
    live: LiveStreams = request.app.state.live_streams
    staff = await live.look(_stream_opener, request, handoff_id)
    return live.respond(request, staff, ChatLook(request, handoff_id))


def _refresh(desk: Desk, handoff_id: int) -> HTMLResponse:
    return desk.render("_chat_panel.html", **_chat_context(desk, handoff_id))


@router.post("/chats/{handoff_id}/take", response_class=HTMLResponse)
def take(handoff_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    handoffs.take_handoff(desk.session, handoff_id, desk.principal, desk.now)
    return _refresh(desk, handoff_id)


@router.post("/chats/{handoff_id}/send", response_class=HTMLResponse)
def send(handoff_id: IdPath, desk: WritingDeskDep, text: Text600) -> HTMLResponse:
    """Send the reply; variables still in it ({单号}, {时限}, {居民称呼}) are filled, or the reply refused."""
    handoff = handoffs.get_handoff(desk.session, handoff_id)
    text = replies.fill(text, replies.values(desk.session, handoff, desk.now))
    handoffs.send_message(desk.session, handoff_id, desk.principal, text, desk.bot, desk.now)
    return _refresh(desk, handoff_id)


@router.post("/chats/{handoff_id}/macro/{reply_id}", response_class=HTMLResponse)
def run_macro(handoff_id: IdPath, reply_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """One click: a shared reply that also acts. Respond and dispatch act on the chat's order first (a
    refusal sends nothing); the reply then tells the resident. Ending the chat comes after the reply."""
    handoff = handoffs.get_handoff(desk.session, handoff_id)
    if handoff.status != "active" or handoff.taken_by != desk.principal.name:
        raise Conflict("接管这个会话后才能使用一键操作", code="transition_not_allowed")
    macro = replies.macro(desk.session, reply_id)
    replies.fill(macro.text, replies.values(desk.session, handoff, desk.now))  # refused before anything is done
    bot = desk.bot
    if macro.action in ("respond", "dispatch"):
        if handoff.work_order_id is None:
            raise Conflict("本会话还没有关联工单：请先关联或登记工单，再用这个一键操作", code="transition_not_allowed")
        action = Action(macro.action)
        form = {k: desk.form.get(k, "") for k in ("technician", "technician_id")} if action == Action.DISPATCH else {}
        body = action_request(action, form)
        ctx = desk.ctx
        order_actions.perform_action(desk.session, handoff.work_order_id, action, body, desk.principal, ctx)
    try:
        # filled after the action: {时限} is then the order's next deadline, not the one just met
        text = replies.fill(macro.text, replies.values(desk.session, handoff, desk.now))
        handoffs.send_message(desk.session, handoff_id, desk.principal, text, bot, desk.now)
    except (Conflict, Unprocessable) as exc:
        if macro.action in ("respond", "dispatch"):  # the order changed; the resident is told later
            context = _chat_context(desk, handoff_id)
            context["filing_untold"] = (
                f"工单已{MACRO_DONE[macro.action]}，但回复没能发给居民（{exc.message}）。请稍后再告知居民。"
            )
            return desk.render("_chat_panel.html", **context)
        raise
    if macro.action == "close":
        handoffs.close_handoff(desk.session, handoff_id, desk.principal, bot, desk.now)
    return _refresh(desk, handoff_id)


MACRO_DONE = {"respond": "标记为已响应", "dispatch": "派工"}


@router.post("/chats/{handoff_id}/close", response_class=HTMLResponse)
def close(handoff_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """Hand the conversation back to the bot and close the handoff."""
    handoffs.close_handoff(desk.session, handoff_id, desk.principal, desk.bot, desk.now)
    return _refresh(desk, handoff_id)


@router.post("/chats/{handoff_id}/assign", response_class=HTMLResponse)
def assign(
    handoff_id: IdPath, desk: WritingDeskDep, username: Annotated[str, Form(min_length=1, max_length=64)]
) -> HTMLResponse:
    handoffs.assign_handoff(desk.session, handoff_id, desk.principal, username, desk.now)
    return _refresh(desk, handoff_id)


@router.post("/chats/{handoff_id}/notes", response_class=HTMLResponse)
def add_note(
    handoff_id: IdPath, desk: WritingDeskDep, text: Annotated[str, Form(min_length=1, max_length=2000)]
) -> HTMLResponse:
    handoffs.add_note(desk.session, handoff_id, desk.principal, text, desk.now)
    return _refresh(desk, handoff_id)


@router.post("/chats/{handoff_id}/link", response_class=HTMLResponse)
def link(handoff_id: IdPath, desk: WritingDeskDep, order_id: Annotated[int, Form(ge=1, le=MAX_ID)]) -> HTMLResponse:
    handoffs.link_order(desk.session, handoff_id, desk.principal, order_id, desk.now)
    return _refresh(desk, handoff_id)


@router.post("/chats/{handoff_id}/order", response_class=HTMLResponse)
def file_order(handoff_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """File an order for the chat's resident and link the chat to it, with the address and phone the
    resident already gave the bot unless the agent types others (the page shows them masked, 12.1; the
    full ones are read here), then tell the resident its number and promise in the chat, as the bot does
    for its own filings. Only the member of staff who holds the chat files from it."""
    handoff = handoffs.get_handoff(desk.session, handoff_id)
    if handoff.status != "active" or handoff.taken_by != desk.principal.name:
        raise Conflict("接管这个会话后才能为居民登记工单", code="transition_not_allowed")
    known = {str(a.id): a.text for a in handoffs.resident_addresses(desk.session, handoff)}
    typed_address = desk.form.get("address", "").strip()
    typed_phone = desk.form.get("phone", "").strip()
    known_phone = handoffs.resident_phone(desk.session, handoff) if desk.form.get("known_phone") else None
    body = {
        "kind": desk.form.get("kind", ""),
        "category": desk.form.get("category", ""),
        "source": "wechat",
        "description": desk.form.get("description", "").strip(),
        "resident_openid": handoff.resident_openid,
        "address": typed_address or known.get(desk.form.get("address_id", "")) or None,
        "phone": typed_phone or known_phone,
    }
    data = validated(WorkOrderCreate, body)
    ctx = desk.ctx
    once = desk.form.get("once", "")[:64] or None  # the form's own key: a second click files nothing new
    key = f"chat:{handoff_id}:{once}" if once else None
    by = desk.principal.name
    order, created = work_orders.create_work_order(desk.session, data, ctx, idempotency_key=key, actor=by)
    handoffs.link_order(desk.session, handoff_id, desk.principal, order.id, desk.now)
    if not created:
        return _refresh(desk, handoff_id)  # told already, by the first submission
    told = resident_notices.filed_message(order)
    try:
        handoffs.send_message(desk.session, handoff_id, desk.principal, told, desk.bot, desk.now)
    except Conflict as exc:  # the order stands: the agent tells the resident once the channel is back
        context = _chat_context(desk, handoff_id)
        untold = f"工单 {order.number} 已登记，但没能发给居民（{exc.message}）。请稍后在回复中告知单号。"
        context["filing_untold"] = untold
        return desk.render("_chat_panel.html", **context)
    return _refresh(desk, handoff_id)

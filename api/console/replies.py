"""快捷回复 (/console/replies): the shared quick replies supervisors keep, with their macros, and each
member of staff's own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep
from api.deps import IdPath
from api.services import replies

router = APIRouter()

Title = Annotated[str, Form(min_length=1, max_length=32)]
Text = Annotated[str, Form(min_length=1, max_length=600)]


def _lists(desk: Desk) -> dict[str, Any]:
    """What both the page and its table show: the shared replies, one's own, the macros' words."""
    return {
        "replies": replies.canned_replies(desk.session),
        "mine": replies.personal_replies(desk.session, desk.principal.name),
        "macro_actions": replies.MACRO_ACTIONS,
    }


def _table(desk: Desk) -> HTMLResponse:
    return desk.render("_replies_table.html", **_lists(desk))


@router.get("/replies", response_class=HTMLResponse)
def replies_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("replies.html", **_lists(desk), variables=replies.VARIABLES)


@router.post("/replies", response_class=HTMLResponse)
def add_reply(desk: WritingDeskDep, title: Title, text: Text) -> HTMLResponse:
    """A shared reply (supervisors), or with ``mine=1`` one of the member of staff's own (anyone)."""
    if desk.form.get("mine") == "1":
        replies.add_personal_reply(desk.session, desk.principal, title.strip(), text.strip(), desk.now)
    else:
        replies.add_canned_reply(desk.session, desk.principal, title.strip(), text.strip(), desk.now)
    return _table(desk)


@router.post("/replies/{reply_id}/edit", response_class=HTMLResponse)
def edit_reply(reply_id: IdPath, desk: WritingDeskDep, title: Title, text: Text) -> HTMLResponse:
    replies.edit_canned_reply(desk.session, desk.principal, reply_id, title.strip(), text.strip(), desk.now)
    return _table(desk)


@router.post("/replies/{reply_id}/delete", response_class=HTMLResponse)
def delete_reply(reply_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    replies.delete_canned_reply(desk.session, desk.principal, reply_id, desk.now)
    return _table(desk)


@router.post("/replies/{reply_id}/macro", response_class=HTMLResponse)
def set_macro(reply_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """A supervisor makes a shared reply also act (respond, dispatch, end the chat), or plain again."""
    action = desk.form.get("action") or None
    replies.set_macro(desk.session, desk.principal, reply_id, action, desk.now)
    return _table(desk)


@router.post("/replies/mine/{reply_id}/edit", response_class=HTMLResponse)
def edit_mine(reply_id: IdPath, desk: WritingDeskDep, title: Title, text: Text) -> HTMLResponse:
    replies.edit_personal_reply(desk.session, desk.principal, reply_id, title.strip(), text.strip(), desk.now)
    return _table(desk)


@router.post("/replies/mine/{reply_id}/delete", response_class=HTMLResponse)
def delete_mine(reply_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    replies.delete_personal_reply(desk.session, desk.principal, reply_id, desk.now)
    return _table(desk)

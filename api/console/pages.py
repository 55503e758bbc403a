"""What every console page shares: the logged-in desk, the templates and their filters, error fragments."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.console import security
from api.deps import NowDep, SessionDep, app_settings, bot_client, get_context, model_trainer, operator_file
from api.errors import AppError, Unprocessable
from api.services import hotline_import, staff
from api.services.outbound import BotClient
from api.services.principals import CONSOLE_ROLES, FIELD_ROLES, STAFF_ROLES, Principal, Role
from api.services.trainer import Trainer
from api.services.work_orders import Context
from api.settings import Settings
from heating_standard.localtime import LOCAL_TZ
from heating_standard.operator import OperatorFile
from heating_standard.privacy import mask_address, mask_phone, mask_text

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def local_time(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """Every time in the console is Beijing time, whatever the server's TZ."""
    if moment is None:
        return ""
    return moment.astimezone(LOCAL_TZ).strftime(fmt)


def duration(seconds: float) -> str:
    """A wait or a countdown in words a desk reads at a glance: 3分钟, 2小时5分, 3天2小时."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分钟"


def figure(value: float) -> str:
    """A count with thousands separators; a fraction with at most two decimals."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# Who did something when it was not a member of staff: the bot, the hotline import and the scheduler act
# with the machine token.
MACHINE_WORDS = "系统（机器人/自动）"


def staff_name(name: str | None) -> str:
    """A principal's name without its prefix ("staff:wang" → "wang"); the machine in words."""
    if name in ("machine", "system"):  # the machine token, or a service acting on its own (the round robin)
        return MACHINE_WORDS
    return (name or "").removeprefix("staff:")


@pass_context
def staff_display(context: Any, name: str | None) -> str:
    """A member of staff by display name on the page being rendered (``Desk.staff_names``), else by name."""
    desk = context.get("desk")
    names = desk.staff_names if isinstance(desk, Desk) else {}
    return names.get(name or "") or staff_name(name)


def clip(text: object, limit: int) -> str:
    """Text for a table cell, at most ``limit`` characters; "…" marks a cut."""
    words = "" if text is None else str(text)
    return words if len(words) <= limit else words[:limit] + "…"


templates.env.filters.update(
    local=local_time,
    duration=duration,
    staff=staff_display,
    figure=figure,
    clip=clip,
    mask_phone=mask_phone,
    mask_text=mask_text,
    mask_address=mask_address,
)

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# The API's error codes as a desk reads them, when the backend's reason is not in Chinese (it is then
# folded away as technical detail).
ERROR_WORDS = {
    "transition_not_allowed": "当前状态不允许这个操作",
    "forbidden": "您的角色无权执行这个操作",
    "not_found": "没有找到",
    "bot_unavailable": "机器人或微信通道暂时不可用，请稍后重试",
    "conflict": "与已有数据冲突",
    "validation_error": "填写有误",
    "csrf_failed": "页面已过期，请刷新后重试",
    "not_authenticated": "请重新登录",
    "internal_error": "系统出错，操作可能未完成，请稍后重试",
    "too_many_attempts": "尝试次数过多，请稍后再试",
    "bad_request": "提交的内容无法读取（可能过大），请检查后重试",
    "too_large": "提交的内容过大",
    "too_many_streams": "同时打开的实时会话页面过多",
}


@dataclass
class Desk:
    """One request of a logged-in member of staff."""

    request: Request
    session: Session
    principal: Principal
    now: datetime
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadFile] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value of a field sent more than once

    @property
    def csrf(self) -> str:
        return security.csrf_for(security.session_token(self.request))

    @cached_property
    def staff_names(self) -> dict[str, str]:
        """Every member of staff's display name by principal name ("staff:wang" → "王小红"), for pages that
        name who took, was assigned or did something (a small table, read once per page)."""
        return staff.display_names(self.session)

    @property
    def me(self) -> str:
        return self.staff_names.get(self.principal.name) or staff_name(self.principal.name)

    @property
    def settings(self) -> Settings:
        return app_settings(self.request)

    @property
    def operator_config(self) -> OperatorFile:
        return operator_file(self.request)

    @property
    def bot(self) -> BotClient:
        return bot_client(self.request)

    @property
    def trainer(self) -> Trainer | None:
        return model_trainer(self.request)

    @property
    def ctx(self) -> Context:
        """The use-case context of this request (the clock's reading, the operator file, back-dating)."""
        return get_context(self.settings, self.operator_config, self.now)

    def render_page(self, page: str, fragment: str, **context: Any) -> HTMLResponse:
        """One URL for a page and the fragment it refreshes: htmx's own requests (the page's polling, its
        filters) get the fragment, a browser's the whole page, which includes it."""
        htmx = self.request.headers.get("HX-Request") == "true"
        return self.render(fragment if htmx else page, **context)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.update(desk=self, now=self.now)
        return templates.TemplateResponse(self.request, template, context, status_code=status_code)


def desk_for(roles: frozenset[Role]) -> Callable[[Request, Session, datetime], Desk]:
    """A dependency: the desk of a logged-in member of staff whose role the page is for."""

    def get_desk(request: Request, session: SessionDep, now: NowDep) -> Desk:
        return Desk(request, session, security.console_principal(request, session, now, roles), now)

    return get_desk


def writing_desk_for(roles: frozenset[Role]) -> Callable[[Request, Session, datetime], Awaitable[Desk]]:
    """A dependency: a desk for a state-changing request, whose CSRF token must match (form field or
    htmx header)."""

    async def get_writing_desk(request: Request, session: SessionDep, now: NowDep) -> Desk:
        principal = security.console_principal(request, session, now, roles)
        sent = await request.form(max_part_size=MAX_FIELD_BYTES)  # at most MAX_BODY_BYTES (api.body_limit)
        form = {key: value for key, value in sent.items() if isinstance(value, str)}
        files = {key: value for key, value in sent.items() if isinstance(value, UploadFile)}
        lists: dict[str, list[str]] = {}
        for key, value in sent.multi_items():
            if isinstance(value, str):
                lists.setdefault(key, []).append(value)
        security.check_csrf(request, form.get(security.CSRF_FIELD))
        return Desk(request, session, principal, now, form, files, lists)

    return get_writing_desk


# The desk's pages (agents, supervisors, admins); the technician's own (api/console/field.py); and the
# few that are everyone's (the start page, logging out).
DeskDep = Annotated[Desk, Depends(desk_for(STAFF_ROLES))]
WritingDeskDep = Annotated[Desk, Depends(writing_desk_for(STAFF_ROLES))]
FieldDeskDep = Annotated[Desk, Depends(desk_for(FIELD_ROLES))]
FieldWritingDeskDep = Annotated[Desk, Depends(writing_desk_for(FIELD_ROLES))]
AnyDeskDep = Annotated[Desk, Depends(desk_for(CONSOLE_ROLES))]
AnyWritingDeskDep = Annotated[Desk, Depends(writing_desk_for(CONSOLE_ROLES))]


# A console form field may carry a whole hotline file back from its preview to the save (base64 of at
# most MAX_FILE_BYTES); Starlette's default of 1 MB refused files over about 768 KB. Only a logged-in
# member of staff gets this far (the session is checked before the form is read).
MAX_FIELD_BYTES = 4 * (hotline_import.MAX_FILE_BYTES // 3 + 1) + 1024
# A whole console request: the largest field and the form around it. A larger one is refused as it is
# read, its length declared or not (api.body_limit): a file part would otherwise be spooled to disk
# whatever its size.
MAX_BODY_BYTES = MAX_FIELD_BYTES + 64 * 1024


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], body: dict[str, Any]) -> M:
    """A form read into the API's own model, so the console accepts exactly what the API accepts;
    the first bad field is a 422 naming it."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "form"
        raise Unprocessable(field, str(first.get("msg", "invalid"))) from None


# A room-temperature test's fields on a completion form (templates/_temperature_test_fields.html), read into
# the API's record (api.schemas.TemperatureTestRecord) by ``temperature_test_form``.
READING_FIELDS = ("reading_1", "reading_2", "reading_3")


def temperature_test_form(form: dict[str, str]) -> dict[str, Any] | None:
    """The record a completion form carries, or None when it has no test fields (not a temperature test)."""
    if not any(form.get(name, "").strip() for name in (*READING_FIELDS, "instrument")):
        return None
    record: dict[str, Any] = {
        "readings": [form.get(name, "").strip() for name in READING_FIELDS if form.get(name, "").strip()],
        "instrument": form.get("instrument", "").strip(),
        "resolution": form.get("resolution", "").strip() or "0.1",
        "room": form.get("room", ""),
        "signature": form.get("signature", ""),
    }
    for name, key in (("outdoor_temperature", "outdoor_temperature"), ("excluded", "excluded"), ("test_note", "note")):
        if form.get(name, "").strip():
            record[key] = form[name].strip()
    return record


def pasted_lines(text: str, header: str) -> Iterator[tuple[int, list[str]]]:
    """Lines pasted from a spreadsheet as CSV (full-width commas too), numbered from 1, each as its trimmed
    cells; blank lines and the header line (first cell ``header``) skipped."""
    for number, line in enumerate(csv.reader(io.StringIO(text.replace("，", ","))), start=1):
        cells = [c.strip() for c in line]
        if any(cells) and cells[0] != header:
            yield number, cells


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def explained(exc: AppError) -> tuple[str, str]:
    """What a desk reads of a refusal: the backend's own reason when it is given in Chinese (the real
    reason: "这个会话已指派给李明…", not the role's), else the code's words, with the backend's sentence
    kept apart as technical detail (folded on the page, for IT)."""
    reason = exc.message
    if isinstance(exc, Unprocessable) and reason.startswith(f"{exc.field}: "):
        reason = reason.removeprefix(f"{exc.field}: ")
    if exc.status_code < 500 and CHINESE.search(reason):
        return reason, ""
    return ERROR_WORDS.get(exc.code, "操作未完成"), exc.message


def error_fragment(request: Request, exc: AppError) -> Response:
    """A failed action: a banner in the page (htmx swaps it into #flash), or a page of its own."""
    if isinstance(exc, security.LoginRequired):
        target = "/console/login"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if isinstance(exc, security.WrongDesk) and request.method == "GET" and not is_htmx(request):
        return RedirectResponse(exc.home, status_code=303)
    words, detail = explained(exc)
    context = {"words": words, "detail": detail, "status": exc.status_code}
    template = "_error.html" if is_htmx(request) else "error.html"
    page = templates.TemplateResponse(request, template, context, status_code=exc.status_code)
    page.headers.update(security.CONSOLE_HEADERS)
    return page

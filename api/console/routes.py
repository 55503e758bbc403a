"""The console's front door (login, logout), its alerts bar, static files, and how it is mounted."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console import (
    announcements,
    bar,
    callbacks,
    campaigns,
    chats,
    fee_reminders,
    field,
    grid_workers,
    hotline_import,
    kpis,
    models,
    orders,
    outages,
    photos,
    replies,
    review,
    sampling,
    security,
    undelivered,
)
from api.console.live import LiveStreams
from api.console.pages import HERE, AnyDeskDep, AnyWritingDeskDep, DeskDep, error_fragment, templates
from api.deps import NowDep, SessionDep
from api.errors import AppError
from api.services import desk as desk_service
from api.services import scheduler, staff
from api.services.audit import record

router = APIRouter()
# The staff notifications the top bar lists, of the last day.
LATEST_ALERTS = 15


def _login_form(request: Request, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    """The login form with a fresh double-submit nonce (its cookie and its hidden field)."""
    nonce = secrets.token_urlsafe(24)
    context = {"error": error, "nonce": nonce}
    response = templates.TemplateResponse(request, "login.html", context, status_code=status_code)
    security.set_login_nonce(response, nonce, request.app.state.settings.secure_cookies)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    now: NowDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    nonce: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The same login as the API (hashed passwords, the failure lock); the token goes into a cookie."""
    settings = request.app.state.settings
    if not security.login_nonce_matches(request, nonce):
        return _login_form(request, "登录页面已过期，请重试。", 403)
    address = request.client.host if request.client else "unknown"
    try:
        token, staff_session = staff.login_as_configured(session, settings, username, password, address, now)
    except staff.TooManyAttempts:
        return _login_form(request, "失败次数过多，请稍后再试或联系管理员。", 429)
    except AppError:
        return _login_form(request, "用户名或密码不正确。", 401)
    record(session, now, f"staff:{staff_session.staff_user.username}", "console.login", None, address)
    session.commit()
    principal = staff.principal_of(staff_session.staff_user)
    response = RedirectResponse(security.home_of(principal), status_code=303)
    max_age = int((staff_session.expires_at - now).total_seconds())
    security.set_session_cookie(response, token, max_age, settings.secure_cookies)
    response.delete_cookie(security.LOGIN_COOKIE, path=security.COOKIE_PATH)
    return response


@router.post("/logout")
def logout(desk: AnyWritingDeskDep) -> Response:
    staff.logout(desk.session, security.session_token(desk.request))
    record(desk.session, desk.now, desk.principal.name, "console.logout")
    desk.session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    security.clear_session_cookie(response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(desk: AnyDeskDep) -> Response:
    """Each role's start page: the desk's chats, or the technician's own orders."""
    return RedirectResponse(security.home_of(desk.principal), status_code=303)


@router.get("/alerts", response_class=HTMLResponse)
def alerts(desk: DeskDep) -> HTMLResponse:
    """The top bar (``api.console.bar``) and the latest staff notifications. Fetched again whenever the
    page's stream says ``bar``, and every 15 s should the stream be unavailable."""
    found, mine = desk_service.bar_counts(desk.session, desk.principal.name)
    latest = scheduler.latest_for_staff(desk.session, desk.now - timedelta(hours=24), LATEST_ALERTS)
    heard = bar.last_written(desk.bot, mine)
    return desk.render("_alerts.html", **found, heard=heard, latest=latest)


class BarLook:
    """One look of a page's top-bar stream, in its own short session (which also checks the login),
    closed before the channel is asked."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.sayer = desk_service.Sayer(desk_service.DESK)

    def __call__(self) -> dict[str, str]:
        state = self.request.app.state
        now = state.clock()
        with state.session_factory() as session:
            principal = security.console_principal(self.request, session, now)
            self.sayer.say(session, principal.name, now)  # on the desk: the round robin's to know
            found, mine = desk_service.bar_counts(session, principal.name)
        return {"bar": bar.fingerprint(state.bot, found, mine)}


def _bar_opener(request: Request) -> str:
    with request.app.state.session_factory() as session:
        return security.console_principal(request, session, request.app.state.clock()).name


@router.get("/alerts/stream")
async def alerts_stream(request: Request) -> Response:
    """Server-sent events for the top bar of a console page other than a chat's (whose own stream carries
    them): ``bar`` when a chat starts waiting, a deadline is reminded or breached, or a resident writes in
    a chat this member of staff holds. One stream per page, counted with the chat pages' (a few per
    member of staff, 429 beyond: the bar then falls back to its 15 s poll), so that a browser's six
    connections per server are never all taken by streams."""
    live: LiveStreams = request.app.state.live_streams
    staff_name = await live.look(_bar_opener, request)
    return live.respond(request, staff_name, BarLook(request))


PARTS = (
    router,
    chats.router,
    replies.router,
    orders.router,
    hotline_import.router,
    callbacks.router,
    outages.router,
    announcements.router,
    fee_reminders.router,
    undelivered.router,
    campaigns.router,
    kpis.router,
    grid_workers.router,
    sampling.router,
    review.router,
    models.router,
    field.router,
)


def pages() -> list[tuple[str, str]]:
    """Every (method, path) the console serves, for the tests that check each one's guards."""
    found = []
    for part in (*PARTS, photos.router):
        for route in part.routes:
            for method in sorted(getattr(route, "methods", None) or ()):
                found.append((method, "/console" + getattr(route, "path", "")))
    return sorted(found)


def install_console(app: FastAPI) -> None:
    """Mount the console's pages and assets; its errors answer as HTML."""
    app.state.page_errors = error_fragment
    app.state.live_streams = LiveStreams.from_settings(app.state.settings)
    app.add_middleware(security.ConsoleHeaders)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    console = APIRouter(prefix="/console", include_in_schema=False)
    for part in (*PARTS, photos.router):
        console.include_router(part)
    app.include_router(console)

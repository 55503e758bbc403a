"""The console's session cookie and CSRF tokens.

A login stores the same opaque staff session token as ``POST /api/v1/auth/login`` in a cookie that is
HttpOnly (scripts cannot read it), SameSite=Strict (other sites cannot send it) and expires with the
session. Every form and htmx request also carries a CSRF token derived from the session token; a request
without it is refused. The login form, which has no session yet, is protected by a double-submit cookie.
Every console response forbids framing and any script or style but the console's own files.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import AppError, Forbidden, NotAuthenticated
from api.services.principals import CONSOLE_ROLES, FIELD_ROLES, STAFF_ROLES, Principal, Role
from api.services.staff import principal_for_token

SESSION_COOKIE = "hs_console"
LOGIN_COOKIE = "hs_console_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/console"


class LoginRequired(AppError):
    """No live staff session: pages redirect to the login form."""

    status_code = 401
    code = "not_authenticated"


class CsrfRejected(AppError):
    status_code = 403
    code = "csrf_failed"


def csrf_for(session_token: str) -> str:
    """The CSRF token of one session: a keyed hash of its secret token, so it needs no storage."""
    return hmac.new(session_token.encode(), b"console-csrf", hashlib.sha256).hexdigest()


def set_session_cookie(response: Response, token: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def set_login_nonce(response: Response, nonce: str, secure: bool) -> None:
    """The login form's double-submit cookie: the form's hidden field must carry the same value."""
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=3600, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure
    )


def login_nonce_matches(request: Request, submitted: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    return bool(expected) and hmac.compare_digest(expected.encode(), submitted.encode())


def session_token(request: Request) -> str:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise LoginRequired("log in first")
    return token


class WrongDesk(Forbidden):
    """A logged-in member of staff on a page that is not for their role: a technician anywhere but
    their own orders, or the desk on the technician's page. Said as it is, never as a login; a page
    opened in the browser goes to the role's own start page (``home``) instead."""

    def __init__(self, message: str, home: str):
        super().__init__(message)
        self.home = home


# Where each role's console starts.
HOME = {Role.TECHNICIAN: "/console/field"}
DESK_HOME = "/console/chats"


def home_of(principal: Principal) -> str:
    return HOME.get(principal.role, DESK_HOME)


def console_principal(
    request: Request, session: Session, now: datetime, roles: frozenset[Role] = STAFF_ROLES
) -> Principal:
    """The member of staff of this cookie, if the page is for their role (``roles``: the desk's by
    default). The machine token is never a console login."""
    token = session_token(request)
    api_token = request.app.state.settings.api_token.get_secret_value()
    try:
        principal = principal_for_token(session, token, api_token, now)
    except NotAuthenticated:
        raise LoginRequired("the session has expired; log in again") from None
    if principal.role not in CONSOLE_ROLES:
        raise LoginRequired("the console is for staff")
    if principal.role not in roles:
        if principal.role in FIELD_ROLES:
            raise WrongDesk("维修人员账号只能查看和办理派给自己的工单（我的工单）", home_of(principal))
        raise WrongDesk("这是维修人员的页面，客服坐席请在工作台办理", home_of(principal))
    return principal


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing request whose CSRF token (form field or header) is not this session's."""
    given = submitted or request.headers.get(CSRF_HEADER, "")
    expected = csrf_for(session_token(request))
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRejected("the form is stale or did not come from the console; reload the page")


# The console runs only its own files: no inline script, handler or style (console.js does what the
# templates once wrote inline), nothing from another site, and no page may frame it (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
CONSOLE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
}


class ConsoleHeaders:
    """ASGI middleware: every response under /console (pages, fragments, errors, redirects, streams,
    static files, the login page) carries ``CONSOLE_HEADERS``. Pure ASGI, so a stream is not buffered.
    An unexpected error is answered outside it; ``pages.error_fragment`` adds the headers there."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not f"{scope.get('path', '')}/".startswith(f"{COOKIE_PATH}/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CONSOLE_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Who is calling: ``Authorization: Bearer`` with API_TOKEN (machine clients) or a staff session token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from api.deps import NowDep, SessionDep
from api.errors import Forbidden, NotAuthenticated
from api.services.principals import STAFF_ROLES, SUPERVISOR_ROLES, Principal, Role
from api.services.staff import principal_for_token


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("a valid bearer token is required")
    return token.strip()


def current_principal(request: Request, session: SessionDep, now: NowDep) -> Principal:
    """The machine client or the logged-in staff user; 401 otherwise."""
    api_token = request.app.state.settings.api_token.get_secret_value()
    return principal_for_token(session, bearer_token(request), api_token, now)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that admits only the given roles and gives the caller: ``Depends(require_roles(…))``."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(sorted(r.value for r in roles))}")
        return principal

    return check


# Who may call what. The machine token (API_TOKEN) is the bot's and the scripts': it acts for a
# resident, never as staff; staff roles never act for a resident.
STAFF = Depends(require_roles(*STAFF_ROLES))
SUPERVISORS = Depends(require_roles(*SUPERVISOR_ROLES))
MACHINE_ONLY = Depends(require_roles(Role.MACHINE))
STAFF_OR_MACHINE = Depends(require_roles(*STAFF_ROLES, Role.MACHINE))

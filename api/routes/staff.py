"""Staff login and accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from api.auth import PrincipalDep, bearer_token, require_roles
from api.deps import NowDep, SessionDep, SettingsDep
from api.errors import NotFound
from api.models import StaffUser
from api.schemas import LoginRequest, LoginResponse, StaffUserCreate, StaffUserPublic
from api.services import staff
from api.services.principals import Role

router = APIRouter(tags=["staff"])


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={401: {"description": "wrong username or password"}, 429: {"description": "too many failures"}},
)
def login(
    body: LoginRequest, request: Request, session: SessionDep, now: NowDep, settings: SettingsDep
) -> LoginResponse:
    """A session token for the console; send it as ``Authorization: Bearer``."""
    address = request.client.host if request.client else "unknown"
    token, staff_session = staff.login_as_configured(session, settings, body.username, body.password, address, now)
    return LoginResponse(
        token=token,
        expires_at=staff_session.expires_at,
        user=StaffUserPublic.model_validate(staff_session.staff_user),
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, session: SessionDep, _principal: PrincipalDep) -> None:
    staff.logout(session, bearer_token(request))


@router.get("/auth/me", response_model=StaffUserPublic)
def me(session: SessionDep, principal: PrincipalDep) -> StaffUserPublic:
    user = session.get(StaffUser, principal.staff_user_id) if principal.staff_user_id else None
    if user is None:
        raise NotFound("the caller is not a member of staff")
    return StaffUserPublic.model_validate(user)


@router.post(
    "/staff-users",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffUserPublic,
    dependencies=[Depends(require_roles(Role.ADMIN))],
)
def create_staff_user(
    body: StaffUserCreate, session: SessionDep, now: NowDep, settings: SettingsDep
) -> StaffUserPublic:
    """Admins create accounts. The machine token may not: the first admin comes from
    ``make admin`` (``python -m api.cli create-admin``) on the server."""
    return StaffUserPublic.model_validate(staff.create_staff_user(session, body, now, settings.password_hash_rounds))

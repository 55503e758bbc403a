"""Residents as remembered by openid, and grid workers."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import PrincipalDep, require_roles
from api.routes.deps import NowDep, SessionDep
from api.schemas import GridWorkerCreate, GridWorkerPublic, ResidentPublic
from api.services import people
from api.services.principals import Role

router = APIRouter(tags=["people"])


@router.get("/residents/{openid}", response_model=ResidentPublic)
def read_resident(openid: str, session: SessionDep, _principal: PrincipalDep) -> ResidentPublic:
    """Phone and addresses remembered for a WeChat user, newest address first."""
    return ResidentPublic.model_validate(people.get_resident(session, openid))


@router.post(
    "/grid-workers",
    status_code=status.HTTP_201_CREATED,
    response_model=GridWorkerPublic,
    dependencies=[require_roles(Role.ADMIN, Role.SUPERVISOR, Role.MACHINE)],  # type: ignore[list-item]
)
def register_grid_worker(body: GridWorkerCreate, session: SessionDep, now: NowDep) -> GridWorkerPublic:
    return GridWorkerPublic.model_validate(people.register_grid_worker(session, body, now))


@router.get("/grid-workers/{openid}", response_model=GridWorkerPublic)
def read_grid_worker(openid: str, session: SessionDep, _principal: PrincipalDep) -> GridWorkerPublic:
    """A registered, active grid worker (the bot checks a sender with this)."""
    return GridWorkerPublic.model_validate(people.get_grid_worker(session, openid))

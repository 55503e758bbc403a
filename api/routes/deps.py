"""Dependencies shared by the routes: the session, the clock and the use-case context."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from api.schemas import MAX_ID
from api.services.work_orders import Context


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.session_factory() as session:
        yield session


def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests install a fixed one)."""
    now: datetime = request.app.state.clock()
    return now


SessionDep = Annotated[Session, Depends(get_session)]
# A database id in a path: 1 to 2**63-1, so a larger number is a 422 and not a database overflow.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
NowDep = Annotated[datetime, Depends(get_now)]


def get_context(request: Request, now: NowDep) -> Context:
    settings = request.app.state.settings
    return Context(
        now=now,
        config=request.app.state.operator_config,
        backdate_window=timedelta(minutes=settings.backdate_window_minutes),
        supervisor_backdate_limit=timedelta(hours=settings.supervisor_backdate_hours),
        filed_number_check=timedelta(seconds=settings.filed_number_check_seconds),
    )


ContextDep = Annotated[Context, Depends(get_context)]

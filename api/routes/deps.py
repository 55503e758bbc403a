"""Dependencies shared by the routes: the session, the clock and the use-case context."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

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
NowDep = Annotated[datetime, Depends(get_now)]


def get_context(request: Request, now: NowDep) -> Context:
    return Context(now=now, config=request.app.state.operator_config)


ContextDep = Annotated[Context, Depends(get_context)]

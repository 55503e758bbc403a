"""Dependencies shared by the routes: the session and the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session


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

"""The staff audit trail: who did what, and when (orders keep their own trail in work_order_events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from api.models import StaffAudit


def record(
    session: Session, now: datetime, actor: str, action: str, target: str | None = None, detail: str | None = None
) -> None:
    """Add one entry to the caller's transaction; it is kept when the action is committed."""
    session.add(StaffAudit(at=now, actor=actor[:96], action=action, target=target, detail=detail))

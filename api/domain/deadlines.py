"""Deadlines of a work order, computed from the standard's windows.

Hour and minute windows run on calendar time, every day: the service line is staffed
24 hours during the season (10.1.2).
"""

from __future__ import annotations

from datetime import datetime, timedelta

# 10.1.4: respond (contact the resident, decide, plan, agree a visit) within 30 minutes.
RESPONSE_WINDOW = timedelta(minutes=30)


def response_due_at(accepted_at: datetime) -> datetime:
    """When the first response to the resident is due (10.1.4)."""
    if accepted_at.tzinfo is None:
        raise ValueError("accepted_at must be timezone-aware")
    return accepted_at + RESPONSE_WINDOW

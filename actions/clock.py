"""The actions' one clock: Beijing time now. Tests set it by patching ``actions.clock.now``."""

from __future__ import annotations

from datetime import datetime

from heating_standard.localtime import LOCAL_TZ


def now() -> datetime:
    """The current moment in Beijing time (what a resident means by "明天上午")."""
    return datetime.now(LOCAL_TZ)

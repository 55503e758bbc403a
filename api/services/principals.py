"""Who is calling: a machine client (bearer API_TOKEN) or a logged-in member of staff."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Roles of staff; a machine client (the bot, scripts) acts as ``machine``."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # A repair technician (维修人员): sees and works only the orders dispatched to their account, on site
    # (arrive, quote, complete: 10.2.4, 10.2.2, 10.2.5); nothing else of the console or the API.
    TECHNICIAN = "technician"
    MACHINE = "machine"


# Staff work orders; supervisors (and admins) also approve. The machine is neither: it acts for a resident.
STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
# The technician is not staff in this sense: every route and page for staff refuses them; only the
# console's "我的工单" (api/console/field.py) admits them.
FIELD_ROLES = frozenset({Role.TECHNICIAN})
# Who may log in to the console at all.
CONSOLE_ROLES = STAFF_ROLES | FIELD_ROLES


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    name: str
    role: Role
    staff_user_id: int | None = None

    @property
    def may_approve(self) -> bool:
        """Returns, extensions and cancellations need a supervisor (10.1.3)."""
        return self.role in SUPERVISOR_ROLES

    @property
    def is_technician(self) -> bool:
        return self.role == Role.TECHNICIAN

"""Who is calling: a machine client (bearer API_TOKEN) or a logged-in member of staff."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Roles of staff; a machine client (the bot, scripts) acts as ``machine``."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    MACHINE = "machine"


# Staff work orders; supervisors (and admins) also approve. The machine is neither: it acts for a resident.
STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


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
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

"""Request and response bodies of the API, by role."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.domain.work_orders import Category, Kind, Source, Status


class WorkOrderCreate(BaseModel):
    """What a client sends to file a work order."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Kind
    category: Category
    source: Source
    description: str = Field(min_length=1, max_length=4000)
    resident_openid: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=255)
    urgent: bool = False
    accepted_at: AwareDatetime | None = None


class WorkOrderPublic(BaseModel):
    """A work order as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    kind: Kind
    category: Category
    source: Source
    status: Status
    description: str
    resident_openid: str | None
    phone: str | None
    address: str | None
    urgent: bool
    accepted_at: datetime
    response_due_at: datetime | None
    created_at: datetime

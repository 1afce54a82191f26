from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import EmailStr, Field

from fieldpunch.geo.schemas import GeoPolygon, PointIn, PointOut
from fieldpunch.kit.schemas import IdRef, In, Kind, Label, Name, Out, ShortText
from fieldpunch.users.schemas import Phone

Radius = Annotated[float, Field(gt=0, le=50_000, allow_inf_nan=False)]
Tags = Annotated[list[Label], Field(max_length=50)]


class Contact(In):
    name: Name
    title: ShortText = ""
    phone: Phone | None = None
    email: EmailStr | None = None


Contacts = Annotated[list[Contact], Field(max_length=50)]


class CustomerCreate(In):
    name: Name
    address: ShortText = ""
    location: PointIn | None = None
    radius_m: Radius = 150.0
    polygon: GeoPolygon | None = Field(default=None, description="Coordinates in location.crs")
    owner_id: IdRef | None = None
    tags: Tags = []
    status: Kind = "active"
    contacts: Contacts = []


class CustomerUpdate(In):
    name: Name | None = None
    address: ShortText | None = None
    location: PointIn | None = None
    radius_m: Radius | None = None
    polygon: GeoPolygon | None = None
    owner_id: IdRef | None = None
    tags: Tags | None = None
    status: Kind | None = None
    contacts: Contacts | None = None


class CustomerOut(Out):
    id: str
    name: str
    address: str
    location: PointOut | None
    radius_m: float
    polygon: dict[str, Any] | None
    owner_id: str | None
    tags: list[str]
    status: str
    contacts: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime

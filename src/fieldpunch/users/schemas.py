from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from fieldpunch.auth.scopes import Role
from fieldpunch.kit.schemas import IdRef, In, Name, Out
from fieldpunch.users.phones import normalize_phone

Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
# Stored normalised (users/phones.py): a person may sign in with it, so it is unique per org;
# an empty value clears it.
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^[0-9+()\- ]*$"),
    AfterValidator(normalize_phone),
]
EmployeeNo = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class UserCreate(In):
    email: EmailStr
    name: Name
    role: Role
    password: Password | None = None
    team_id: IdRef | None = None
    managed_team_ids: Annotated[list[IdRef], Field(max_length=200)] = []
    phone: Phone | None = None
    employee_no: EmployeeNo | None = None


class UserUpdate(In):
    email: EmailStr | None = None
    name: Name | None = None
    role: Role | None = None
    password: Password | None = None
    team_id: IdRef | None = None
    managed_team_ids: Annotated[list[IdRef], Field(max_length=200)] | None = None
    phone: Phone | None = None
    employee_no: EmployeeNo | None = None
    active: bool | None = None


class MeUpdate(In):
    name: Name | None = None
    phone: Phone | None = None
    password: Password | None = None
    current_password: Annotated[str, StringConstraints(max_length=256)] | None = None


class UserOut(Out):
    id: str
    email: str
    name: str
    role: Role
    team_id: str | None
    managed_team_ids: list[str]
    phone: str | None
    employee_no: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

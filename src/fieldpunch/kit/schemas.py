"""Pydantic building blocks shared by every domain's API shapes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Kind = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$"
    ),
]
IdRef = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class In(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def apply(row: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(row, key, value)

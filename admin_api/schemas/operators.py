"""Bodies of /operators, /roles and /cash-boxes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from admin_api.schemas.common import Id, In, Out, Text


class OperatorIn(In):
    login: Annotated[str, Field(min_length=1, max_length=64)]
    name: Text
    email: Annotated[str, Field(max_length=200)] | None = None
    password: Annotated[str, Field(min_length=12, max_length=200)]
    must_change_password: bool = False
    superuser: bool = False
    permissions: list[str] = []
    roles: list[Id | Text] = Field([], description="roles by id or by name")
    cities: list[Text] = []
    cash_boxes: list[Id] = []


class OperatorPatch(In):
    name: Text | None = None
    email: Annotated[str, Field(max_length=200)] | None = None
    password: Annotated[str, Field(min_length=12, max_length=200)] | None = None
    must_change_password: bool | None = None
    superuser: bool | None = None
    permissions: list[str] | None = None
    roles: list[Id | Text] | None = Field(None, description="roles by id or by name")
    cities: list[Text] | None = None
    cash_boxes: list[Id] | None = None


class OperatorOut(Out):
    id: int
    login: str
    name: str
    email: str | None
    active: bool
    superuser: bool
    permissions: list[str]
    roles: list[int]
    effective_permissions: list[str]
    cities: list[str]
    cash_boxes: list[int]
    must_change_password: bool
    locked_until: datetime | None = Field(
        None, description="set while the login is locked after wrong passwords"
    )
    created_at: datetime


class CloneIn(In):
    from_operator_id: Id


class RoleIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: Annotated[str, Field(max_length=200)] | None = None
    permissions: list[str] = []


class RolePatch(In):
    description: Annotated[str, Field(max_length=200)] | None = None
    permissions: list[str] | None = None


class RoleOut(Out):
    id: int
    name: str
    description: str | None
    permissions: list[str]


class CashBoxIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]


class CashBoxOut(Out):
    id: int
    name: str
    active: bool

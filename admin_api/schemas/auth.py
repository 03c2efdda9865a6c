"""Bodies of /auth: login, password change, API keys, permissions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from admin_api.schemas.common import In, Out, Text


class LoginIn(In):
    login: Text
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenOut(Out):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime | None
    must_change_password: bool = Field(
        False, description="true: this token only reaches POST /auth/password until it is changed"
    )


class PasswordChangeIn(In):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Annotated[str, Field(min_length=12, max_length=200, description="12 characters or more")]


class ApiKeyIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    scopes: list[str]
    expires_at: datetime | None = None


class ApiKeyOut(Out):
    id: int
    name: str | None
    operator_id: int
    scopes: list[str] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    token: str | None = Field(None, description="shown once, when the key is created")


class PermissionOut(Out):
    name: str
    description: str

"""Base classes and field types every request and response body shares."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aaa.nul import contains_nul

T = TypeVar("T")


Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


Kbps = Annotated[int, Field(gt=0, le=100_000_000)]


Text = Annotated[str, Field(min_length=1, max_length=200)]


Reason = Annotated[str, Field(min_length=1, max_length=500, description="why; kept in the history")]


Id = Annotated[int, Field(ge=1, le=2_147_483_647)]


Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


WebhookEvent = Literal[
    "service.status_changed", "payment.received", "receipt.reversed", "payment.flagged", "*"
]


class In(BaseModel):
    """Request bodies reject unknown fields: a misspelt field is an error, not silently ignored.
    No text may hold a NUL (PostgreSQL's text cannot), and no day may lie outside what an ISP's
    records mean (2000 to 2100; birth dates from 1900): a typo'd year is a 422, never a 500 or
    a value the database cannot hold."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if contains_nul(data):
            raise ValueError("text must not contain a NUL character (\\u0000)")
        return data

    @model_validator(mode="after")
    def _days_in_range(self) -> In:
        for name, value in self:
            day = value.date() if isinstance(value, datetime) else value
            if isinstance(day, date):
                low = BIRTH_MIN if name == "birth_date" else DAY_MIN
                if not low <= day <= DAY_MAX:
                    raise ValueError(f"{name}: {day} is out of range ({low} to {DAY_MAX})")
        return self


DAY_MIN, DAY_MAX, BIRTH_MIN = date(2000, 1, 1), date(2100, 12, 31), date(1900, 1, 1)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


Secret = Annotated[str, Field(min_length=1, max_length=128)]


Login = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^\S+$")]


Password = Annotated[str, Field(min_length=1, max_length=128)]


Mac = Annotated[str, Field(max_length=17)]


Ipv4 = Annotated[str, Field(max_length=15)]


Tolerance = Annotated[int, Field(ge=0, le=365)]


Until = Annotated[
    date | datetime,
    Field(description="a date (the overlay ends when that local day ends) or a date-time with its zone"),
]


IpText = Annotated[str, Field(min_length=2, max_length=49, description="an address, or a prefix a/len")]


Note = Annotated[str, Field(max_length=200)]


PrefixLen = Annotated[int, Field(ge=0, le=128)]


CronField = Annotated[
    str, Field(min_length=1, max_length=100, description="cron syntax: *, 1-5, mon-fri, 0,30")
]


class ReplyAttribute(In):
    """One custom reply attribute, as in FreeRADIUS's radgroupreply/radreply."""

    attribute: Annotated[
        str, Field(min_length=1, max_length=64, description="a name in the RADIUS dictionary")
    ]
    op: Literal["=", ":=", "+="] = Field(
        "=", description="= adds unless the reply has it, := replaces, += adds another"
    )
    value: Annotated[str, Field(min_length=1, max_length=253)]

    @model_validator(mode="before")
    @classmethod
    def _from_stored(cls, data: Any) -> Any:
        """Stored as [attribute, op, value]."""
        if isinstance(data, list | tuple) and len(data) == 3:
            return {"attribute": data[0], "op": data[1], "value": data[2]}
        return data


ReplyAttributes = Annotated[
    list[ReplyAttribute],
    Field(max_length=32, description="added to every Access-Accept, checked against the dictionary"),
]

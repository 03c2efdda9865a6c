"""The search box: one query, typed results (customer, service, session), the operator's cities."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from aaa.search import search
from admin_api.deps import CityScope, Who, db

router = APIRouter(tags=["search"])


class HitOut(BaseModel):
    kind: Literal["customer", "service", "session"]
    id: int = Field(description="the customer's, service's or session's id, by kind")
    label: str
    detail: str
    customer_id: int | None
    service_id: int | None
    why: str = Field(description="what matched: name, document, phone, e-mail, login, address or MAC")


class SearchOut(BaseModel):
    query: str
    items: list[HitOut]
    total: int


@router.get("/search", response_model=SearchOut)
def search_everything(
    who: Who,
    scope: CityScope,
    q: Annotated[
        str,
        Query(min_length=2, max_length=200, description="a name, CPF/CNPJ, login, IP, MAC, phone or e-mail"),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    session: Session = db("customers.read"),
) -> SearchOut:
    """Customers by name (accents and case do not count: "joao" finds "João"), CPF/CNPJ and phone
    (with or without punctuation) or e-mail; services by PPPoE login, MAC or IP (fixed or leased);
    online sessions by IP or MAC. Services need ``services.read``, sessions ``sessions.read``."""
    hits = search(
        session,
        scope,
        q,
        limit=limit,
        services=who.can("services.read"),
        sessions=who.can("sessions.read"),
    )
    return SearchOut(query=q, items=[HitOut(**hit.__dict__) for hit in hits], total=len(hits))

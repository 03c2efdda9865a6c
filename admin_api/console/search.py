"""The search box on every page: one query, typed results in the operator's cities; a single
result opens directly."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from aaa.errors import Invalid
from aaa.search import Hit, search
from admin_api.console import words
from admin_api.console.web import BASE, Desk, at, redirect

router = APIRouter(include_in_schema=False)


def target(hit: Hit) -> str:
    """Where a result opens: a customer's page, or the service's (a session's too)."""
    if hit.kind == "customer":
        return f"{BASE}/clientes/{hit.id}"
    return f"{BASE}/servicos/{hit.service_id}" if hit.service_id else f"{BASE}/conexoes?login={hit.label}"


@router.get(f"{BASE}/", response_class=HTMLResponse)
def home(desk: Desk = at()) -> HTMLResponse:
    return desk.render("search.html", query="", hits=None, error=None)


@router.get(f"{BASE}/busca", response_class=HTMLResponse)
def search_page(q: str = Query("", max_length=200), desk: Desk = at("customers.read")) -> Response:
    query = q.strip()
    if len(query) < 2:
        return desk.render(
            "search.html", 422, query=query, hits=None, error="Digite ao menos 2 caracteres para buscar."
        )
    try:
        hits = search(
            desk.session,
            desk.scope,
            query,
            limit=50,
            services=desk.can("services.read"),
            sessions=desk.can("sessions.read"),
        )
    except Invalid as exc:
        return desk.render("search.html", 422, query=query, hits=None, error=words.error_text(exc))
    if len(hits) == 1:
        return redirect(target(hits[0]), desk.request)
    rows = [(hit, target(hit)) for hit in hits]
    return desk.render("search.html", query=query, hits=rows, error=None)

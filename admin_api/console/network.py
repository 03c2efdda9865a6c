"""Conexões online (with filters, counts per NAS and the kick button) and Concentradores (read-only
in this part: each NAS with the last request seen and why requests were dropped)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from aaa import connections
from aaa.connections import SessionFilter
from aaa.db.base import utcnow
from aaa.enforcement.kick import kick_session
from aaa.errors import DomainError, NotFound
from aaa.nas.service import list_nas
from admin_api.console import words
from admin_api.console.web import BASE, Desk, Form, at, redirect
from admin_api.presenters import nas_page
from admin_api.routes.common import PathId

router = APIRouter(include_in_schema=False)
PAGE = 100
Text = Query("", max_length=253)


@router.get(f"{BASE}/conexoes", response_class=HTMLResponse)
def online_page(
    concentrador: str = Query("", max_length=10),
    login: str = Text,
    ip: str = Query("", max_length=45),
    mac: str = Query("", max_length=17),
    desk: Desk = at("sessions.read"),
) -> HTMLResponse:
    filters = {"concentrador": concentrador, "login": login.strip(), "ip": ip.strip(), "mac": mac.strip()}
    error = None
    rows: list[connections.AcctSession] = []
    total = 0
    if concentrador and not concentrador.isdigit():
        error = "Concentrador inválido."
    else:
        wanted = SessionFilter(
            online=True,
            nas_id=int(concentrador) if concentrador else None,
            login=filters["login"] or None,
            ip=filters["ip"] or None,
            mac=filters["mac"] or None,
        )
        try:
            rows, total = connections.find_sessions(desk.session, desk.scope, wanted, limit=PAGE, offset=0)
        except DomainError as exc:
            error = words.error_text(exc)
    return desk.render(
        "connections.html",
        422 if error else 200,
        rows=rows,
        total=total,
        filters=filters,
        error=error,
        nas={n.id: n for n in list_nas(desk.session)},
        counts=connections.online_per_nas(desk.session, desk.scope),
        now=utcnow(),
    )


@router.post(f"{BASE}/conexoes/{{session_id}}/derrubar")
def kick(
    session_id: PathId, request: Request, form: Form, desk: Desk = at("sessions.disconnect")
) -> Response:
    row = connections.get_session(desk.session, desk.scope, session_id)
    if row is None:
        raise NotFound(f"session {session_id} does not exist")
    kick_session(desk.session, row, str(form.get("motivo", "")) or "derrubar conexão pelo console")
    back = f"{BASE}/servicos/{row.service_id}" if row.service_id else f"{BASE}/conexoes"
    return redirect(back, request)


@router.get(f"{BASE}/concentradores", response_class=HTMLResponse)
def nas_list(desk: Desk = at("nas.read")) -> HTMLResponse:
    rows = nas_page(desk.session, list_nas(desk.session))
    return desk.render("nas.html", rows=rows, counts=connections.online_per_nas(desk.session, desk.scope))

"""Serviço, the attendant's main screen: the status and why, what the next login gets, the online
session, the diagnostics (authentications of the last 7 days, connection history), what was
sent to the NAS and its answer, and the actions the operator's permissions allow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from aaa.audit import history as audit_history
from aaa.connections import SessionFilter, find_sessions
from aaa.db.base import utcnow
from aaa.diagnostics import diagnose
from aaa.enforcement import history
from aaa.errors import DomainError
from aaa.ipam.subnets import list_folders, list_subnets
from aaa.nas.service import list_nas
from aaa.subscribers import overlays, plans
from aaa.subscribers import service as services
from aaa.tables.enforcement import EnforcementState
from aaa.tables.subscribers import Service
from aaa.vocabulary.ipam import SubnetPurpose
from admin_api.console import actions, formats, words
from admin_api.console.web import BASE, Desk, Form, at
from admin_api.deps import settings_of
from admin_api.errors import status_of
from admin_api.presenters import service_out
from admin_api.routes.common import PathId

router = APIRouter(include_in_schema=False)
ENFORCEMENT_ROWS = 10
HISTORY_ROWS = 30
# The network panel refreshes itself while a change is on its way to the NAS, and a little after.
_WATCH = timedelta(seconds=20)


def catalogue(desk: Desk) -> tuple[actions.Action, ...]:
    found, _ = plans.list_plans(desk.session, limit=500)
    options = tuple(
        (str(p.id), f"{p.name} ({formats.rate(p.download_kbps)}/{formats.rate(p.upload_kbps)})")
        for p in found
    )
    folders = {f.id: f.name for f in list_folders(desk.session, limit=1000, offset=0)[0]}
    subnets, _ = list_subnets(desk.session, folder_id=None, pool_id=None, limit=1000, offset=0)
    fixed = tuple(
        (str(n.id), f"{folders.get(n.folder_id, '?')} › {n.name or n.cidr} ({n.cidr})")
        for n in sorted(subnets, key=lambda n: (folders.get(n.folder_id, ""), n.cidr))
        if n.purpose is SubnetPurpose.FIXED
    )
    return actions.catalogue(options, fixed)


@router.get(f"{BASE}/servicos/{{service_id}}", response_class=HTMLResponse)
def service_page(service_id: PathId, desk: Desk = at("services.read")) -> HTMLResponse:
    service = services.get_service_by_id(desk.session, service_id, desk.scope)  # another city's: 404
    return render(desk, service)


@router.get(f"{BASE}/servicos/{{service_id}}/rede", response_class=HTMLResponse)
def network_panel(service_id: PathId, desk: Desk = at("services.read")) -> HTMLResponse:
    """The part htmx refreshes: what was sent to the NAS and the online session."""
    service = services.get_service_by_id(desk.session, service_id, desk.scope)
    return desk.render("_network.html", **network(desk, service))


@router.post(f"{BASE}/servicos/{{service_id}}/acoes/{{key}}", response_class=HTMLResponse)
def run_action(service_id: PathId, key: str, form: Form, desk: Desk = at("services.read")) -> HTMLResponse:
    """One action's form. The permission is the one the API's route for the same change needs;
    a POST the page did not offer (forged, or the permission was removed since) gets 403."""
    service = services.get_service_by_id(desk.session, service_id, desk.scope)
    every = catalogue(desk)
    action = actions.find(every, key)
    desk.who.require(action.permission)
    try:
        values = actions.read(action, form)
        done = action.run(desk, service, values)
        desk.session.flush()
    except actions.FormProblem as exc:
        failed = (action.key, exc.field, exc.message)
        return render(desk, service, 422, every, failed=failed, form=dict(form))
    except DomainError as exc:
        desk.session.rollback()
        service = services.get_service_by_id(desk.session, service_id, desk.scope)
        problem = f"{words.error_title(exc)}: {words.error_text(exc)}"
        failed = (action.key, "", problem)
        return render(desk, service, status_of(exc), every, failed=failed, form=dict(form))
    return render(desk, service, 200, every, done=(action.label, done))


def network(desk: Desk, service: Service) -> dict[str, Any]:
    session = desk.session
    found, _ = history.enforcement_history(session, service.id, ENFORCEMENT_ROWS)
    nas = {n.id: n for n in list_nas(session)}
    now = utcnow()
    watching = any(
        row.state in (EnforcementState.PENDING, EnforcementState.RUNNING)
        or (row.finished_at is not None and now - row.finished_at < _WATCH)
        for row, _ in found
    )
    online, _ = find_sessions(
        session, desk.scope, SessionFilter(online=True, service_id=service.id), limit=10, offset=0
    )
    return {
        "service": service,
        "enforcements": found,
        "nas": nas,
        "online": online,
        "watching": watching,
        "now": now,
    }


def render(
    desk: Desk,
    service: Service,
    status: int = 200,
    every: tuple[actions.Action, ...] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page; ``every``: the action catalogue, when the caller has read it already."""
    session = desk.session
    now = utcnow()
    found = diagnose(session, service, now, settings_of(desk.request).policy)
    offered = [a for a in every or catalogue(desk) if desk.can(a.permission) and a.when(service)]
    entries = None
    if desk.can("audit.read"):
        entries, _ = audit_history.of_service(session, service.id, limit=HISTORY_ROWS, offset=0)
    return desk.render(
        "service.html",
        status,
        out=service_out(session, service),
        customer=service.customer,
        plan=service.plan,
        diagnostics=found,
        actions=offered,
        last_trust=overlays.last_trust_unlock(session, service.id),
        entries=entries,
        failed=context.pop("failed", None),
        done=context.pop("done", None),
        form=context.pop("form", {}),
        **network(desk, service),
        **context,
    )

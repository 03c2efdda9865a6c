"""Cliente: the customer's data, addresses, contacts and must-read note, its services with their
status, the money still open, and its history (who changed what, when, from where)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from aaa.audit import history
from aaa.db.base import today_in
from aaa.subscribers import customers
from aaa.subscribers import service as services
from admin_api.console.web import BASE, Desk, at
from admin_api.presenters import customer_out
from admin_api.routes.common import PathId
from billing_bridge.charges import unpaid_charges

router = APIRouter(include_in_schema=False)
HISTORY_ROWS = 30


@router.get(f"{BASE}/clientes/{{customer_id}}", response_class=HTMLResponse)
def customer_page(customer_id: PathId, desk: Desk = at("customers.read")) -> HTMLResponse:
    session = desk.session
    customer = customers.get_customer(session, customer_id, desk.scope)  # another city's: 404
    data = customer_out(session, customer)
    owned, _ = services.list_services(session, desk.scope, customer_id=customer.id)
    charges = unpaid_charges(session, [s.id for s in owned]) if desk.can("finance.read") else None
    entries = None
    if desk.can("audit.read"):
        entries, _ = history.of_customer(session, customer.id, limit=HISTORY_ROWS, offset=0)
    today = today_in(desk.zone)
    return desk.render(
        "customer.html",
        customer=data,
        services=owned if desk.can("services.read") else None,
        charges=charges,
        open_total=sum((c.amount - c.paid_amount - c.discount_granted for c in charges or ()), start=0),
        today=today,
        entries=entries,
    )

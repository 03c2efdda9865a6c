"""Money follows the contract: a migration's open money moves to the new service, and an
ownership transfer takes the service's open invoices to the new owner (or leaves the overdue
debt with the previous one, "transferir débitos: não").

A migration is one contract that changed plan: the old service's open and partly paid charges
(monthly fees, carnê and installation-fee instalments), its carnês and its open invoices move to
the new service in the transaction that completes the migration, whichever path completes it
(an immediate migration, enabling a service awaiting migration, the CLI): ``after_flush`` runs
in every session (aaa.composition.FLUSH_HOOKS). Paid charges stay where they were paid; the
billing run counts them for the contract (``predecessors``), so it never charges a competence
twice across a migration.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from aaa.audit.log import record
from aaa.tables.subscribers import Customer, Service
from aaa.vocabulary.subscribers import ServiceStatus
from billing_bridge.amounts import ZERO
from billing_bridge.models import Carne, Charge, ChargeKind, ChargeStatus, Invoice, InvoiceStatus

OPEN = (ChargeStatus.OPEN, ChargeStatus.PARTIALLY_PAID)
_OPEN_AMOUNT = Charge.amount - Charge.paid_amount - Charge.discount_granted


@dataclass
class Moved:
    """What moved (or stayed behind), for the response and the history."""

    charges: int = 0
    amount: Decimal = ZERO
    invoices: int = 0
    carnes: int = 0
    kept_charges: int = 0  # overdue charges left with the previous owner
    kept_amount: Decimal = ZERO
    kept_invoices: int = 0
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        said = [f"{self.charges} open charge(s) (R$ {self.amount:.2f})"]
        said += [f"{self.invoices} open invoice(s)"] if self.invoices else []
        said += [f"{self.carnes} carnê(s)"] if self.carnes else []
        if self.kept_charges or self.kept_invoices:
            said.append(
                f"left with the previous owner: {self.kept_charges} overdue charge(s) "
                f"(R$ {self.kept_amount:.2f}), {self.kept_invoices} invoice(s)"
            )
        return ", ".join(said + self.notes)


def _set(session: Session, model: type[Charge | Invoice | Carne], ids: list[int], **values: object) -> None:
    """One UPDATE of these rows (Core: safe inside a flush; the rows are not in the session)."""
    if ids:
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _money_moved(session: Session, service: Service, customer_id: int, note: str) -> None:
    record(
        session,
        entity="service",
        entity_id=service.id,
        action="money_moved",
        customer_id=customer_id,
        service_id=service.id,
        note=note,
    )


def _open_charges(session: Session, service_id: int, extra: object = None) -> list[tuple[int, Decimal]]:
    query = select(Charge.id, _OPEN_AMOUNT).where(
        Charge.service_id == service_id, Charge.status.in_(OPEN), Charge.debtor_customer_id.is_(None)
    )
    if extra is not None:
        query = query.where(extra)  # type: ignore[arg-type]
    return [(charge_id, amount) for charge_id, amount in session.execute(query)]


def carry_migration(session: Session, old: Service, new: Service) -> Moved:
    """Move the old service's open money to the new one (Core statements: safe inside a flush)."""
    moved = Moved()
    taken = set(
        session.scalars(
            select(Charge.competence).where(
                Charge.service_id == new.id,
                Charge.kind == ChargeKind.MONTHLY,
                Charge.status != ChargeStatus.CANCELLED,
            )
        )
    )
    clashing = (
        set(
            session.scalars(
                select(Charge.id).where(
                    Charge.service_id == old.id,
                    Charge.kind == ChargeKind.MONTHLY,
                    Charge.competence.in_(taken),
                )
            )
        )
        if taken
        else set()
    )
    found = _open_charges(session, old.id)
    movable = [(charge_id, amount) for charge_id, amount in found if charge_id not in clashing]
    ids = [charge_id for charge_id, _ in movable]
    _set(session, Charge, ids, service_id=new.id)
    moved.charges, moved.amount = len(ids), sum((amount for _, amount in movable), ZERO)
    if len(found) > len(movable):
        moved.notes.append(
            f"{len(found) - len(movable)} monthly fee(s) of a month the new service has stayed"
        )
    invoices = _open_invoices(session, old.id)
    _set(session, Invoice, invoices, service_id=new.id)
    moved.invoices = len(invoices)
    carnes = list(
        session.scalars(
            select(Carne.id).where(
                Carne.service_id == old.id,
                select(Charge.id).where(Charge.carne_id == Carne.id, Charge.service_id == new.id).exists(),
            )
        )
    )
    _set(session, Carne, carnes, service_id=new.id)
    moved.carnes = len(carnes)
    if moved.charges or moved.invoices or moved.notes:
        for service in (old, new):
            _money_moved(
                session, service, service.customer_id, f"migration {old.id} → {new.id}: {moved.text()}"
            )
    return moved


def _open_invoices(session: Session, service_id: int, customer_id: int | None = None) -> list[int]:
    """Issued invoices of the service that still have open money."""
    query = select(Invoice.id).where(
        Invoice.service_id == service_id,
        Invoice.status == InvoiceStatus.ISSUED,
        select(Charge.id).where(Charge.invoice_id == Invoice.id, Charge.status.in_(OPEN)).exists(),
    )
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    return list(session.scalars(query))


def after_flush(session: Session, _context: object) -> None:
    """A service that left ``awaiting_migration`` for a live status in this flush completed a
    migration: its predecessor's open money comes with it."""
    for obj in list(session.dirty):
        if not isinstance(obj, Service) or obj.migrated_from_id is None:
            continue
        history = inspect(obj).attrs.status.history
        if ServiceStatus.AWAITING_MIGRATION not in (history.deleted or ()):
            continue
        if obj.status in (ServiceStatus.AWAITING_MIGRATION, ServiceStatus.CANCELLED):
            continue
        old = session.get(Service, obj.migrated_from_id)
        if old is not None:
            session.info.setdefault("money_moved", {})[obj.id] = carry_migration(session, old, obj)


def moved_in(session: Session, service_id: int) -> Moved | None:
    """What this session's migration into ``service_id`` moved, if one completed."""
    found: dict[int, Moved] = session.info.get("money_moved", {})
    return found.get(service_id)


def carry_transfer(
    session: Session, service: Service, previous: Customer, *, transfer_debts: bool, today: date
) -> Moved:
    """Troca de titularidade: the service's open invoices follow it to its new owner; with
    ``transfer_debts`` false the overdue charges (due before ``today``) and their invoices stay
    the previous owner's debt: they no longer count against the service."""
    moved = Moved()
    if not transfer_debts:
        overdue = _open_charges(session, service.id, Charge.due_date < today)
        ids = [charge_id for charge_id, _ in overdue]
        _set(session, Charge, ids, debtor_customer_id=previous.id)
        kept_invoices = set(
            session.scalars(
                select(Charge.invoice_id).where(Charge.id.in_(ids), Charge.invoice_id.is_not(None))
            )
        )
        moved.kept_charges, moved.kept_amount = len(ids), sum((a for _, a in overdue), ZERO)
        moved.kept_invoices = len(kept_invoices)
    else:
        kept_invoices = set()
    invoices = [i for i in _open_invoices(session, service.id, previous.id) if i not in kept_invoices]
    _set(session, Invoice, invoices, customer_id=service.customer_id)
    remaining = _open_charges(session, service.id)
    moved.invoices = len(invoices)
    moved.charges, moved.amount = len(remaining), sum((a for _, a in remaining), ZERO)
    for customer_id in (previous.id, service.customer_id):
        note = f"ownership transfer {previous.id} → {service.customer_id}: {moved.text()}"
        _money_moved(session, service, customer_id, note)
    return moved


def predecessors(session: Session, service_ids: Collection[int] | None = None) -> dict[int, list[int]]:
    """Each migrated service's earlier services of the same contract, nearest first."""
    rows = session.execute(
        select(Service.id, Service.migrated_from_id).where(Service.migrated_from_id.is_not(None))
    )
    links: dict[int, int] = {service_id: previous for service_id, previous in rows if previous is not None}
    chains: dict[int, list[int]] = {}
    for start in links if service_ids is None else [s for s in service_ids if s in links]:
        chain: list[int] = []
        current = links.get(start)
        while current is not None and current not in chain and len(chain) < 100:
            chain.append(current)
            current = links.get(current)
        chains[start] = chain
    return chains


def open_money_by_customer(session: Session) -> dict[int, Decimal]:
    """Open money per debtor: the charge's own debtor if it stayed with a previous owner, else
    the owner of its service."""
    debtor = func.coalesce(Charge.debtor_customer_id, Service.customer_id)
    rows = session.execute(
        select(debtor, func.sum(_OPEN_AMOUNT))
        .join(Service, Service.id == Charge.service_id)
        .where(Charge.status.in_(OPEN))
        .group_by(debtor)
    )
    return {customer_id: Decimal(total) for customer_id, total in rows}

"""Where the routine reads open charges: our own tables, or another ERP's database.

Many ISPs keep billing in an ERP they will not leave; they still want suspension decided and
enforced here. The seam is one function, ``open charges per service as of a day``. The SQL view
adapter reads a view the ISP defines in the ERP's database (read-only), one row per open charge:

    CREATE VIEW aaa_open_charges AS
      SELECT login        -- the PPPoE login, as in our services
           , due_date     -- date
           , open_amount  -- numeric: what is still owed on the charge
        FROM ...;

Rows whose login is not one of our services are ignored (and counted in the log).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from aaa.settings import BillingSettings
from aaa.tables.subscribers import Service
from billing_bridge.charges import open_charges
from billing_bridge.standing import OpenCharge

log = logging.getLogger(__name__)


class ChargeSource(Protocol):
    def __call__(
        self, session: Session, service_ids: Collection[int] | None, today: date
    ) -> dict[int, list[OpenCharge]]: ...


class SqlViewCharges:
    """Open charges from a view in another database, matched to our services by login."""

    def __init__(self, engine: Engine, view: str):
        self.engine = engine
        self.query = text(
            f"SELECT login, due_date, open_amount FROM {view} WHERE open_amount > 0 AND due_date < :today"
        )

    def __call__(
        self, session: Session, service_ids: Collection[int] | None, today: date
    ) -> dict[int, list[OpenCharge]]:
        with self.engine.connect() as conn:
            rows = conn.execute(self.query, {"today": today}).all()
        wanted = set(service_ids) if service_ids is not None else None
        ids = dict(session.execute(select(Service.login, Service.id).where(Service.login.is_not(None))).all())
        found: dict[int, list[OpenCharge]] = {}
        unknown = 0
        for login, due, amount in rows:
            service_id = ids.get(login)
            if service_id is None:
                unknown += 1
            elif wanted is None or service_id in wanted:
                found.setdefault(service_id, []).append(OpenCharge(due, Decimal(amount)))
        if unknown:
            log.info("%d open charges in %s name no login of ours", unknown, self.query)
        return found


def charge_source(settings: BillingSettings) -> ChargeSource:
    if settings.charges_source == "sql_view":
        if not settings.external_database_url:
            raise ValueError("billing.charges_source = 'sql_view' needs billing.external_database_url")
        return _view(settings.external_database_url, settings.external_view)
    return open_charges


@lru_cache(maxsize=4)
def _view(url: str, view: str) -> SqlViewCharges:
    """One engine (pool) per external database for the process's life."""
    return SqlViewCharges(create_engine(url, pool_pre_ping=True), view)

"""Writing import records into this system: NAS, pools, plans, fixed-IP subnets, customers,
services (with their fixed addresses), open sessions and open charges, in that order.

Every row goes through the domain functions an operator's change goes through (validation,
audit with the import's id as the actor, caches told), in chunks of one transaction each; a chunk
that fails is redone row by row, so a bad row is reported and never takes good rows down with it.
``import_link`` remembers what each source row became and its fingerprint: a re-run skips
unchanged rows and updates changed ones. The run's checkpoint says how far each stage got, so an
interrupted import resumes there (``resume``). A dry run does all of it in one transaction that
is rolled back: the report says what would happen, nothing is written but the run's own record.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import netaddr
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.audit.tracking import creation_rows
from aaa.changes.feed import record_changes
from aaa.db.base import utcnow
from aaa.db.bulk import among, column_values, insert_rows
from aaa.errors import DomainError
from aaa.importers.charges import write_charge
from aaa.importers.source import (
    Source,
    SourceCustomer,
    SourceNas,
    SourcePlan,
    SourcePool,
    SourceService,
    SourceSession,
    fingerprint,
)
from aaa.ipam.assignments import assign_fixed, assign_fixed_many, fixed_of
from aaa.ipam.subnets import add_folder, add_pool, add_subnet, containing
from aaa.nas.service import add_nas
from aaa.subscribers.customers import add_customer, new_customer
from aaa.subscribers.plans import PLAN_FIELDS, add_plan, change_plan, update_plan
from aaa.subscribers.service import add_service, new_service, set_status, update_service
from aaa.tables.accounting import AcctSession
from aaa.tables.audit import AuditEntry
from aaa.tables.changes import ChangeKind
from aaa.tables.imports import ImportLink, ImportRun
from aaa.tables.ipam import IpFolder, Pool
from aaa.tables.nas import Nas
from aaa.tables.subscribers import Customer, Plan, Service
from aaa.vocabulary.ipam import PoolKind, PoolMode, SubnetPurpose
from aaa.vocabulary.subscribers import CustomerKind, MacBinding, ServiceStatus
from aaa.vocabulary.vendors import VendorProfile

log = logging.getLogger(__name__)
FOLDER = "FreeRADIUS (importado)"
Progress = Callable[[str, int, int], None]  # stage, done, total
STAGES = ("nas", "pools", "plans", "subnets", "customers", "services", "sessions", "charges")


class RowProblem(Exception):
    """This row cannot be imported; the message says why (a conflict names the holder)."""


@dataclass
class Tally:
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, key: str, action: str, reason: str = "") -> None:
        self.counts[kind][action] += 1
        if action != "created" or reason:
            self.rows.append({"kind": kind, "key": key, "action": action, "reason": reason})


@dataclass(slots=True)
class LinkRecord:
    """A link a bulk chunk made, as the chunk reads it back; its row is inserted with the others
    at the chunk's end (``Context.write_links``), never through the ORM."""

    target_id: int
    fingerprint: str


@dataclass(frozen=True)
class Owner:
    """A customer known by its id only: a detached new service needs no more of it."""

    id: int


@dataclass
class Context:
    session: Session
    source: str
    now: datetime
    links: dict[tuple[str, str], ImportLink | LinkRecord] = field(default_factory=dict)
    folder_id: int | None = None
    methods: dict[str, tuple[int, bool]] = field(default_factory=dict)
    bulk: bool = False
    pending: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def folder(self) -> int:
        if self.folder_id is None:
            found = self.session.scalar(select(IpFolder).where(IpFolder.name == FOLDER))
            self.folder_id = (
                found.id if found else add_folder(self.session, FOLDER, "subnets of an import").id
            )
        return self.folder_id

    def target(self, kind: str, key: str) -> int | None:
        link = self.links.get((kind, key))
        if link is None:
            link = self.session.get(ImportLink, (key, kind, self.source))
        return link.target_id if link else None

    def preload(self, kind: str, keys: set[str] | set[str | None]) -> None:
        """The links of ``keys`` (another kind's, e.g. the customers a chunk of services names)."""
        wanted = [k for k in keys if k is not None and (kind, k) not in self.links]
        for start in range(0, len(wanted), 1000):
            for link in self.session.scalars(
                select(ImportLink).where(
                    ImportLink.source == self.source,
                    ImportLink.kind == kind,
                    among(self.session, ImportLink.key, wanted[start : start + 1000]),
                )
            ):
                self.links[(kind, link.key)] = link

    def method(self, name: str) -> tuple[int, bool]:
        """A billing method by name (made if missing); remembered for a bulk chunk only (row by
        row, a savepoint rolled back may take a new one with it)."""
        if not self.bulk:
            return _method_id(self.session, name)
        if name not in self.methods:
            self.methods[name] = _method_id(self.session, name)
            return self.methods[name]
        return self.methods[name][0], False

    def link(self, kind: str, key: str, target_id: int, print_: str) -> None:
        """Remember what the row became. In a bulk chunk new links are inserted together at its
        end (``write_links``); row by row (savepoints) they go through the session."""
        link = self.links.get((kind, key))
        if link is not None:
            link.target_id, link.fingerprint = target_id, print_
            if (kind, key) in self.pending:
                self.pending[(kind, key)].update(target_id=target_id, fingerprint=print_)
            return
        if self.bulk:
            row = {
                "source": self.source,
                "kind": kind,
                "key": key,
                "target_id": target_id,
                "fingerprint": print_,
            }
            self.pending[(kind, key)] = row
            self.links[(kind, key)] = LinkRecord(target_id, print_)
            return
        link = ImportLink(source=self.source, kind=kind, key=key, target_id=target_id, fingerprint=print_)
        self.session.add(link)
        self.links[(kind, key)] = link

    def write_links(self) -> None:
        if self.pending:
            insert_rows(self.session, ImportLink, list(self.pending.values()))
            self.pending.clear()


Writer = Callable[[Context, Any], tuple[str, str]]  # → (action, reason)


class Importer:
    def __init__(
        self,
        factory: sessionmaker[Session],
        source: Source,
        run_id: int,
        *,
        dry_run: bool = False,
        chunk: int = 500,
        progress: Progress | None = None,
    ):
        self.factory, self.source, self.run_id = factory, source, run_id
        self.dry_run, self.chunk, self.progress = dry_run, chunk, progress
        self.tally = Tally()
        self.actor = Actor(f"import:{run_id}", "local")

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> ImportRun:
        for problem in self.source.problems:
            self.tally.add(problem.kind, problem.key, "error", problem.reason)
        for note in self.source.notes:
            self.tally.add(note.kind, note.key, "note", note.reason)
        with self.factory() as session:
            run = session.get(ImportRun, self.run_id)
            assert run is not None
            checkpoint = dict(run.checkpoint or {})
        shared = self._dry_session() if self.dry_run else nullcontext(None)
        try:
            with shared as dry:
                for stage, records, writer in self._stages():
                    self._stage(stage, records, writer, checkpoint, dry)
            self._finish("done", None)
        except Exception as exc:
            log.exception("import %d failed", self.run_id)
            self._finish("failed", str(exc)[:2000])
            raise
        with self.factory() as session:
            finished = session.get(ImportRun, self.run_id)
            assert finished is not None
            session.expunge(finished)
            return finished

    @contextmanager
    def _dry_session(self) -> Iterator[Session]:
        session = self.factory()
        session.begin()
        act_as(session, self.actor)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def _stages(self) -> list[tuple[str, Sequence[Any], Writer]]:
        s = self.source
        subnets = sorted(
            {
                str(netaddr.IPNetwork(f"{svc.fixed_ipv4}/24").cidr)
                for svc in s.services
                if svc.fixed_ipv4 and _is_ipv4(svc.fixed_ipv4)
            }
        )
        return [
            ("nas", s.nas, write_nas),
            ("pools", s.pools, write_pool),
            ("plans", s.plans, write_plan),
            ("subnets", subnets, write_subnet),
            ("customers", s.customers, write_customer),
            ("services", s.services, write_service),
            ("sessions", s.sessions, write_session),
            ("charges", s.charges, write_charge),
        ]

    def _stage(
        self,
        stage: str,
        records: Sequence[Any],
        writer: Writer,
        checkpoint: dict[str, int],
        dry: Session | None,
    ) -> None:
        start = 0 if self.dry_run else checkpoint.get(stage, 0)
        total = len(records)
        for begin in range(start, total, self.chunk):
            batch = records[begin : begin + self.chunk]
            if dry is not None:
                outcomes = self._chunk(dry, stage, batch, writer, savepoint=True)
                dry.expunge_all()
            else:
                outcomes = self._committed_chunk(stage, batch, writer)
                checkpoint[stage] = begin + len(batch)
            for key, action, reason in outcomes:
                self.tally.add(_kind(stage), key, action, reason)
            self._report(stage, begin + len(batch), total, checkpoint)
            if (begin // self.chunk) % 20 == 19:
                self._analyze(dry)
        self._analyze(dry)
        if total == 0 or start >= total:
            self._report(stage, total, total, checkpoint)

    def _analyze(self, dry: Session | None) -> None:
        """PostgreSQL plans by table statistics; tables an import fills from empty need fresh ones,
        or its lookups are planned as if they were still empty."""
        if dry is not None or self.factory.kw["bind"].dialect.name != "postgresql":
            return
        with self.factory.begin() as session:
            for table in ("import_link", "customer", "service", "ip_assignment", "acct_session"):
                session.execute(text(f"ANALYZE {table}"))

    def _committed_chunk(
        self, stage: str, batch: Sequence[Any], writer: Writer
    ) -> list[tuple[str, str, str]]:
        """The chunk in one transaction; if it fails as a whole, again row by row."""
        try:
            with self.factory.begin() as session:
                act_as(session, self.actor)
                return self._chunk(session, stage, batch, writer, savepoint=False)
        except (DomainError, RowProblem, IntegrityError, ValueError):
            with self.factory.begin() as session:
                act_as(session, self.actor)
                return self._chunk(session, stage, batch, writer, savepoint=True)

    def _chunk(
        self, session: Session, stage: str, batch: Sequence[Any], writer: Writer, *, savepoint: bool
    ) -> list[tuple[str, str, str]]:
        context = Context(session, self.source.name, utcnow())
        kind = _kind(stage)
        keys = [_key(record) for record in batch]
        context.preload(kind, set(keys))
        if not savepoint and stage in BULK:
            context.bulk = True
            outcomes = BULK[stage](context, batch)
            session.flush()
            context.write_links()
            return outcomes
        outcomes = []
        for record, key in zip(batch, keys, strict=True):
            if not savepoint:
                action, reason = writer(context, record)
                outcomes.append((key, action, reason))
                continue
            try:
                with session.begin_nested():
                    action, reason = writer(context, record)
            except (DomainError, RowProblem, IntegrityError, ValueError) as exc:
                action, reason = "conflict" if _is_conflict(exc) else "error", str(exc).splitlines()[0]
            outcomes.append((key, action, reason))
        session.flush()
        return outcomes

    def _report(self, stage: str, done: int, total: int, checkpoint: dict[str, int]) -> None:
        """The checkpoint is stored first: whatever happens after, a resume starts from it."""
        with self.factory.begin() as session:
            session.execute(
                update(ImportRun)
                .where(ImportRun.id == self.run_id)
                .values(
                    stage=stage,
                    done=done,
                    total=total,
                    checkpoint=dict(checkpoint),
                    counts={k: dict(v) for k, v in self.tally.counts.items()},
                )
            )
        if self.progress:
            self.progress(stage, done, total)

    def _finish(self, status: str, error: str | None) -> None:
        with self.factory.begin() as session:
            session.execute(
                update(ImportRun)
                .where(ImportRun.id == self.run_id)
                .values(
                    status=status,
                    error=error,
                    finished_at=utcnow(),
                    counts={k: dict(v) for k, v in self.tally.counts.items()},
                    rows=self.tally.rows[:20_000],
                )
            )


def start_run(session: Session, *, kind: str, source: str, dry_run: bool, actor: str) -> ImportRun:
    run = ImportRun(kind=kind, source=source[:300], dry_run=dry_run, actor=actor, status="running")
    session.add(run)
    session.flush()
    return run


def _kind(stage: str) -> str:
    return {"nas": "nas", "pools": "pool", "plans": "plan", "subnets": "subnet", "customers": "customer",
            "services": "service", "sessions": "session", "charges": "charge"}[stage]  # fmt: skip


def _key(record: Any) -> str:
    return record if isinstance(record, str) else str(record.key)


def _is_conflict(exc: Exception) -> bool:
    from aaa.errors import Conflict

    return isinstance(exc, Conflict | IntegrityError) or "already" in str(exc)


def _is_ipv4(address: str) -> bool:
    try:
        return netaddr.IPAddress(address).version == 4
    except (netaddr.AddrFormatError, ValueError):
        return False


# --- writers: one per kind; each returns (action, reason) -----------------------------------


def _unchanged(context: Context, kind: str, key: str, print_: str) -> int | None:
    link = context.links.get((kind, key))
    if link is not None and link.fingerprint == print_:
        return link.target_id
    return None


def write_nas(context: Context, record: SourceNas) -> tuple[str, str]:
    print_ = fingerprint(record)
    if _unchanged(context, "nas", record.key, print_) is not None:
        return "unchanged", ""
    s = context.session
    target = context.target("nas", record.key)
    nas = s.get(Nas, target) if target else s.scalar(select(Nas).where(Nas.address == record.address))
    if nas is not None:
        if target is None:
            context.link("nas", record.key, nas.id, print_)
            return "linked", f"NAS {nas.name} ({nas.address}) already exists; left as it is"
        nas.secret, nas.description = record.secret, record.description
        context.link("nas", record.key, nas.id, print_)
        return "updated", ""
    created = add_nas(
        s,
        name=record.name,
        address=record.address,
        secret=record.secret,
        vendor=VendorProfile(record.vendor),
        description=record.description,
        allow_wide_prefix=True,
        allow_short_secret=True,
    )
    context.link("nas", record.key, created.id, print_)
    return "created", "the secret is shorter than 16 octets" if len(record.secret.encode()) < 16 else ""


def write_pool(context: Context, record: SourcePool) -> tuple[str, str]:
    print_ = fingerprint(record)
    if _unchanged(context, "pool", record.key, print_) is not None:
        return "unchanged", ""
    s = context.session
    target = context.target("pool", record.key)
    if target is not None:
        context.link("pool", record.key, target, print_)
        return "unchanged", "pool already imported; its subnets are left as they are"
    existing = s.scalar(select(Pool).where(Pool.name == record.name))
    if existing is not None:
        context.link("pool", record.key, existing.id, print_)
        return "linked", f"pool {record.name!r} already exists; left as it is"
    pool = add_pool(s, record.name, PoolKind.IPV4, PoolMode.SERVER, description="radippool")
    for cidr in record.cidrs:
        add_subnet(
            s,
            folder_id=context.folder(),
            cidr=cidr,
            purpose=SubnetPurpose.DYNAMIC,
            now=context.now,
            pool_id=pool.id,
            use_all=True,
            name=record.name,
        )
    context.link("pool", record.key, pool.id, print_)
    return "created", ""


_PLAN_FIELDS = tuple(name for name in PLAN_FIELDS if name.endswith(("_kbps", "_s")))  # the rates


def write_plan(context: Context, record: SourcePlan) -> tuple[str, str]:
    print_ = fingerprint(record)
    if _unchanged(context, "plan", record.key, print_) is not None:
        return "unchanged", ""
    s = context.session
    fields: dict[str, Any] = {name: getattr(record, name) for name in _PLAN_FIELDS}
    if record.price is not None:
        fields["price"] = record.price
    replies = [list(item) for item in record.reply_attributes]
    target = context.target("plan", record.key)
    plan = s.get(Plan, target) if target else s.scalar(select(Plan).where(Plan.name == record.name))
    note = ""
    if plan is not None and target is None:
        context.link("plan", record.key, plan.id, print_)
        return "linked", f"plan {plan.name!r} already exists; left as it is"
    try:
        with s.begin_nested():
            if plan is None:
                plan = add_plan(s, name=record.name, reply_attributes=replies, **fields)
            else:
                update_plan(s, plan, reply_attributes=replies, **fields)
    except DomainError as exc:  # reply attributes this server refuses: the plan comes without them
        note = f"reply attributes not imported: {exc}"
        if plan is None or plan.id is None:
            plan = add_plan(s, name=record.name, **fields)
        else:
            update_plan(s, plan, **fields)
    action = "updated" if target else "created"
    context.link("plan", record.key, plan.id, print_)
    return action, note


def write_subnet(context: Context, cidr: str) -> tuple[str, str]:
    """A /24 for the fixed addresses no subnet holds yet."""
    s = context.session
    address = str(netaddr.IPNetwork(cidr).network + 1)
    try:
        containing(s, address)
        return "unchanged", "a subnet already holds these addresses"
    except DomainError:
        pass
    subnet = add_subnet(
        s,
        folder_id=context.folder(),
        cidr=cidr,
        purpose=SubnetPurpose.FIXED,
        now=context.now,
        use_all=True,
        name="fixed (import)",
    )
    context.link("subnet", cidr, subnet.id, cidr)
    return "created", ""


def write_customer(context: Context, record: SourceCustomer) -> tuple[str, str]:
    print_ = fingerprint(record)
    if _unchanged(context, "customer", record.key, print_) is not None:
        return "unchanged", ""
    s = context.session
    target = context.target("customer", record.key)
    if target is None and record.document:
        holder = s.scalar(select(Customer).where(Customer.document == record.document))
        if holder is not None:
            context.link("customer", record.key, holder.id, print_)
            return "linked", _joins(holder.id, holder.name)
    details = _details(record)
    addresses = None
    if record.address:
        from aaa.vocabulary.subscribers import AddressKind

        addresses = {AddressKind.REGISTRATION: dict(record.address)}
    if target is not None:
        customer = s.get(Customer, target)
        if customer is not None:
            customer.name = record.name
            context.link("customer", record.key, customer.id, print_)
            return "updated", ""
    customer = add_customer(
        s,
        name=record.name,
        kind=CustomerKind(record.kind),
        document=record.document,
        addresses=addresses,
        **details,
    )
    context.link("customer", record.key, customer.id, print_)
    return "created", ""


def _joins(customer_id: int, name: str) -> str:
    return f"customer {customer_id} ({name}) has this CPF/CNPJ; its services join it"


def _details(record: SourceCustomer) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if record.phones:
        details["phones"] = list(record.phones)
    if record.emails:
        details["emails"] = list(record.emails)
    return details


def _service_fields(context: Context, record: SourceService) -> tuple[dict[str, Any], str]:
    """The service's fields from the record, and a note (a billing method had to be made)."""
    fields: dict[str, Any] = {
        "password": record.password,
        "simultaneous_use": record.simultaneous_use,
        "mac_binding": MacBinding.ENFORCE if record.mac else MacBinding.OFF,
        "mac": record.mac,
        "reply_attributes": [list(item) for item in record.reply_attributes],
    }
    if record.due_day is not None:
        fields["due_day"] = record.due_day
    if record.price is not None:
        fields["price"] = record.price
    note = ""
    if record.billing_method:
        fields["billing_method_id"], made = context.method(record.billing_method)
        if made:
            note = f"billing method {record.billing_method!r} created with default rules: review them"
    return fields, note


def write_service(context: Context, record: SourceService) -> tuple[str, str]:
    print_ = fingerprint(record)
    if _unchanged(context, "service", record.key, print_) is not None:
        return "unchanged", ""
    s = context.session
    customer_id = context.target("customer", record.customer_key)
    plan_id = context.target("plan", record.plan_key) if record.plan_key else None
    if plan_id is None and record.plan_key:  # an ERP names this system's plans
        plan_id = s.scalar(select(Plan.id).where(Plan.name == record.plan_key))
    if customer_id is None:
        raise RowProblem(f"its customer {record.customer_key!r} was not imported")
    if plan_id is None:
        raise RowProblem(f"its plan {record.plan_key!r} was not imported and no plan has that name")
    customer, plan = s.get(Customer, customer_id), s.get(Plan, plan_id)
    assert customer is not None and plan is not None
    fields, note = _service_fields(context, record)
    notes = [note] if note else []
    target = context.target("service", record.key)
    if target is not None:
        service = s.get(Service, target)
        if service is None:
            raise RowProblem(f"service {target} it was imported as is gone")
        update_service(s, service, **fields)
        if service.plan_id != plan.id:
            change_plan(
                s, service, plan, reason=f"import {context.source}", change_price=record.price is None
            )
        if service.status.value != record.status:
            set_status(s, service, ServiceStatus(record.status), reason=f"import {context.source}")
        action = "updated"
    else:
        service = add_service(
            s, customer=customer, plan=plan, login=record.key, status=ServiceStatus(record.status), **fields
        )
        action = "created"
    service.password_scheme = record.password_scheme
    if record.custom_speed:
        service.custom_download_kbps, service.custom_upload_kbps = record.custom_speed
    wanted = _fixed(record)
    held = {a.address for a in fixed_of(s, service.id)} if wanted and action == "updated" else set()
    for address, length in wanted:
        if address in held:
            continue
        try:
            with s.begin_nested():
                assign_fixed(s, service, address=address, length=length, note="import", now=context.now)
        except DomainError as exc:
            notes.append(f"{address}: {exc}")
    context.link("service", record.key, service.id, print_)
    return action, "; ".join(notes)


def _fixed(record: SourceService) -> list[tuple[str, int | None]]:
    found: list[tuple[str, int | None]] = []
    if record.fixed_ipv4:
        found.append((record.fixed_ipv4, None))
    for block in (*record.fixed_routes, *record.fixed_ipv6):
        network = netaddr.IPNetwork(block)
        found.append((str(network.network), network.prefixlen))
    return found


def _method_id(session: Session, name: str) -> tuple[int, bool]:
    """The billing method by name, created (default rules) when missing."""
    from aaa.tables.subscribers import BillingMethod

    method = session.scalar(select(BillingMethod).where(BillingMethod.name == name[:50]))
    if method is not None:
        return method.id, False
    method = BillingMethod(name=name[:50])
    session.add(method)
    session.flush()
    return method.id, True


def write_session(context: Context, record: SourceSession) -> tuple[str, str]:
    """One session (a chunk done row by row): the bulk writer with a chunk of one."""
    [(_, action, reason)] = bulk_sessions(context, [record])
    if action == "error":
        raise RowProblem(reason)
    return action, reason


# --- bulk writers: a chunk of new rows in one flush (the per-row writers above are the fallback
# when a chunk fails, and do the updates) -----------------------------------------------------

Outcome = tuple[str, str, str]  # key, action, reason


def bulk_customers(context: Context, records: Sequence[SourceCustomer]) -> list[Outcome]:
    s = context.session
    done: dict[str, tuple[str, str]] = {}
    todo: list[tuple[SourceCustomer, str]] = []
    for record in records:
        print_ = fingerprint(record)
        link = context.links.get(("customer", record.key))
        if link is not None:
            done[record.key] = (
                ("unchanged", "") if link.fingerprint == print_ else write_customer(context, record)
            )
        else:
            todo.append((record, print_))
    documents = {r.document for r, _ in todo if r.document}
    holders = {
        document: (customer_id, name)
        for customer_id, document, name in s.execute(
            select(Customer.id, Customer.document, Customer.name).where(
                among(s, Customer.document, documents)
            )
        )
    }
    created: list[tuple[SourceCustomer, str, Customer]] = []
    fresh: dict[str, Customer] = {}  # documents created in this chunk
    for record, print_ in todo:
        if record.document and record.document in holders:
            customer_id, name = holders[record.document]
            context.link("customer", record.key, customer_id, print_)
            done[record.key] = ("linked", _joins(customer_id, name))
            continue
        if record.document and record.document in fresh:
            created.append((record, print_, fresh[record.document]))
            continue
        try:
            customer = new_customer(
                name=record.name, kind=CustomerKind(record.kind), document=record.document, **_details(record)
            )
        except DomainError as exc:
            done[record.key] = ("error", str(exc))
            continue
        if customer.document:
            fresh[customer.document] = customer
        created.append((record, print_, customer))
    _insert_new(s, Customer, list({id(c): c for _, _, c in created}.values()))
    for record, print_, customer in created:
        reason = ""
        if record.address:
            from aaa.subscribers.customers import set_address
            from aaa.vocabulary.subscribers import AddressKind

            try:
                with s.begin_nested():
                    set_address(s, customer, AddressKind.REGISTRATION, dict(record.address))
            except DomainError as exc:
                reason = f"address left out: {exc}"
        context.link("customer", record.key, customer.id, print_)
        done[record.key] = ("created", reason)
    return [(r.key, *done[r.key]) for r in records]


def bulk_services(context: Context, records: Sequence[SourceService]) -> list[Outcome]:
    s = context.session
    context.preload("customer", {r.customer_key for r in records})
    context.preload("plan", {r.plan_key for r in records if r.plan_key})
    plans = {p.id: p for p in s.scalars(select(Plan))}
    plans_by_name = {p.name: p for p in plans.values()}
    customer_ids = {context.target("customer", r.customer_key) for r in records} - {None}
    customers = {
        i: Owner(i) for i in s.scalars(select(Customer.id).where(among(s, Customer.id, customer_ids)))
    }
    held: dict[str, int] = {
        str(login).lower(): service_id
        for service_id, login in s.execute(
            select(Service.id, Service.login).where(
                among(s, func.lower(Service.login), [r.key.lower() for r in records])
            )
        )
    }
    done: dict[str, tuple[str, str]] = {}
    created: list[tuple[SourceService, str, Service]] = []
    for record in records:
        print_ = fingerprint(record)
        link = context.links.get(("service", record.key))
        if link is not None:
            done[record.key] = (
                ("unchanged", "") if link.fingerprint == print_ else write_service(context, record)
            )
            continue
        customer = customers.get(context.target("customer", record.customer_key) or 0)
        plan_id = context.target("plan", record.plan_key) if record.plan_key else None
        plan = plans.get(plan_id or 0) or plans_by_name.get(record.plan_key or "")
        if customer is None:
            done[record.key] = ("error", f"its customer {record.customer_key!r} was not imported")
            continue
        if plan is None:
            done[record.key] = (
                "error",
                f"its plan {record.plan_key!r} was not imported and no plan has that name",
            )
            continue
        if record.key.lower() in held:
            done[record.key] = (
                "conflict",
                f"login {record.key!r} is already used by service {held[record.key.lower()]}",
            )
            continue
        fields, note = _service_fields(context, record)
        try:
            service = new_service(
                s,
                customer=customer,
                plan=plan,
                login=record.key,
                status=ServiceStatus(record.status),
                login_checked=True,
                detached=True,
                **fields,
            )
        except DomainError as exc:
            done[record.key] = ("error", str(exc))
            continue
        service.password_scheme = record.password_scheme
        if record.custom_speed:
            service.custom_download_kbps, service.custom_upload_kbps = record.custom_speed
        held[record.key.lower()] = 0
        created.append((record, print_, service))
        done[record.key] = ("created", note)
    _insert_new(s, Service, [service for _, _, service in created])
    record_changes(s, [(ChangeKind.SERVICE, str(service.login)) for _, _, service in created])
    # Single IPv4 addresses of the whole chunk at once; routed blocks and IPv6 one by one. One
    # that cannot be assigned fails the chunk, which is then done row by row (write_service),
    # where it becomes that row's note.
    singles = [(service, record.fixed_ipv4) for record, _, service in created if record.fixed_ipv4]
    assign_fixed_many(s, singles, note="import", now=context.now)
    for record, print_, service in created:
        for address, length in _fixed(record):
            if length is not None:
                assign_fixed(s, service, address=address, length=length, note="import", now=context.now)
        context.link("service", record.key, service.id, print_)
    return [(r.key, *done[r.key]) for r in records]


def bulk_sessions(context: Context, records: Sequence[SourceSession]) -> list[Outcome]:
    s = context.session
    nas = {address: nas_id for nas_id, address in s.execute(select(Nas.id, Nas.address))}
    logins = {r.login for r in records}
    found = s.execute(select(Service.login, Service.id).where(among(s, Service.login, logins)))
    services: dict[str, int] = {str(login): service_id for login, service_id in found}
    done: dict[str, tuple[str, str]] = {}
    rows: list[dict[str, Any]] = []
    keys: list[SourceSession] = []
    for record in records:
        if ("session", record.key) in context.links:
            done[record.key] = ("unchanged", "")
            continue
        nas_id = nas.get(record.nas_address)
        if nas_id is None:
            done[record.key] = ("error", f"no NAS has the address {record.nas_address}")
            continue
        rows.append(
            {
                "nas_id": nas_id,
                "acct_session_id": record.acct_session_id[:64],
                "login": record.login,
                "service_id": services.get(record.login),
                "nas_port_id": record.nas_port_id,
                "calling_station_id": record.calling_station_id,
                "framed_ip": record.framed_ip,
                "start_time": record.start_time,
                "last_update": record.last_update or record.start_time,
                "stop_time": record.stop_time,
                "session_time": record.session_time,
                "input_octets": record.input_octets,
                "output_octets": record.output_octets,
            }
        )
        keys.append(record)
    if rows:
        ids = s.scalars(
            insert(AcctSession).returning(AcctSession.id, sort_by_parameter_order=True), rows
        ).all()
        for record, row_id in zip(keys, ids, strict=True):
            context.link("session", record.key, int(row_id), "")
            done[record.key] = ("created", "" if services.get(record.login) else "no service has this login")
        record_changes(
            s, [(ChangeKind.SESSION, login) for login in {r.login for r in keys if r.stop_time is None}]
        )
    return [(r.key, *done[r.key]) for r in records]


def _insert_new(session: Session, model: Any, objects: list[Any]) -> None:
    """Rows the domain built and checked, inserted a chunk at a time without the ORM's unit of
    work (which costs more than the rest of an import together), with the audit entries its flush
    hook would have written; each object gets its new id."""
    if not objects:
        return
    rows = [column_values(o) for o in objects]
    if session.get_bind().dialect.name == "postgresql":
        # Ids drawn from the table's sequence first, then one COPY (insert_rows): a RETURNING
        # over thousands of rows is a statement psycopg must parse anew.
        ids = list(
            session.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                {"table": model.__tablename__, "n": len(rows)},
            ).scalars()
        )
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        insert_rows(session, model, rows)
    else:
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        ids = list(session.execute(statement, rows).scalars())
    insert_rows(session, AuditEntry, creation_rows(session, list(zip(objects, ids, strict=True))))


BULK: dict[str, Callable[[Context, Sequence[Any]], list[Outcome]]] = {
    "customers": bulk_customers,
    "services": bulk_services,
    "sessions": bulk_sessions,
}

"""IPAM (Pasta → Subrede → IP fixo): folders, pools, subnets, next free, assignments,
reports and CSV import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from aaa.db.base import utcnow
from aaa.ipam import allocator, assignments, importer, reports, subnets
from aaa.subscribers import service as services
from aaa.subscribers.customers import EVERYWHERE, Scope
from aaa.tables.ipam import IpAssignment, IpFolder, Subnet
from aaa.vocabulary.ipam import AssignmentKind
from admin_api import scoped
from admin_api.deps import CityScope, db
from admin_api.routes.common import Limit, Offset, PathId, QueryId, listed, paged
from admin_api.schemas.common import Page, PrefixLen
from admin_api.schemas.ipam import (
    AddressReportOut,
    AssignIn,
    AssignmentOut,
    ExclusionIn,
    FolderIn,
    FolderOut,
    FolderPatch,
    HeldOut,
    ImportConflictOut,
    ImportIn,
    ImportOut,
    NextFreeOut,
    PoolIn,
    PoolOut,
    PoolPatch,
    ReservationIn,
    SubnetIn,
    SubnetOut,
    SubnetPatch,
    UsageOut,
)

router = APIRouter(tags=["ipam"])


def _usage(usage: reports.Usage) -> UsageOut:
    return UsageOut(
        usable=usage.usable,
        used=usage.used,
        fixed=usage.fixed,
        leased=usage.leased,
        free=usage.free,
        percent=usage.percent,
    )


def _folder_out(session: Session, folder: IpFolder) -> FolderOut:
    out = FolderOut.model_validate(folder)
    out.usage = {f"ipv{v}": _usage(u) for v, u in sorted(reports.folder_usage(session, folder.id).items())}
    return out


def _subnet_out(session: Session, subnet: Subnet) -> SubnetOut:
    out = SubnetOut.model_validate(subnet)
    out.usage = _usage(reports.subnet_usage(session, [subnet])[subnet.id])
    return out


def _assignment_out(session: Session, row: IpAssignment, scope: Scope = EVERYWHERE) -> AssignmentOut:
    """A hold of another city's service shows that the address is taken, not by whom."""
    out = AssignmentOut.model_validate(row)
    if row.service_id is not None and not scoped.service_visible(session, row.service_id, scope):
        out.service_id = None
        out.note = ""
    elif row.service_id is not None:
        out.login = assignments.holder_login(session, row.service_id)
    return out


# --- folders ---------------------------------------------------------------------------------


@router.get("/ipam/folders", response_model=Page[FolderOut])
def list_folders(
    limit: Limit = 50, offset: Offset = 0, session: Session = db("ipam.read")
) -> Page[FolderOut]:
    found = subnets.list_folders(session, limit=limit, offset=offset)
    return paged(found, lambda f: _folder_out(session, f), limit, offset)


@router.post("/ipam/folders", response_model=FolderOut, status_code=201)
def create_folder(body: FolderIn, session: Session = db("ipam.write")) -> FolderOut:
    return _folder_out(session, subnets.add_folder(session, body.name, body.description))


@router.get("/ipam/folders/{folder_id}", response_model=FolderOut)
def get_folder(folder_id: PathId, session: Session = db("ipam.read")) -> FolderOut:
    """The folder with its utilization (used/free/% per IP version)."""
    return _folder_out(session, subnets.get_folder(session, folder_id))


@router.patch("/ipam/folders/{folder_id}", response_model=FolderOut)
def update_folder(folder_id: PathId, body: FolderPatch, session: Session = db("ipam.write")) -> FolderOut:
    folder = subnets.get_folder(session, folder_id)
    subnets.update_folder(session, folder, name=body.name, description=body.description)
    return _folder_out(session, folder)


@router.delete("/ipam/folders/{folder_id}", status_code=204)
def delete_folder(folder_id: PathId, session: Session = db("ipam.write")) -> None:
    subnets.delete_folder(session, subnets.get_folder(session, folder_id))


# --- pools -----------------------------------------------------------------------------------


@router.get("/ipam/pools", response_model=Page[PoolOut])
def list_pools(limit: Limit = 50, offset: Offset = 0, session: Session = db("ipam.read")) -> Page[PoolOut]:
    return paged(
        subnets.list_pools(session, limit=limit, offset=offset), PoolOut.model_validate, limit, offset
    )


@router.post("/ipam/pools", response_model=PoolOut, status_code=201)
def create_pool(body: PoolIn, session: Session = db("ipam.write")) -> PoolOut:
    """A pool: ``nas`` mode sends its name (Framed-Pool...) for the NAS to allocate; ``server`` mode
    leases from its subnets here. Plans and NAS name the pools they use."""
    return PoolOut.model_validate(subnets.add_pool(session, **body.model_dump()))


@router.get("/ipam/pools/{pool_id}", response_model=PoolOut)
def get_pool(pool_id: PathId, session: Session = db("ipam.read")) -> PoolOut:
    return PoolOut.model_validate(subnets.get_pool(session, pool_id))


@router.patch("/ipam/pools/{pool_id}", response_model=PoolOut)
def update_pool(pool_id: PathId, body: PoolPatch, session: Session = db("ipam.write")) -> PoolOut:
    pool = subnets.get_pool(session, pool_id)
    subnets.update_pool(session, pool, body.model_dump(exclude_unset=True))
    return PoolOut.model_validate(pool)


@router.delete("/ipam/pools/{pool_id}", status_code=204)
def delete_pool(pool_id: PathId, session: Session = db("ipam.write")) -> None:
    subnets.delete_pool(session, subnets.get_pool(session, pool_id))


# --- subnets ---------------------------------------------------------------------------------


@router.get("/ipam/subnets", response_model=Page[SubnetOut])
def list_subnets(
    folder_id: QueryId | None = None,
    pool_id: QueryId | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("ipam.read"),
) -> Page[SubnetOut]:
    found = subnets.list_subnets(session, folder_id=folder_id, pool_id=pool_id, limit=limit, offset=offset)
    return paged(found, lambda s: _subnet_out(session, s), limit, offset)


@router.post("/ipam/subnets", response_model=SubnetOut, status_code=201)
def create_subnet(body: SubnetIn, session: Session = db("ipam.write")) -> SubnetOut:
    return _subnet_out(session, subnets.add_subnet(session, now=utcnow(), **body.model_dump()))


@router.get("/ipam/subnets/{subnet_id}", response_model=SubnetOut)
def get_subnet(subnet_id: PathId, session: Session = db("ipam.read")) -> SubnetOut:
    return _subnet_out(session, subnets.get_subnet(session, subnet_id))


@router.patch("/ipam/subnets/{subnet_id}", response_model=SubnetOut)
def update_subnet(subnet_id: PathId, body: SubnetPatch, session: Session = db("ipam.write")) -> SubnetOut:
    subnet = subnets.get_subnet(session, subnet_id)
    subnets.update_subnet(session, subnet, body.model_dump(exclude_unset=True))
    return _subnet_out(session, subnet)


@router.delete("/ipam/subnets/{subnet_id}", status_code=204)
def delete_subnet(subnet_id: PathId, session: Session = db("ipam.write")) -> None:
    subnets.delete_subnet(session, subnets.get_subnet(session, subnet_id))


@router.get("/ipam/subnets/{subnet_id}/next-free", response_model=NextFreeOut)
def next_free(
    subnet_id: PathId,
    prefix_len: Annotated[PrefixLen | None, Query(description="a block, e.g. 29; default one unit")] = None,
    session: Session = db("ipam.read"),
) -> NextFreeOut:
    """Procurar próximo disponível: the lowest free address or aligned block."""
    subnet = subnets.get_subnet(session, subnet_id)
    address = allocator.next_free(session, subnet, prefix_len)
    return NextFreeOut(subnet_id=subnet.id, address=address, prefix_len=prefix_len or subnet.unit_len)


@router.get("/ipam/subnets/{subnet_id}/assignments", response_model=Page[AssignmentOut])
def list_assignments(
    subnet_id: PathId,
    scope: CityScope,
    kind: AssignmentKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("ipam.read"),
) -> Page[AssignmentOut]:
    """What the subnet holds now, by address (another city's service shows as a bare hold)."""
    subnet = subnets.get_subnet(session, subnet_id)
    found = subnets.holds_of(session, subnet, kind=kind, limit=limit, offset=offset)
    return paged(found, lambda r: _assignment_out(session, r, scope), limit, offset)


@router.post("/ipam/subnets/{subnet_id}/reservations", response_model=AssignmentOut, status_code=201)
def reserve(subnet_id: PathId, body: ReservationIn, session: Session = db("ipam.write")) -> AssignmentOut:
    subnet = subnets.get_subnet(session, subnet_id)
    row = subnets.hold(
        session,
        subnet,
        AssignmentKind.RESERVED,
        body.address,
        length=body.prefix_len,
        note=body.note,
        now=utcnow(),
    )
    return _assignment_out(session, row)


@router.post("/ipam/subnets/{subnet_id}/exclusions", response_model=AssignmentOut, status_code=201)
def exclude(subnet_id: PathId, body: ExclusionIn, session: Session = db("ipam.write")) -> AssignmentOut:
    """A range never handed out, e.g. the addresses the NAS itself uses."""
    subnet = subnets.get_subnet(session, subnet_id)
    return _assignment_out(
        session, subnets.exclude(session, subnet, body.start, body.end, note=body.note, now=utcnow())
    )


@router.delete("/ipam/subnets/{subnet_id}/holds/{hold_id}", status_code=204)
def remove_hold(subnet_id: PathId, hold_id: PathId, session: Session = db("ipam.write")) -> None:
    """Remove a reservation, an exclusion or the gateway."""
    subnets.remove_hold(session, subnets.get_subnet(session, subnet_id), hold_id, utcnow())


@router.get("/ipam/address", response_model=AddressReportOut)
def address_report(
    address: Annotated[str, Query(min_length=2, max_length=49, description="e.g. 100.64.0.7")],
    scope: CityScope,
    limit: Limit = 100,
    session: Session = db("ipam.read"),
) -> AddressReportOut:
    """Who holds an address now, and everyone who held it before (of the operator's cities)."""
    holder = assignments.holder_of(session, address)
    subnet, history = assignments.history_of(session, address, limit)
    return AddressReportOut(
        address=address,
        subnet=_subnet_out(session, subnet),
        holder=_assignment_out(session, holder, scope) if holder else None,
        history=[_assignment_out(session, row, scope) for row in history],
    )


@router.post("/ipam/import", response_model=ImportOut)
def import_csv(body: ImportIn, scope: CityScope, session: Session = db("ipam.write")) -> ImportOut:
    """Fixed IPs from CSV (``login,address``). Conflicts are reported, never overwritten; a dry run
    reports the same and changes nothing. Logins of every city: needs an operator of every city."""
    scoped.whole_isp(scope, "an import of fixed IPs")
    report = importer.import_fixed(session, importer.read_csv(body.csv), utcnow())
    if body.dry_run:
        session.rollback()
    return ImportOut(
        imported=len(report.imported),
        unchanged=len(report.unchanged),
        conflicts=[
            ImportConflictOut(line=n, login=lg, address=a, reason=r) for n, lg, a, r in report.conflicts
        ],
        dry_run=body.dry_run,
    )


# --- a service's addresses -------------------------------------------------------------------


@router.get("/services/{service_id}/addresses", response_model=Page[HeldOut])
def service_addresses(
    service_id: PathId,
    scope: CityScope,
    limit: Limit = 100,
    offset: Offset = 0,
    session: Session = db("ipam.read"),
) -> Page[HeldOut]:
    service = services.get_service_by_id(session, service_id, scope)
    return listed(
        [HeldOut.model_validate(row) for row in assignments.held_by(session, service.id)], limit, offset
    )


@router.post("/services/{service_id}/addresses", response_model=HeldOut, status_code=201)
def assign(
    service_id: PathId, body: AssignIn, scope: CityScope, session: Session = db("ipam.assign")
) -> HeldOut:
    """Give the service a fixed address: the next free one of ``subnet_id``, or ``address``. It is
    sent at the subscriber's next login (Framed-IP-Address, Framed-Route for a block,
    Delegated-IPv6-Prefix or Framed-IPv6-Prefix)."""
    service = services.get_service_by_id(session, service_id, scope)
    row = assignments.assign_fixed(
        session,
        service,
        subnet_id=body.subnet_id,
        address=body.address,
        length=body.prefix_len,
        note=body.note,
        now=utcnow(),
    )
    return HeldOut.model_validate(row)


@router.delete("/services/{service_id}/addresses/{assignment_id}", status_code=204)
def unassign(
    service_id: PathId, assignment_id: PathId, scope: CityScope, session: Session = db("ipam.assign")
) -> None:
    service = services.get_service_by_id(session, service_id, scope)
    assignments.unassign(session, service, assignment_id, utcnow())

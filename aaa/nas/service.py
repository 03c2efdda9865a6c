"""NAS registry operations. They flush, never commit: the caller owns the transaction."""

from __future__ import annotations

import ipaddress
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.errors import Conflict, Invalid, NotFound
from aaa.nas.models import MaMode, Nas, VendorProfile

log = logging.getLogger(__name__)
MIN_SECRET = 12  # draft-ietf-radext-deprecating-radius: warn at 12 octets or fewer


def _address(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise Invalid(
            f"NAS address {value!r} is not an IP address or a CIDR with host bits clear: {exc}"
        ) from exc
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def add_nas(
    session: Session,
    *,
    name: str,
    address: str,
    secret: str,
    vendor: VendorProfile = VendorProfile.MIKROTIK,
    coa_port: int | None = None,
    require_message_authenticator: MaMode = MaMode.YES,
    swap_octets: bool = False,
    interim_interval: int | None = None,
    description: str = "",
) -> Nas:
    address = _address(address)
    if not secret:
        raise Invalid("the shared secret must not be empty")
    if len(secret.encode()) > 128:
        raise Invalid("the shared secret must be at most 128 octets")
    if len(secret.encode()) <= MIN_SECRET:
        log.warning("NAS %s: shared secret has %d octets; use at least 16 random ones", name, len(secret))
    for column, value in (("name", name), ("address", address)):
        existing = session.scalar(select(Nas).where(getattr(Nas, column) == value))
        if existing:
            raise Conflict(f"NAS {column} {value} is already used by NAS {existing.id} ({existing.name})")
    if coa_port is None:
        coa_port = 1700 if vendor is VendorProfile.MIKROTIK else 3799  # RouterOS listens on 1700
    nas = Nas(
        name=name,
        address=address,
        secret=secret,
        vendor=vendor,
        coa_port=coa_port,
        require_message_authenticator=require_message_authenticator,
        swap_octets=swap_octets,
        interim_interval=interim_interval,
        description=description,
    )
    session.add(nas)
    session.flush()
    return nas


def list_nas(session: Session) -> list[Nas]:
    return list(session.scalars(select(Nas).order_by(Nas.id)))


def mark_ma_seen(session: Session, nas_id: int) -> None:
    """``auto`` mode: from now on this NAS must send Message-Authenticator."""
    nas = session.get(Nas, nas_id)
    if nas is None:
        raise NotFound(f"NAS {nas_id} does not exist")
    if not nas.ma_seen:
        nas.ma_seen = True

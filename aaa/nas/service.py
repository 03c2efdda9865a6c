"""NAS registry operations. They flush, never commit: the caller owns the transaction.

A NAS change writes its audit entries and refreshes every worker's NAS registry (FLUSH_HOOKS).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.ipam.subnets import check_pools
from aaa.tables.accounting import AcctSession, AuthLog
from aaa.tables.nas import MaMode, Nas, VendorProfile
from aaa.vocabulary.subscribers import SuspendedAction

log = logging.getLogger(__name__)
COA_PORT = 3799
MIN_SECRET = 16  # RFC 2865 §3: "at least 16 octets" is preferred
# A registration wider than one NAS's addresses trusts every host in it with the secret.
WIDEST = {4: 24, 6: 64}


def _address(value: str, allow_wide: bool) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise Invalid(
            f"NAS address {value!r} is not an IP address or a CIDR with host bits clear: {exc}"
        ) from exc
    if (network.prefixlen < WIDEST[network.version] or network.prefixlen == 0) and not allow_wide:
        raise Invalid(
            f"NAS address {value} covers {network.num_addresses} addresses: anyone there who learns the "
            f"secret may send as this NAS; register each NAS's own address, or set allow_wide_prefix "
            f"if a prefix shorter than /{WIDEST[network.version]} is intended"
        )
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def _secret(name: str, secret: str | None, allow_short: bool) -> str:
    """The given secret, checked, or a random one when none is given."""
    if secret is None:
        return secrets.token_urlsafe(24)
    if not secret:
        raise Invalid("the shared secret must not be empty")
    if len(secret.encode()) > 128:
        raise Invalid("the shared secret must be at most 128 octets")
    if len(secret.encode()) < MIN_SECRET:
        if not allow_short:
            raise Invalid(
                f"the shared secret has {len(secret.encode())} octets; RFC 2865 asks for at least "
                f"{MIN_SECRET} (omit it to get a random one), or set allow_short_secret to keep an "
                "existing NAS's secret"
            )
        log.warning("NAS %s: shared secret has %d octets; use at least 16 random ones", name, len(secret))
    return secret


def _unique(session: Session, column: str, value: object, nas_id: int | None = None) -> None:
    query = select(Nas).where(getattr(Nas, column) == value)
    if nas_id is not None:
        query = query.where(Nas.id != nas_id)
    holder = session.scalar(query)
    if holder:
        raise Conflict(f"NAS {column} {value} is already used by NAS {holder.id} ({holder.name})")


def add_nas(
    session: Session,
    *,
    name: str,
    address: str,
    secret: str | None,
    vendor: VendorProfile = VendorProfile.MIKROTIK,
    coa_port: int | None = None,
    require_message_authenticator: MaMode = MaMode.YES,
    swap_octets: bool = False,
    interim_interval: int | None = None,
    description: str = "",
    api_port: int | None = None,
    api_username: str | None = None,
    api_password: str | None = None,
    api_tls: bool = False,
    api_tls_verify: bool = False,
    allow_wide_prefix: bool = False,
    allow_short_secret: bool = False,
    suspended_action: SuspendedAction | None = None,
    **pools: int | None,
) -> Nas:
    """Register a NAS; ``secret`` None generates a random one (read it back from ``nas.secret``).
    A prefix wider than /24 (/64) or a secret under 16 octets needs its ``allow_`` flag."""
    address = _address(address, allow_wide_prefix)
    secret = _secret(name, secret, allow_short_secret)
    _unique(session, "name", name)
    _unique(session, "address", address)
    check_pools(session, pools)
    if coa_port is None:
        # RFC 5176's port, and /radius incoming's default in current RouterOS documentation
        # (older documents say 1700: `/radius incoming print` on the router tells).
        coa_port = COA_PORT
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
        api_port=api_port or (8729 if api_tls else 8728),
        api_username=api_username or None,
        api_password=api_password or None,
        api_tls=api_tls,
        api_tls_verify=api_tls_verify,
        allow_wide_prefix=allow_wide_prefix,
        allow_short_secret=allow_short_secret and len(secret.encode()) < MIN_SECRET,
        suspended_action=suspended_action,
        **pools,
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


def get_nas(session: Session, nas_id: int) -> Nas:
    nas = session.get(Nas, nas_id)
    if nas is None:
        raise NotFound(f"NAS {nas_id} does not exist")
    return nas


def update_nas(session: Session, nas: Nas, **changes: object) -> Nas:
    """Edit a NAS; the RADIUS workers pick the change up without a restart."""
    if "address" in changes or changes.get("allow_wide_prefix") is False:
        allow = bool(changes.get("allow_wide_prefix", nas.allow_wide_prefix))
        changes["address"] = _address(str(changes.get("address", nas.address)), allow)
    if changes.get("allow_short_secret") is False:
        _secret(nas.name, nas.secret, False)
    for column in ("name", "address"):
        if column in changes:
            _unique(session, column, changes[column], nas.id)
    check_pools(session, changes)
    for field, value in changes.items():
        if field in ("secret", "ma_seen", "id") or not hasattr(nas, field):
            raise Invalid(f"NAS field {field!r} cannot be edited here (rotate the secret on its own)")
        setattr(nas, field, value)
    session.flush()
    return nas


def rotate_secret(session: Session, nas: Nas, secret: str | None = None, allow_short: bool = False) -> str:
    """Set a new shared secret (random when not given) and return it."""
    secret = _secret(nas.name, secret, allow_short)
    nas.secret = secret
    nas.allow_short_secret = len(secret.encode()) < MIN_SECRET
    session.flush()
    return secret


def delete_nas(session: Session, nas: Nas) -> None:
    sessions = session.scalar(select(func.count(AcctSession.id)).where(AcctSession.nas_id == nas.id)) or 0
    auths = session.scalar(select(func.count(AuthLog.id)).where(AuthLog.nas_id == nas.id)) or 0
    if sessions or auths:
        raise Conflict(
            f"NAS {nas.id} ({nas.name}) has {sessions} accounting session(s) and {auths} authentication(s) "
            "in the history; it cannot be deleted, only edited"
        )
    session.delete(nas)
    session.flush()


def page_nas(session: Session, *, limit: int, offset: int) -> tuple[list[Nas], int]:
    return page(session, select(Nas), Nas.id, limit=limit, offset=offset)

"""`aaa nas ...`: the NAS (concentrator) registry."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from aaa.cli.common import Command, settings_of, table, transaction


def cmd_nas_add(args: argparse.Namespace) -> int:
    from aaa.nas.recipes import recipe
    from aaa.nas.service import add_nas
    from aaa.tables.nas import MaMode, VendorProfile
    from aaa.vocabulary.subscribers import SuspendedAction

    settings = settings_of(args)
    with transaction(settings) as session:
        nas = add_nas(
            session,
            name=args.name,
            address=args.address,
            secret=args.secret,
            vendor=VendorProfile(args.vendor),
            coa_port=args.coa_port,
            require_message_authenticator=MaMode(args.require_message_authenticator),
            swap_octets=args.swap_octets,
            interim_interval=args.interim_interval,
            api_port=args.api_port,
            api_username=args.api_username,
            api_password=args.api_password,
            api_tls=args.api_tls,
            api_tls_verify=args.api_tls_verify,
            allow_wide_prefix=args.allow_wide_prefix,
            allow_short_secret=args.allow_short_secret,
            suspended_action=SuspendedAction(args.suspended_action) if args.suspended_action else None,
        )
        print(
            f"NAS {nas.id} {nas.name} at {nas.address} ({nas.vendor.value}, CoA port {nas.coa_port}, "
            f"require Message-Authenticator: {nas.require_message_authenticator.value})"
        )
        r = settings.radius
        lines = recipe(
            nas.vendor,
            server=r.bind,
            auth_port=r.auth_port,
            acct_port=r.acct_port,
            secret=nas.secret,
            coa_port=nas.coa_port,
            interim_seconds=nas.interim_interval or r.acct_interim_interval,
        )
        print("\n".join(["", *lines]))
    return 0


def _seen(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def cmd_nas_list(args: argparse.Namespace) -> int:
    from aaa.nas.activity import activity_of
    from aaa.nas.service import list_nas

    with transaction(settings_of(args)) as session:
        found = list_nas(session)
        seen = activity_of(session, [n.id for n in found])
        rows = [
            (
                n.id,
                n.name,
                n.address,
                n.vendor.value,
                n.coa_port,
                n.require_message_authenticator.value,
                "yes" if n.swap_octets else "no",
                "SHORT, rotate it" if n.allow_short_secret else "ok",
                "api-ssl" if n.api_tls else ("api (clear text)" if n.api_username else "-"),
                _seen(a.last_request_at) if (a := seen.get(n.id)) else "never",
                a.requests if a else 0,
                a.drops if a else 0,
                f"{a.last_drop_cause} at {_seen(a.last_drop_at)}" if a and a.last_drop_cause else "-",
            )
            for n in found
        ]
    table(
        (
            "id",
            "name",
            "address",
            "vendor",
            "coa_port",
            "require_ma",
            "swap_octets",
            "secret",
            "routeros",
            "last_request",
            "requests",
            "drops",
            "last_drop",
        ),
        rows,
    )
    return 0


def register(sub: Any, command: Command) -> None:
    from aaa.tables.nas import MaMode, VendorProfile

    nas = sub.add_parser("nas", help="NAS registry").add_subparsers(dest="nas_command", required=True)
    p = command("add", cmd_nas_add, "register a NAS (concentrator)", nas)
    p.add_argument("--name", required=True)
    p.add_argument("--address", required=True, help="source IP of its RADIUS packets, or a CIDR")
    p.add_argument("--secret", required=True)
    p.add_argument("--vendor", default="mikrotik", choices=[v.value for v in VendorProfile])
    p.add_argument("--coa-port", type=int, help="default 3799 (RFC 5176; RouterOS: /radius incoming print)")
    p.add_argument("--require-message-authenticator", default="yes", choices=[m.value for m in MaMode])
    p.add_argument("--swap-octets", action="store_true", help="the NAS reports octets from the client's view")
    p.add_argument("--interim-interval", type=int, help="Acct-Interim-Interval sent to this NAS (seconds)")
    p.add_argument("--api-username", help="RouterOS API user (enforcement fallback, reconciler)")
    p.add_argument("--api-password")
    p.add_argument("--api-port", type=int, help="default 8729 with --api-tls, else 8728")
    p.add_argument(
        "--api-tls", action="store_true", help="RouterOS api-ssl: the API password is not sent in clear"
    )
    p.add_argument("--api-tls-verify", action="store_true", help="check the router's certificate")
    p.add_argument("--allow-wide-prefix", action="store_true", help="accept an address wider than /24 (/64)")
    p.add_argument("--allow-short-secret", action="store_true", help="accept a secret under 16 characters")
    p.add_argument(
        "--suspended-action",
        choices=["reject", "address_list", "pool"],
        help="what its subscribers suspended for debt get (default: their billing method's, else the ISP's)",
    )
    command("list", cmd_nas_list, "list NASes", nas)

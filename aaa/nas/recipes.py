"""What to paste on a NAS so that it uses this server: RouterOS commands, an accel-ppp snippet.

Pure text from the registration and the settings; `aaa nas add` prints it. RouterOS wants the
address it sends from registered here (``address``), this server's address as it reaches it, the
shared secret on both sides, and `/radius incoming` open on the NAS's CoA port so that speed
changes and disconnects reach online subscribers.
"""

from __future__ import annotations

from aaa.tables.nas import VendorProfile


def recipe(
    vendor: VendorProfile,
    *,
    server: str,
    auth_port: int,
    acct_port: int,
    secret: str,
    coa_port: int,
    interim_seconds: int,
) -> list[str]:
    notes = []
    if server in ("0.0.0.0", "::", ""):
        server = "<this server's address>"
    elif server.startswith("127.") or server == "::1":
        notes.append(
            f'# radius.bind is {server}: set radius.bind = "0.0.0.0" (or the address the NAS reaches)'
        )
        server = "<this server's address>"
    minutes = max(1, interim_seconds // 60)
    if vendor is VendorProfile.ACCEL_PPP:
        return [
            *notes,
            "# accel-ppp.conf",
            "[modules]",
            "radius",
            "",
            "[radius]",
            f"server={server},{secret},auth-port={auth_port},acct-port={acct_port},req-limit=0,fail-time=0",
            f"dae-server=0.0.0.0:{coa_port},{secret}",
            "nas-identifier=accel-ppp",
            f"acct-interim-interval={interim_seconds}",
            "",
            "[shaper]",
            "attr=Mikrotik-Rate-Limit",
        ]
    return [
        *notes,
        "# RouterOS (v7): paste in a terminal of the router",
        f"/radius add service=ppp address={server} secret={secret} authentication-port={auth_port} "
        f"accounting-port={acct_port} timeout=3s",
        f"/radius incoming set accept=yes port={coa_port}",
        f"/ppp aaa set use-radius=yes accounting=yes interim-update={minutes}m",
        "# check: /radius print detail ; /radius incoming print (its port must be the NAS's coa_port)",
    ]

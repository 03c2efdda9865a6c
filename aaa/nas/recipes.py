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
    if vendor in (VendorProfile.ACCEL_PPP, VendorProfile.ACCEL_PPP_FILTER_ID):
        shaper = (
            ["attr=Filter-Id", '# the rate arrives as Filter-Id = "down/up" in kbit/s']
            if vendor is VendorProfile.ACCEL_PPP_FILTER_ID
            else ["vendor=Mikrotik", "attr=Mikrotik-Rate-Limit"]
        )
        return [
            *notes,
            "# accel-ppp.conf",
            "[modules]",
            "radius",
            "shaper",
            "",
            "[radius]",
            f"server={server},{secret},auth-port={auth_port},acct-port={acct_port},req-limit=0,fail-time=0",
            f"dae-server=0.0.0.0:{coa_port},{secret}",
            "nas-identifier=accel-ppp",
            f"acct-interim-interval={interim_seconds}",
            "",
            "[shaper]",
            *shaper,
        ]
    if vendor is VendorProfile.HUAWEI:
        return [
            *notes,
            "# Huawei VRP (BRAS): a RADIUS template, and the server allowed to send CoA/DM",
            "radius-server template isp-aaa",
            f" radius-server shared-key cipher {secret}",
            f" radius-server authentication {server} {auth_port}",
            f" radius-server accounting {server} {acct_port}",
            f"radius-server authorization {server} shared-key cipher {secret}",
            "# the rate arrives as Huawei-Input/Output-Average-Rate (bit/s); a blocked state as Filter-Id",
        ]
    if vendor is VendorProfile.CISCO:
        return [
            *notes,
            "# Cisco IOS XE: the server, and CoA/Disconnect from it (dynamic-author)",
            "aaa new-model",
            "radius server isp-aaa",
            f" address ipv4 {server} auth-port {auth_port} acct-port {acct_port}",
            f" key {secret}",
            "aaa server radius dynamic-author",
            f" client {server} server-key {secret}",
            f" port {coa_port}",
            f"aaa accounting update periodic {minutes}",
            "# the rate arrives as Cisco-AVPair lcp:interface-config=rate-limit ...",
            "# a blocked state as Filter-Id = <list>.in (an inbound ACL of that name)",
        ]
    if vendor is VendorProfile.JUNIPER:
        return [
            *notes,
            "# Junos (subscriber management): the server in an access profile, CoA from it",
            f"set access radius-server {server} secret {secret} port {auth_port} accounting-port {acct_port}",
            f"set access radius-server {server} dynamic-request-port {coa_port}",
            "set access profile isp-aaa authentication-order radius",
            f"set access profile isp-aaa radius authentication-server {server}",
            f"set access profile isp-aaa radius accounting-server {server}",
            f"set access profile isp-aaa accounting order radius update-interval {minutes}",
            "# the rate arrives as ERX-Qos-Profile-Name isp-aaa-subscriber with ERX-Qos-Parameters",
            "# download-rate/upload-rate (bit/s): define that profile and those parameters (docs/vendors.md)",
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

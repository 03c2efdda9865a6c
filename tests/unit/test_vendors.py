"""Vendor profiles: the decision's MikroTik speed and blocked state in each vendor's attributes,
and the recipe printed for each vendor."""

from __future__ import annotations

import pytest

from aaa.nas.recipes import recipe
from aaa.policies.vendors import JUNIPER_QOS_PROFILE, render
from aaa.vocabulary.vendors import VendorProfile

DECISION = (
    ("Mikrotik-Rate-Limit", "50M/100M 60M/120M 40M/80M 10/10"),
    ("Mikrotik-Address-List", "bloqueados"),
    ("Framed-IP-Address", "100.64.0.7"),
    ("Session-Timeout", "86400"),
)


def test_mikrotik_and_generic_pass_unchanged() -> None:
    assert render(VendorProfile.MIKROTIK, DECISION) == DECISION
    assert render(VendorProfile.GENERIC, DECISION) == DECISION


def test_accel_ppp_keeps_the_mikrotik_rate_and_a_filter_for_the_list() -> None:
    assert render(VendorProfile.ACCEL_PPP, DECISION) == (
        ("Mikrotik-Rate-Limit", "50M/100M 60M/120M 40M/80M 10/10"),
        ("Filter-Id", "bloqueados"),
        ("Framed-IP-Address", "100.64.0.7"),
        ("Session-Timeout", "86400"),
    )


def test_accel_ppp_filter_id_is_down_slash_up_in_kbit() -> None:
    rendered = render(VendorProfile.ACCEL_PPP_FILTER_ID, DECISION)
    assert rendered[0] == ("Filter-Id", "100000/50000")
    assert all(name != "Mikrotik-Address-List" for name, _ in rendered)  # no filter left for it


def test_huawei_rates_in_bit_per_second_with_peaks() -> None:
    assert render(VendorProfile.HUAWEI, DECISION)[:5] == (
        ("Huawei-Input-Average-Rate", 50_000_000),
        ("Huawei-Output-Average-Rate", 100_000_000),
        ("Huawei-Input-Peak-Rate", 60_000_000),
        ("Huawei-Output-Peak-Rate", 120_000_000),
        ("Filter-Id", "bloqueados"),
    )
    plain = render(VendorProfile.HUAWEI, (("Mikrotik-Rate-Limit", "512k/1M"),))
    assert plain == (("Huawei-Input-Average-Rate", 512_000), ("Huawei-Output-Average-Rate", 1_000_000))


def test_cisco_rate_limit_commands_and_an_inbound_acl() -> None:
    rendered = render(VendorProfile.CISCO, DECISION)
    assert rendered[:3] == (
        (
            "Cisco-AVPair",
            "lcp:interface-config=rate-limit input 50000000 9375000 18750000 "
            "conform-action transmit exceed-action drop",
        ),
        (
            "Cisco-AVPair",
            "lcp:interface-config=rate-limit output 100000000 18750000 37500000 "
            "conform-action transmit exceed-action drop",
        ),
        ("Filter-Id", "bloqueados.in"),
    )


def test_juniper_qos_profile_with_parameters() -> None:
    assert render(VendorProfile.JUNIPER, DECISION)[:4] == (
        ("ERX-Qos-Profile-Name", JUNIPER_QOS_PROFILE),
        ("ERX-Qos-Parameters", "download-rate 100000000"),
        ("ERX-Qos-Parameters", "upload-rate 50000000"),
        ("ERX-Ingress-Policy-Name", "bloqueados"),
    )


@pytest.mark.parametrize(
    ("vendor", "expected"),
    [
        (VendorProfile.ACCEL_PPP, "attr=Mikrotik-Rate-Limit"),
        (VendorProfile.ACCEL_PPP_FILTER_ID, "attr=Filter-Id"),
        (VendorProfile.HUAWEI, "radius-server authorization 192.0.2.1 shared-key cipher s3cr3t"),
        (VendorProfile.CISCO, " port 3799"),
        (VendorProfile.JUNIPER, "set access radius-server 192.0.2.1 dynamic-request-port 3799"),
        (VendorProfile.MIKROTIK, "/radius incoming set accept=yes port=3799"),
    ],
)
def test_every_vendor_gets_its_recipe(vendor: VendorProfile, expected: str) -> None:
    lines = recipe(
        vendor,
        server="192.0.2.1",
        auth_port=1812,
        acct_port=1813,
        secret="s3cr3t",
        coa_port=3799,
        interim_seconds=300,
    )
    assert expected in lines

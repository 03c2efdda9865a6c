"""Pure address math: usable bounds with every edge case, blocks, alignment, first fit, parsing."""

from __future__ import annotations

import pytest

from aaa.vocabulary.address_space import AddressError, Space, first_fit, parse_address, parse_network, text_of


def space(cidr: str, unit: int | None = None, use_all: bool = False) -> Space:
    network, prefix, bits = parse_network(cidr)
    return Space(network, prefix, bits, unit or bits, use_all)


def bounds(cidr: str, unit: int | None = None, use_all: bool = False) -> tuple[str, str]:
    s = space(cidr, unit, use_all)
    low, high = s.usable()
    return text_of(s.address_of(low), s.bits), text_of(s.address_of(high), s.bits)


def test_ipv4_loses_network_and_broadcast() -> None:
    assert bounds("10.0.0.0/24") == ("10.0.0.1", "10.0.0.254")


def test_ipv4_slash_30() -> None:
    assert bounds("10.0.0.4/30") == ("10.0.0.5", "10.0.0.6")


def test_ipv4_slash_31_point_to_point_uses_both() -> None:  # RFC 3021
    assert bounds("10.0.0.6/31") == ("10.0.0.6", "10.0.0.7")


def test_ipv4_slash_32_is_its_one_address() -> None:
    assert bounds("203.0.113.9/32") == ("203.0.113.9", "203.0.113.9")


def test_ipv4_use_all_hands_out_network_and_broadcast() -> None:
    assert bounds("10.0.0.0/24", use_all=True) == ("10.0.0.0", "10.0.0.255")


def test_ipv6_loses_only_the_subnet_router_anycast() -> None:  # RFC 4291 §2.6.1, no broadcast
    assert bounds("2001:db8::/120") == ("2001:db8::1", "2001:db8::ff")


def test_ipv6_slash_127_uses_both() -> None:  # RFC 6164
    assert bounds("2001:db8::/127") == ("2001:db8::", "2001:db8::1")


def test_ipv6_slash_128() -> None:
    assert bounds("2001:db8::5/128") == ("2001:db8::5", "2001:db8::5")


def test_delegation_prefixes_are_all_usable() -> None:
    s = space("2001:db8::/40", 56)
    assert s.units == 65536 and s.usable() == (0, 65535)
    assert text_of(s.address_of(65535), 128, 56) == "2001:db8:ff:ff00::/56"


def test_framed_ipv6_slash_64_units() -> None:
    s = space("2001:db8:100::/48", 64)
    assert s.usable() == (0, 65535) and s.unit_size == 1 << 64


def test_too_many_units_is_refused_with_the_limit() -> None:
    with pytest.raises(AddressError, match="at most /126"):
        space("2001:db8::/64", 128)


def test_unit_shorter_than_the_subnet_is_refused() -> None:
    with pytest.raises(AddressError, match="between /48 and /128"):
        space("2001:db8::/48", 40)


def test_block_offsets_of_an_address_and_a_routed_block() -> None:
    s = space("203.0.113.0/24")
    assert s.block(parse_address("203.0.113.7")[0], 32) == (7, 7)
    assert s.block(parse_address("203.0.113.8")[0], 29) == (8, 15)
    assert s.units_in(29) == 8


def test_block_outside_the_subnet() -> None:
    with pytest.raises(AddressError, match=r"10.0.1.1 is outside 10.0.0.0/24"):
        space("10.0.0.0/24").block(parse_address("10.0.1.1")[0], 32)


def test_block_not_aligned() -> None:
    with pytest.raises(AddressError, match="not aligned: a /29 starts on a multiple of 8"):
        space("10.0.0.0/24").block(parse_address("10.0.0.12")[0], 29)


def test_block_length_out_of_range() -> None:
    s = space("10.0.0.0/24")
    with pytest.raises(AddressError, match="/23 does not fit"):
        s.block(s.network, 23)
    with pytest.raises(AddressError, match="/33 does not fit"):
        s.block(s.network, 33)


def test_delegated_prefix_must_be_a_whole_unit_or_more() -> None:
    s = space("2001:db8::/40", 56)
    with pytest.raises(AddressError, match="/64 does not fit: this subnet hands out /40 to /56"):
        s.block(s.network, 64)
    assert s.block(parse_address("2001:db8:1::")[0], 48) == (256, 511)  # a /48 is 256 /56 units


@pytest.mark.parametrize(
    ("free", "size", "expected"),
    [
        ([(1, 254)], 1, 1),
        ([(1, 254)], 8, 8),  # offset 0 is the network address; the first aligned /29 is at 8
        ([(3, 5), (9, 20)], 4, 12),  # 3-5 holds no aligned 4, 9-20 does at 12
        ([(8, 14)], 8, None),  # one short
        ([(0, 7)], 8, 0),
        ([], 1, None),
    ],
)
def test_first_fit(free: list[tuple[int, int]], size: int, expected: int | None) -> None:
    assert first_fit(free, size) == expected


def test_parse_network_rejects_host_bits_and_garbage() -> None:
    with pytest.raises(AddressError, match=r"host bits set; the network is 10.0.0.0/24"):
        parse_network("10.0.0.1/24")
    with pytest.raises(AddressError, match="not a network"):
        parse_network("banana")


def test_parse_address_family_must_match() -> None:
    with pytest.raises(AddressError, match="2001:db8::1 is IPv6, the subnet is IPv4"):
        parse_address("2001:db8::1", 32)
    assert parse_address("203.0.113.8/29") == (parse_address("203.0.113.8")[0], 29, 32)


def test_text_forms() -> None:
    assert text_of(parse_address("10.0.0.5")[0], 32, 32) == "10.0.0.5"
    assert text_of(parse_address("10.0.0.8")[0], 32, 29) == "10.0.0.8/29"
    assert text_of(parse_address("2001:db8:100::")[0], 128, 56) == "2001:db8:100::/56"

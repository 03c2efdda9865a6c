"""Which RADIUS attribute carries an address or a pool name (RFC 2865, 3162, 4818, 8044)."""

from __future__ import annotations

from aaa.vocabulary.ipam import PoolKind, SubnetPurpose

LEASE_ATTRIBUTE = {
    PoolKind.IPV4: "Framed-IP-Address",
    PoolKind.IPV6: "Framed-IPv6-Prefix",
    PoolKind.IPV6_PD: "Delegated-IPv6-Prefix",
}
POOL_NAME_ATTRIBUTE = {
    PoolKind.IPV4: "Framed-Pool",
    PoolKind.IPV6: "Framed-IPv6-Pool",
    PoolKind.IPV6_PD: "Delegated-IPv6-Prefix-Pool",
}


def fixed_attribute(address: str, prefix_len: int, purpose: SubnetPurpose) -> tuple[str, str]:
    """A fixed assignment in an Access-Accept: one IPv4 address is the subscriber's address; a
    larger IPv4 block is routed to it (Framed-Route, gateway 0.0.0.0 = the subscriber's address,
    RFC 2865 §5.22); an IPv6 prefix is delegated or framed depending on its subnet."""
    if ":" not in address:
        if prefix_len == 32:
            return "Framed-IP-Address", address
        return "Framed-Route", f"{address} 0.0.0.0 1"
    if purpose is SubnetPurpose.DELEGATION:
        return "Delegated-IPv6-Prefix", address
    return "Framed-IPv6-Prefix", address


def pool_kind_of(attribute: str) -> PoolKind | None:
    """The pool a fixed attribute makes unnecessary (a routed block still needs an address)."""
    for kind, name in LEASE_ATTRIBUTE.items():
        if name == attribute:
            return kind
    return None


# Custom reply attributes (radgroupreply / radreply): FreeRADIUS's reply operators.
REPLY_OPERATORS = ("=", ":=", "+=")
MAX_REPLY_ATTRIBUTES = 32


def reply_attributes_shape(items: object) -> list[list[str]]:
    """``[[attribute, operator, value], ...]`` as stored, or ValueError saying what is wrong (the
    values themselves are checked against the RADIUS dictionary where it is loaded)."""
    if not isinstance(items, list | tuple):
        raise ValueError("reply_attributes must be a list of [attribute, operator, value]")
    if len(items) > MAX_REPLY_ATTRIBUTES:
        raise ValueError(f"at most {MAX_REPLY_ATTRIBUTES} reply attributes")
    shaped = []
    for index, item in enumerate(items):
        if not isinstance(item, list | tuple) or len(item) != 3 or not all(isinstance(x, str) for x in item):
            raise ValueError(f"reply_attributes[{index}] must be [attribute, operator, value] (three texts)")
        name, op, value = item
        if op not in REPLY_OPERATORS:
            raise ValueError(
                f"reply_attributes[{index}] ({name}): operator must be one of = := +=, not {op!r}"
            )
        shaped.append([name, op, value])
    return shaped

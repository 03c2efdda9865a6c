"""Custom reply attributes checked against the RADIUS dictionary the workers load, before they
are saved: an unknown attribute or a value its type cannot hold is refused by name, instead of
failing every Access-Accept of the plan later."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from aaa.errors import Invalid
from aaa.radius.codec import Dictionary, attribute_value, load_dictionary
from aaa.vocabulary.attributes import reply_attributes_shape

# What the server itself writes in every reply, or what a reply must never carry.
RESERVED = frozenset(
    {
        "User-Name",
        "User-Password",
        "CHAP-Password",
        "CHAP-Challenge",
        "Message-Authenticator",
        "Proxy-State",
        "EAP-Message",
        "State",
        "MS-CHAP-Response",
        "MS-CHAP-Challenge",
        "MS-CHAP2-Response",
        "MS-CHAP2-Success",
        "MS-MPPE-Send-Key",
        "MS-MPPE-Recv-Key",
    }
)


@lru_cache(maxsize=4)
def _dictionary(path: str) -> Dictionary:
    return load_dictionary(path)


def check_reply_attributes(dictionary: Path | str, items: Any) -> list[list[str]]:
    """``items`` as stored ([[attribute, operator, value], ...]) once each attribute is in the
    dictionary, not one the server owns, and each value fits its type; Invalid names the first
    that does not."""
    try:
        shaped = reply_attributes_shape(items)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    loaded = _dictionary(str(dictionary))
    for index, (name, _, value) in enumerate(shaped):
        if name in RESERVED:
            raise Invalid(f"reply_attributes[{index}]: {name} is written by the server itself")
        try:
            attribute_value(loaded, name, value)
        except ValueError as exc:
            raise Invalid(f"reply_attributes[{index}]: {exc}") from None
    return shaped

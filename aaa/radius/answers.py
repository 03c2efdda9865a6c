"""What an Access-Accept carries, made once per distinct decision.

Most subscribers share a handful of answers (their plan's rate, the interim interval, the NAS's
pool): rendering them for the NAS's vendor, encoding them and describing the grant the auth log
keeps is the same work on every accept. A worker keeps the results by (vendor, attributes,
leases, custom attributes), everything the work depends on, so a plan edit or a fixed address
is simply another key. The store is bounded: past ``limit`` distinct answers it starts over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aaa.policies.decision import Decision
from aaa.policies.grant import grant_of
from aaa.policies.vendors import render
from aaa.radius.codec import Codec
from aaa.vocabulary.vendors import VendorProfile


@dataclass(frozen=True, slots=True)
class Answer:
    attributes: tuple[tuple[str, Any], ...]  # as the NAS's vendor gets them
    encoded: bytes  # those attributes on the wire
    granted: str | None  # the grant (aaa.policies.grant) as JSON text, for the auth log


class Answers:
    def __init__(self, codec: Codec, limit: int = 20_000):
        self._codec = codec
        self._limit = limit
        self._known: dict[tuple[Any, ...], Answer] = {}

    def of(self, vendor: VendorProfile, decision: Decision) -> Answer:
        """The accept's answer for a NAS of ``vendor`` (the decision's outcome is accept)."""
        key = (vendor, decision.attributes, decision.lease_from, decision.custom)
        answer = self._known.get(key)
        if answer is None:
            attributes = render(vendor, decision.attributes)
            grant = grant_of(decision)
            answer = Answer(
                attributes,
                self._codec.encode(attributes),
                None if grant is None else json.dumps(grant.to_json()),
            )
            if len(self._known) >= self._limit:
                self._known.clear()
            self._known[key] = answer
        return answer

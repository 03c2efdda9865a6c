"""How a table declares that it is audited (``__audit__ = Audited(...)``): what its entries are
called, and which of its columns name the customer and the service an entry belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Audited:
    """A model's audit declaration: the entity name its entries carry, and the attributes
    holding the customer and the service an entry belongs to (None: it belongs to neither)."""

    entity: str
    customer: str | None = None
    service: str | None = None

    def owners(self, obj: Any) -> tuple[int | None, int | None]:
        return (
            getattr(obj, self.customer) if self.customer else None,
            getattr(obj, self.service) if self.service else None,
        )

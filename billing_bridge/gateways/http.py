"""JSON over HTTPS to a provider: one deadline per call, the provider's error text kept, the
credentials never logged. 5xx, timeouts and refused connections are ProviderDown; a 4xx is the
caller's to read."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing_bridge.gateways.base import ProviderDown


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON (numbers as Decimal), or the text when it is not JSON


def call(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    timeout: float,
    body: Any = None,
    context: ssl.SSLContext | None = None,
) -> Reply:
    data = json.dumps(body, default=_number).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    request.add_header("User-Agent", "isp-aaa")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except TimeoutError as exc:
        raise ProviderDown(f"{method} {_path(url)}: timed out after {timeout:g} s") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProviderDown(f"{method} {_path(url)}: {reason}") from exc
    if status >= 500:
        raise ProviderDown(f"{method} {_path(url)}: HTTP {status}")
    try:
        parsed: Any = json.loads(raw, parse_float=Decimal) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")[:500]
    return Reply(status, parsed)


def _number(value: Any) -> Any:
    """Money goes out as a JSON number (providers want 99.9, not "99.90"): a float's shortest
    repr gives back the same two-decimal amount."""
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _path(url: str) -> str:
    """The URL without its query (which may carry a secret)."""
    return url.split("?", 1)[0]

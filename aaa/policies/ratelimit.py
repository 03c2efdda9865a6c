"""Mikrotik-Rate-Limit: rendering plan speeds and parsing the attribute's grammar.

Grammar (MikroTik manual, RADIUS): ``rx[/tx] [rx-burst[/tx-burst] [rx-thr[/tx-thr]
[rx-time[/tx-time] [priority] [rx-min[/tx-min]]]]]``. rx/tx are the router's view:
rx = the subscriber's upload, tx = the subscriber's download.
"""

from __future__ import annotations

from dataclasses import dataclass

_UNITS = {"k": 1_000, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Rates in bit/s, times in seconds. Burst fields are None when no burst is set."""

    rx_rate: int
    tx_rate: int
    rx_burst_rate: int | None = None
    tx_burst_rate: int | None = None
    rx_burst_threshold: int | None = None
    tx_burst_threshold: int | None = None
    rx_burst_time: int | None = None
    tx_burst_time: int | None = None

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        tokens = text.split()
        if not tokens:
            raise ValueError("empty rate limit")

        def pair(index: int, convert: type[int] | None = None) -> tuple[int, int] | None:
            if index >= len(tokens):
                return None
            parts = tokens[index].split("/")
            if len(parts) > 2:
                raise ValueError(f"{tokens[index]!r}: at most one '/'")
            values = [_seconds(p) if convert else _rate(p) for p in parts]
            return values[0], values[-1]  # "tx omitted" means tx = rx

        rx, tx = pair(0)  # type: ignore[misc]
        burst = pair(1)
        if burst is None:
            return cls(rx, tx)
        threshold = pair(2) or (rx, tx)  # thresholds default to the rates
        times = pair(3, int) or (1, 1)  # burst time defaults to 1 s
        return cls(rx, tx, *burst, *threshold, *times)

    def render(self) -> str:
        text = f"{_fmt(self.rx_rate)}/{_fmt(self.tx_rate)}"
        if self.rx_burst_rate is None or self.tx_burst_rate is None:
            return text
        thr_rx = self.rx_burst_threshold if self.rx_burst_threshold is not None else self.rx_rate
        thr_tx = self.tx_burst_threshold if self.tx_burst_threshold is not None else self.tx_rate
        return (
            f"{text} {_fmt(self.rx_burst_rate)}/{_fmt(self.tx_burst_rate)} {_fmt(thr_rx)}/{_fmt(thr_tx)} "
            f"{self.rx_burst_time or 1}/{self.tx_burst_time or 1}"
        )


def kbps_text(download_kbps: int, upload_kbps: int) -> str:
    """How people write a speed: download/upload, "300M/150M"."""
    return f"{_fmt(download_kbps * 1000)}/{_fmt(upload_kbps * 1000)}"


def _rate(text: str) -> int:
    if not text:
        raise ValueError("empty rate")
    unit = _UNITS.get(text[-1])
    number = text[:-1] if unit else text
    if not number.isdigit():
        raise ValueError(f"{text!r} is not a rate (digits with an optional k or M)")
    return int(number) * (unit or 1)


def _seconds(text: str) -> int:
    number = text.removesuffix("s")
    if not number.isdigit():
        raise ValueError(f"{text!r} is not a burst time in seconds")
    return int(number)


def _fmt(bps: int) -> str:
    """The shortest exact form: 100000000 -> 100M, 512000 -> 512k."""
    if bps and bps % 1_000_000 == 0:
        return f"{bps // 1_000_000}M"
    if bps and bps % 1_000 == 0:
        return f"{bps // 1_000}k"
    return str(bps)

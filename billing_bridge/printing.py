"""A receipt as a printable HTML page (the receipt the customer takes home)."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from billing_bridge.models import Receipt
from billing_bridge.standing import brl


def receipt_html(receipt: Receipt, zone: ZoneInfo, cash_box: str) -> str:
    """Every value escaped; money as the operator reads it."""
    when = receipt.received_at.astimezone(zone)
    rows = "".join(
        "<tr>"
        f"<td>{item.charge_id}</td><td>{escape(item.charge.description or item.charge.kind.value)}</td>"
        f"<td>{item.charge.due_date:%d/%m/%Y}</td><td>{brl(item.amount)}</td><td>{brl(item.discount)}</td>"
        f"<td>{brl(item.fine + item.interest)}</td>"
        "</tr>"
        for item in receipt.items
    )
    reversed_note = (
        f"<p class='reversed'>ESTORNADO em {receipt.reversed_at.astimezone(zone):%d/%m/%Y %H:%M}"
        f" por {escape(receipt.reversed_by or '')}: {escape(receipt.reverse_reason or '')}</p>"
        if receipt.reversed_at
        else ""
    )
    return (
        "<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'>"
        f"<title>Recibo {receipt.id}</title></head><body>"
        f"<h1>Recibo nº {receipt.id}</h1>"
        f"<p>Recebido em {when:%d/%m/%Y %H:%M} por {escape(receipt.received_by)},"
        f" caixa {escape(cash_box)}.</p>"
        "<table><thead><tr><th>Cobrança</th><th>Descrição</th><th>Vencimento</th><th>Valor pago</th>"
        "<th>Desconto</th><th>Multa e juros</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<p><strong>Total recebido: {brl(receipt.amount)}</strong></p>{reversed_note}</body></html>"
    )

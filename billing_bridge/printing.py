"""A receipt and an invoice as printable HTML pages (what the customer takes home), with the
customer's name and CPF/CNPJ; an invoice prints in any status, a cancelled one marked so."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from aaa.subscribers.documents import format_document
from aaa.tables.subscribers import Customer
from billing_bridge.boleto import itf_svg
from billing_bridge.models import Invoice, Receipt
from billing_bridge.payment_slips import BoletoView, PixView
from billing_bridge.pix import qr_svg
from billing_bridge.standing import brl

_STATUS = {
    "issued": "EM ABERTO",
    "partially_paid": "PAGA PARCIALMENTE",
    "paid": "PAGA",
    "cancelled": "CANCELADA",
}
_HEAD = "<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'><title>{}</title></head><body>"


def _who(customer: Customer | None) -> str:
    if customer is None:
        return ""
    document = (
        f" — {'CNPJ' if len(customer.document or '') == 14 else 'CPF'} {format_document(customer.document)}"
    )
    return f"<p class='customer'>Cliente: {escape(customer.name)}{document if customer.document else ''}</p>"


def invoice_html(
    invoice: Invoice,
    customer: Customer,
    status: str,
    pix: PixView | None = None,
    boleto: BoletoView | None = None,
) -> str:
    """Fatura: its charges, amounts and status (a cancelled or paid one prints too); while it is
    open, the boleto (ficha de compensação) and the PIX QR code with its copia e cola, when
    configured."""
    rows = "".join(
        "<tr>"
        f"<td>{charge.id}</td><td>{escape(charge.description or charge.kind.value)}</td>"
        f"<td>{charge.due_date:%d/%m/%Y}</td><td>{brl(charge.amount)}</td><td>{brl(charge.open_amount)}</td>"
        "</tr>"
        for charge in invoice.charges
    )
    cancelled = (
        f"<p class='cancelled'>Cancelada: {escape(invoice.cancel_reason or '')}</p>"
        if invoice.cancel_reason
        else ""
    )
    return (
        _HEAD.format(f"Fatura {invoice.id}") + f"<h1>Fatura nº {invoice.id}</h1>{_who(customer)}"
        f"<p>Vencimento {invoice.due_date:%d/%m/%Y} · "
        f"Situação: <strong>{_STATUS.get(status, status)}</strong></p>"
        "<table><thead><tr><th>Cobrança</th><th>Descrição</th><th>Vencimento</th><th>Valor</th>"
        "<th>Em aberto</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<p><strong>Total: {brl(invoice.amount)}</strong></p>{cancelled}"
        f"{_pix_block(pix)}{_boleto_block(boleto)}"
        "</body></html>"
    )


def receipt_html(receipt: Receipt, zone: ZoneInfo, cash_box: str, customer: Customer | None = None) -> str:
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
        f"<h1>Recibo nº {receipt.id}</h1>{_who(customer)}"
        f"<p>Recebido em {when:%d/%m/%Y %H:%M} por {escape(receipt.received_by)},"
        f" caixa {escape(cash_box)}.</p>"
        "<table><thead><tr><th>Cobrança</th><th>Descrição</th><th>Vencimento</th><th>Valor pago</th>"
        "<th>Desconto</th><th>Multa e juros</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<p><strong>Total recebido: {brl(receipt.amount)}</strong></p>{reversed_note}</body></html>"
    )


def _pix_block(pix: PixView | None) -> str:
    if pix is None:
        return ""
    return (
        "<section class='pix'><h2>Pague com PIX</h2>"
        f"{qr_svg(pix.payload)}<p>PIX copia e cola:</p><p class='payload'>{escape(pix.payload)}</p></section>"
    )


def _boleto_block(slip: BoletoView | None) -> str:
    """The ficha de compensação: bank, linha digitável, beneficiary, due date, amount, nosso
    número, instructions and the Interleaved 2 of 5 barcode."""
    if slip is None or not slip.barcode:
        return ""
    link = f"<p><a href='{escape(slip.url)}'>Abrir o boleto</a></p>" if slip.url else ""
    return (
        "<section class='boleto'><h2>Boleto</h2>"
        f"<p class='bank'><strong>{escape(slip.bank)}</strong></p>"
        f"<p class='linha'>{escape(slip.linha_digitavel or '')}</p>"
        "<table>"
        f"<tr><th>Beneficiário</th><td>{escape(slip.beneficiary)}</td></tr>"
        f"<tr><th>Vencimento</th><td>{slip.due_date:%d/%m/%Y}</td></tr>"
        f"<tr><th>Valor do documento</th><td>{brl(slip.amount)}</td></tr>"
        f"<tr><th>Nosso número</th><td class='nosso-numero'>{escape(slip.nosso_numero or '')}</td></tr>"
        f"<tr><th>Instruções</th><td>{escape(slip.instructions)}</td></tr>"
        "</table>"
        f"<div class='barcode'>{itf_svg(slip.barcode)}</div>{link}</section>"
    )

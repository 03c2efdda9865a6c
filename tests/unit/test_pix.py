"""PIX BR Code (Manual de Padrões para Iniciação do Pix): the BCB's published static example
reproduced to the byte, payloads that parse back field by field, and the CRC checked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_bridge.pix import Pix, crc16, parse, qr_png, qr_svg

# The static BR Code example of the BCB manual (key 123e4567-e12b-12d1-a456-426655440000).
PUBLISHED = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def test_the_published_example_is_reproduced_exactly() -> None:
    code = Pix("Fulano de Tal", "BRASILIA", key="123e4567-e12b-12d1-a456-426655440000")
    assert code.payload() == PUBLISHED
    assert crc16(PUBLISHED[:-4].encode()) == "1D3D"


def test_a_payload_decodes_back_field_by_field() -> None:
    code = Pix(
        "Provedor São João das Águas Internet LTDA",
        "São João del-Rei",
        amount=Decimal("129.90"),
        txid="FAT1234",
        key="+5537999990000",
        description="Fatura 1234",
        one_time=True,
    )
    fields = parse(code.payload())
    assert fields["00"] == "01" and fields["01"] == "12"
    assert fields["26"] == {"00": "br.gov.bcb.pix", "01": "+5537999990000", "02": "Fatura 1234"}
    assert (fields["52"], fields["53"], fields["54"], fields["58"]) == ("0000", "986", "129.90", "BR")
    assert fields["59"] == "Provedor Sao Joao das Agu"  # no accents, at most 25
    assert fields["60"] == "Sao Joao del-Re"  # at most 15
    assert fields["62"] == {"05": "FAT1234"}


def test_a_wrong_crc_or_txid_is_refused() -> None:
    with pytest.raises(ValueError, match="CRC does not match"):
        parse(PUBLISHED[:-4] + "0000")
    with pytest.raises(ValueError, match="txid"):
        Pix("A", "B", key="k", txid="FAT-1").payload()
    with pytest.raises(ValueError, match="either a PIX key"):
        Pix("A", "B").payload()


def test_the_qr_images() -> None:
    assert qr_png(PUBLISHED).startswith(b"\x89PNG")
    assert "<svg" in qr_svg(PUBLISHED)


def test_a_pix_key_needs_the_merchant_s_name_and_city() -> None:
    from aaa.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="pix_merchant_name"):
        load_settings(None, billing={"pix_key": "11222333000181"})

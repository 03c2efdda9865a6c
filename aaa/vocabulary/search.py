"""How text is compared when an attendant searches: accents and case do not count ("joao" finds
"João", "bom preco" finds "Bom Preço"), and numbers are compared as their digits (a CPF, CNPJ
or phone with or without punctuation)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """Lower case, no accents, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def only_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def search_word(word: str) -> str:
    """A word of a query as the search line holds it: a number's digits, else folded."""
    numeric = only_digits(word)
    if numeric and not any(ch.isalpha() for ch in word):
        return numeric
    return fold(word)


def search_text(
    name: str, trade_name: str | None, document: str | None, phones: Iterable[str], emails: Iterable[str]
) -> str:
    """A customer's one searchable line: names folded, document and phones as digits, e-mails."""
    parts = [fold(name), fold(trade_name or ""), only_digits(document or "")]
    parts += [only_digits(phone) for phone in phones]
    parts += [fold(email) for email in emails]
    return " ".join(part for part in parts if part)[:2000]

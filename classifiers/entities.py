"""Entities for routing and the summary: invoice and PO numbers, amounts, deadlines, job references, urgency.

Patterns run on the newest text and the subject. Every value is plain JSON so it can be
stored with the message and matched by rules.yaml conditions.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from classifiers.linking import CODE_PATTERN

_INVOICE = re.compile(
    r"\b(?:invoice|inv|facture|rechnung|factura|factuur)\b\s*(?:no\.?|number|nr\.?|n[°º]|#|num[ée]ro)?\s*[:#]?\s*"
    r"((?:[A-Z]{1,4}[-/]?)?\d[\d-]{2,14})\b"
    r"|\b((?:INV|FAC|RE|RG|FACT)[-/]?\d{3,12})\b",
    re.IGNORECASE,
)
_PO = re.compile(
    r"\b(?:PO|P\.O\.|purchase order|bestellnummer|bon de commande|orden de compra|inkooporder)\s*"
    r"(?:no\.?|number|nr\.?|#|num[ée]ro)?\s*[:#]?\s*((?:[A-Z]{1,4}[-/]?)?\d[\d-]{3,14})\b",
    re.IGNORECASE,
)
_CURRENCY = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD",
             "£": "GBP", "gbp": "GBP", "chf": "CHF", "sek": "SEK", "dkk": "DKK", "nok": "NOK"}
_NUMBER = r"(\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_AMOUNT_BEFORE = re.compile(r"(€|\$|£|\b(?:EUR|USD|GBP|CHF|SEK|DKK|NOK))\s?" + _NUMBER, re.IGNORECASE)
_AMOUNT_AFTER = re.compile(_NUMBER + r"\s?(€|\b(?:EUR|USD|GBP|CHF|euros?)\b)", re.IGNORECASE)
_URGENT = re.compile(
    r"\b(urgent(ly)?|asap|a\.s\.a\.p|as soon as possible|immediately|today|tonight|eod|end of (the )?day"
    r"|right away|dringend|sofort|heute|urgente|hoy|cuanto antes|urgence|aujourd'hui|vandaag|spoed)\b|!!+",
    re.IGNORECASE,
)
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
             "sunday": 6}
_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), 1)}
_BY_WEEKDAY = re.compile(r"\b(?:by|before|until|on|for|no later than)\s+(?:next\s+)?(" +
                         "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)
_BY_NTH = re.compile(r"\b(?:by|before|until|on|for)\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b(?:\s+of\s+(" +
                     "|".join(_MONTHS) + r"))?", re.IGNORECASE)
_BY_DATE = re.compile(r"\b(?:by|before|until|on|for|deadline:?)\s+(\d{1,2})\s+(" + "|".join(_MONTHS) +
                      r")|\b(?:by|before|until|on|for)\s+(" + "|".join(_MONTHS) + r")\s+(\d{1,2})\b",
                      re.IGNORECASE)
_TOMORROW = re.compile(r"\b(?:by|before|until)?\s*(tomorrow|end of (?:the )?week|eow|next week)\b",
                       re.IGNORECASE)


def extract(subject: str, text: str, *, today: date | None = None) -> dict[str, list[Any]]:
    """Entities found in subject and text, by label; empty labels are left out."""
    today = today or datetime.now().date()
    both = f"{subject}\n{text}"
    found: dict[str, list[Any]] = {
        "invoice_number": _unique((m.group(1) or m.group(2)).upper() for m in _INVOICE.finditer(both)),
        "po_number": _unique(m.group(1).upper() for m in _PO.finditer(both)),
        "amount": _amounts(both),
        "deadline": _deadlines(text, today),
        "job_ref": _unique(f"{m.group(1)}-{m.group(2)}" for m in CODE_PATTERN.finditer(both)
                           if m.group(1) not in ("INV", "PO", "VAT", "REF")),
        "urgency": _unique(m.group(0).lower() for m in _URGENT.finditer(both)),
    }
    return {label: values for label, values in found.items() if values}


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))[:20]


def _amounts(text: str) -> list[dict[str, Any]]:
    amounts = []
    for match in _AMOUNT_BEFORE.finditer(text):
        amounts.append(_amount(match.group(2), match.group(1), match.group(0)))
    for match in _AMOUNT_AFTER.finditer(text):
        amounts.append(_amount(match.group(1), match.group(2), match.group(0)))
    return [a for a in amounts if a][:20]


def _amount(number: str, currency: str, text: str) -> dict[str, Any] | None:
    digits = number.replace(" ", "")
    # "1.234,56" (European) and "1,234.56" (English): the last separator followed by 1-2 digits is decimal.
    decimal = re.search(r"[.,](\d{1,2})$", digits)
    whole = re.sub(r"[.,]", "", digits[: decimal.start()] if decimal else digits)
    try:
        value = float(f"{whole}.{decimal.group(1)}" if decimal else whole)
    except ValueError:
        return None
    return {"value": value, "currency": _CURRENCY.get(currency.lower(), currency.upper()), "text": text.strip()}


def _deadlines(text: str, today: date) -> list[dict[str, Any]]:
    found = []
    for match in _BY_WEEKDAY.finditer(text):
        ahead = (_WEEKDAYS[match.group(1).lower()] - today.weekday()) % 7 or 7
        found.append({"date": (today + timedelta(days=ahead)).isoformat(), "text": match.group(0)})
    for match in _BY_NTH.finditer(text):
        month = _MONTHS[match.group(2).lower()] if match.group(2) else None
        due = _next_date(today, int(match.group(1)), month)
        if due:
            found.append({"date": due.isoformat(), "text": match.group(0)})
    for match in _BY_DATE.finditer(text):
        day, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        due = _next_date(today, int(day), _MONTHS[month.lower()])
        if due:
            found.append({"date": due.isoformat(), "text": match.group(0)})
    for match in _TOMORROW.finditer(text):
        word = match.group(1).lower()
        days = 1 if word == "tomorrow" else 7 if word == "next week" else (4 - today.weekday()) % 7
        found.append({"date": (today + timedelta(days=days)).isoformat(), "text": match.group(0).strip()})
    return found[:10]


def _next_date(today: date, day: int, month: int | None) -> date | None:
    """The next date with this day (and month): 'the 14th' means this month or next."""
    for offset in range(0, 13):
        year = today.year + (today.month - 1 + offset) // 12
        mon = month or (today.month - 1 + offset) % 12 + 1
        try:
            candidate = date(year if not month else today.year + (1 if month < today.month else 0), mon, day)
        except ValueError:
            return None if month else None
        if candidate >= today or month:
            return candidate
    return None

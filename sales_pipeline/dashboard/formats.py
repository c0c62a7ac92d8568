"""How the dashboard writes numbers: one function per kind, used by the
charts' labels and the tables alike (a missing value is a dash)."""

from __future__ import annotations


def percent(value: object) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"


def count(value: object) -> str:
    return "-" if value is None else f"{int(value):,}"


# The symbol written before an amount; any other currency is written after it.
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value: object, currency: str) -> str:
    """An amount in the marts' reporting currency: $1,200 or 1,200 CHF."""
    if value is None:
        return "-"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{float(value):,.0f}" if symbol else f"{float(value):,.0f} {currency}"


def days(value: object) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def times(value: object) -> str:
    return "-" if value is None else f"{float(value):.2f}x"

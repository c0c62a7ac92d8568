"""How the dashboard writes numbers: one function per kind, used by the
charts' labels and the tables alike (a missing value is a dash)."""

from __future__ import annotations


def percent(value: object) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"


def count(value: object) -> str:
    return "-" if value is None else f"{int(value):,}"


def usd(value: object) -> str:
    return "-" if value is None else f"${float(value):,.0f}"


def days(value: object) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def times(value: object) -> str:
    return "-" if value is None else f"{float(value):.2f}x"

"""How a finding is shown to people, the same on every page and sheet: its value as text, who answers for
it, «… и ещё N замечаний».
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from typing import Any

from .models import SEVERITY_ORDER, Finding, Register, Severity, value_text
from .text import plural, ru_date, ru_date_or_time

RESPONSIBLE_FIELD = "responsible"


def shown_value(value: Any) -> str:
    """A finding's value as a clerk would read it."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return ru_date_or_time(value)
    if isinstance(value, dt.date):
        return ru_date(value)
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "; ".join(shown_value(v) for v in value)
    return str(value)


def worst(findings: Iterable[Finding]) -> Severity:
    return min((f.severity for f in findings), key=lambda s: SEVERITY_ORDER[s])


class Responsible:
    """Who answers for a finding: the «Ответственный» of its row, for rows of the register sheet only."""

    def __init__(self, register: Register | None, findings: Iterable[Finding]) -> None:
        self.sheet = register.sheet if register is not None else None
        wanted = {f.row for f in findings if f.row and self._on_register(f)}
        self.by_row: dict[int, str] = {}
        if register is not None and wanted:
            col = register.column(RESPONSIBLE_FIELD)  # the reader's column: no Row objects built for this
            if col is not None:
                numbers = register.numbers
                for number in wanted:  # rows are in sheet order: each found by bisection, not a pass over all
                    i = bisect.bisect_left(numbers, number)
                    if i < len(numbers) and numbers[i] == number:
                        self.by_row[number] = value_text(col[i])
                    elif number in numbers:  # a register whose rows are not in sheet order
                        self.by_row[number] = value_text(col[numbers.index(number)])
            else:
                for r in register.rows:
                    if r.number in wanted:
                        self.by_row[r.number] = r.text(RESPONSIBLE_FIELD)

    def _on_register(self, f: Finding) -> bool:
        return f.sheet is None or f.sheet == self.sheet

    def of(self, f: Finding) -> str:
        if not f.row or not self._on_register(f):
            return ""
        return self.by_row.get(f.row, "")


def finding_value(f: Finding) -> str:
    return shown_value(f.value)


def more_text(n: int) -> str:
    return f"… и ещё {n} {plural(n, 'замечание', 'замечания', 'замечаний')}"

"""Stage 2: run the Порядок's checks (declared in rules/checks.toml) over a read register.

Each check ``kind`` is one small function registered with :func:`check_kind`; it receives the
register, the rules and the check's declaration, and yields findings. Which checks run, their
severity, clause and message come from rules/, never from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .models import Finding, Register, Row
from .rules import Check, Rules


@dataclass
class Context:
    """What a check function gets."""

    register: Register
    rules: Rules
    today: dt.date
    cache: dict[str, Any] = field(default_factory=dict)

    def finding(self, check: Check, row: Row | None, field_name: str | None, *, value: Any = None,
                cell: str | None = None, **fmt: Any) -> Finding:
        reg = self.register
        col = reg.columns.get(field_name) if field_name else None
        rn = row.number if row is not None else None
        if cell is None and col and rn:
            cell = f"{col}{rn}"
        header = self.rules.columns[field_name].header if field_name in self.rules.columns else ""
        shown = value
        if shown is None and row is not None and field_name:
            shown = row.raw(field_name)
        params = {"header": header, "value": "" if shown is None else shown, "clause": check.clause or "",
                  "detail": "", "expected": ""}
        params.update({k: v for k, v in check.params.items() if isinstance(v, (str, int, float))})
        params.update(fmt)
        try:
            message = check.message.format(**params)
        except (KeyError, IndexError, ValueError):
            message = check.message
        return Finding(code=check.code, severity=check.severity, clause=check.clause, message=message,
                       sheet=reg.sheet, cell=cell, row=rn, column=col, field=field_name, value=shown)


CheckFn = Callable[[Context, Check], Iterable[Finding]]
CHECK_KINDS: dict[str, CheckFn] = {}


def check_kind(name: str) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        CHECK_KINDS[name] = fn
        return fn
    return deco


def run_checks(register: Register, rules: Rules, *, today: dt.date | None = None) -> list[Finding]:
    """Run every declared check; return the reader's findings plus the checks' findings, sorted."""
    ctx = Context(register=register, rules=rules, today=today or dt.date.today())
    out: list[Finding] = list(register.findings)
    for chk in rules.checks:
        if chk.kind == "reader":
            continue
        fn = CHECK_KINDS.get(chk.kind)
        if fn is None:
            from .models import RulesError
            raise RulesError("rules_broken", f"Ошибка в файле правил {rules.directory / 'checks.toml'}: "
                                             f"правило {chk.code}: неизвестный вид проверки «{chk.kind}».")
        out.extend(fn(ctx, chk))
    out.sort(key=lambda f: f.sort_key())
    return out


def _iter_rows(ctx: Context) -> Iterator[Row]:
    return iter(ctx.register.rows)

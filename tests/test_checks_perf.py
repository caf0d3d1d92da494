"""A 100,000-row register (built in memory) with huge groups: every planted mistake is found once and a
group of 5,000 duplicates is summarised in one short message.

Speed is not asserted here (house rule: speed is measured by bench/, never by timed tests); see
bench/bench_check.py for the whole-process figures.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from perechen.checks import run_checks
from perechen.models import Register, Row
from perechen.rules import Rules

N = 100_000
TODAY = dt.date(2026, 11, 30)


def build(rules: Rules, n: int) -> Register:
    kinds = rules.lists["kinds"].items
    needs = rules.lists["needs"].values
    feats = "; ".join(rules.lists["written_features"].values)
    cols = {c.field: chr(65 + i) for i, c in enumerate(rules.schema.columns)}
    rows = []
    for i in range(n):
        k = kinds[i % len(kinds)]
        v = {
            "code": f"ТВ-{i:06d}", "area": f"Направление деятельности № {i % 37}",
            "process": f"Процесс обслуживания клиентов № {i // len(kinds)}",
            "name": f"Точка «{k.value}» № {i}", "channel": k.channel, "kind": k.value,
            "clients": ("внешние", "внутренние", "внешние и внутренние")[i % 3],
            "needs": "\n".join(needs[j % 5] for j in range(i % 4 + 1)), "other_needs": None,
            "key": "да" if i % len(kinds) == 0 else "нет", "basis_kind": "документ",
            "basis": f"Приказ Службы от {1 + i % 28:02d}.{1 + i % 12:02d}.2024 № {i % 997}-о",
            "accessibility": "Помощь маломобильным клиентам" if k.channel == "офлайн" else None,
            "written_features": feats if k.written else None,
            "responsible": f"Иванов И. И., специалист отдела № {i % 5000}",
            "status": ("включено", "включено", "включено", "черновик", "на проверке", "исключено")[i % 6],
            "checked_by": f"Петров П. П. № {i % 13}", "changed_on": dt.date(2026, 1 + i % 11, 1 + i % 28),
            "note": None,
        }
        if i % 100 == 1:
            v["channel"] = "Цифровая"
        if i % 100 == 2:
            v["needs"] = "получение консультации; что-то ещё"
        if i % 100 == 3:
            v["basis"] = "Приказ без даты"
        if i % 100 == 4:
            v["responsible"] = None
        rows.append(Row(number=i + 2, values=v))
    # Worst cases for grouping: one huge process with a single kind, one code on thousands of rows.
    for j in range(5_000):
        rows[j].values.update(process="Один большой процесс", kind="СЭД", channel="цифровая")
        rows[-1 - j].values["code"] = "ТВ-ОДИН"
    return Register(path=Path("in-memory.xlsx"), sheet="Перечень", header_row=1, columns=cols,
                    headers={}, rows=rows)


def test_100k_rows_with_huge_groups(rules: Rules) -> None:
    reg = build(rules, N)
    findings = run_checks(reg, rules, today=TODAY)
    counts = Counter(f.code for f in findings)
    assert counts["duplicate-kind"] > 4_000 and counts["code-duplicate"] == 5_000
    assert counts["needs-value"] == 1_000 and counts["required-empty"] == 1_000
    big = next(f for f in findings if f.code == "code-duplicate")
    assert "и ещё" in big.message and len(big.message) < 600  # a group of 5,000 is summarised

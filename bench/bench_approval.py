"""Benchmark the approval modules in-process: prepare a draft (freeze + act .docx + two .xlsx + journal) and
compute/write the п. 5.4 compliance report, on the bundled register and on a larger register made from it.

The larger register repeats the bundled rows under new codes (ТВ-000001 …); it is built in memory, so the
workbook read is not measured here (bench/bench_check.py measures reading). Measured per size:

  draft-first    prepare_draft with no act yet: the whole Перечень in the act's appendix
  draft-amend    prepare_draft after a recorded act, with 1% of the rows renamed (an amending act)
  report         journal with one change per 100 rows placed + compliance.compute + write_reports

Wall time is the median of --repeat runs (after one warm-up run).

Usage (from the repository root):
    .venv/bin/python -m bench.bench_approval                  # bundled and 10,000 rows, 3 repetitions
    .venv/bin/python -m bench.bench_approval --rows 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from perechen import compliance
from perechen.approval import prepare_draft, record_act
from perechen.journal import Journal, ObservedChange, journal_path
from perechen.models import Register, Row
from perechen.reader import read_register
from perechen.rules import Rules
from perechen.workdays import WorkCalendar

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 12, 7, 10, 0)


def scaled(base: Register, n: int | None) -> Register:
    if n is None:
        return base
    src = [r for r in base.rows if r.values.get("status") == "включено"]
    rows = []
    for i in range(n):
        values = copy.deepcopy(src[i % len(src)].values)
        values["code"] = f"ТВ-{i + 1:06d}"
        rows.append(Row(number=i + 2, values=values))
    return Register(path=base.path, sheet=base.sheet, header_row=base.header_row, columns=base.columns,
                    headers=base.headers, rows=rows, info=dict(base.info))


def renamed(reg: Register, every: int) -> Register:
    rows = []
    for r in reg.rows:
        values = dict(r.values)
        if r.number % every == 0:
            values["name"] = f"{values.get('name')} (уточнено)"
        rows.append(Row(number=r.number, values=values))
    return Register(path=reg.path, sheet=reg.sheet, header_row=reg.header_row, columns=reg.columns,
                    headers=reg.headers, rows=rows, info=dict(reg.info))


def timed(fn: Callable[[Path], object], repeat: int) -> float:
    times = []
    for i in range(repeat + 1):
        with tempfile.TemporaryDirectory(prefix="perechen-bench-") as tmp:
            t0 = time.perf_counter()
            fn(Path(tmp) / "output")
            if i:
                times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rules = Rules.load(None)
    cal = WorkCalendar.load(ROOT / "rules")
    bundled = read_register(ROOT / "workbook" / "perechen.xlsx", rules)
    for label, reg in (("bundled", scaled(bundled, None)), (f"{args.rows} rows", scaled(bundled, args.rows))):
        n = sum(1 for r in reg.rows if r.values.get("status") == "включено")

        def first(out: Path, reg: Register = reg) -> None:
            with Journal.open(journal_path(out)) as j:
                prepare_draft(reg, rules, out, j, now=NOW)

        amended = renamed(reg, min(100, len(reg.rows)))

        def amend(out: Path, reg: Register = reg, amended: Register = amended) -> None:
            with Journal.open(journal_path(out)) as j:
                d = prepare_draft(reg, rules, out, j, now=NOW)
                record_act(out, j, d.id, number="1", signed_on=NOW.date(), now=NOW)
                t0 = time.perf_counter()
                prepare_draft(amended, rules, out, j, now=NOW + dt.timedelta(days=1))
                amend.last = time.perf_counter() - t0  # type: ignore[attr-defined]

        def report(out: Path, reg: Register = reg, n: int = n) -> None:
            with Journal.open(journal_path(out)) as j:
                j.record_placement("v0", placed_at=NOW - dt.timedelta(days=60), fingerprint="0", row_count=n)
                codes = [str(r.values["code"]) for r in reg.rows][::100] or ["ТВ-01"]
                j.observe([ObservedChange(c, "edited", "name", "a", "b") for c in codes], fingerprint="1",
                          observed_at=NOW - dt.timedelta(days=30))
                j.record_placement("v1", placed_at=NOW - dt.timedelta(days=20), fingerprint="1", row_count=n)
                rep = compliance.compute(j, cal, 2026, today=NOW.date())
                compliance.write_reports(rep, out / "reports" / "run")

        t_first = timed(first, args.repeat)
        amend_times = []
        for i in range(args.repeat + 1):
            with tempfile.TemporaryDirectory(prefix="perechen-bench-") as tmp:
                amend(Path(tmp) / "output")
                if i:
                    amend_times.append(amend.last)  # type: ignore[attr-defined]
        t_report = timed(report, args.repeat)
        print(f"{label:>12} ({n} included rows): draft-first {t_first:.2f} s, "
              f"draft-amend {statistics.median(amend_times):.2f} s, report {t_report:.2f} s")


if __name__ == "__main__":
    main()

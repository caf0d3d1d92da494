"""Check kinds about dates: a «Дата изменения» that is a real date and not in the future, and rows left
«черновик»/«на проверке» longer than the review term (working days by the production calendar)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ..models import Finding
from ..rules import Check
from .context import Context, _fmt_date, _param, _str_list, positions
from .runner import check_kind


def _date_fields(ctx: Context, check: Check) -> list[str]:
    fields = _str_list(check, "fields", [c.field for c in ctx.rules.schema.columns if c.type == "date"])
    return [f for f in fields if f in ctx.register.columns]


@check_kind("date_valid")
def check_date_valid(ctx: Context, check: Check) -> Iterator[Finding]:
    """A date column holds a real date (not text, not a number shown as an early-1900s date)."""
    earliest = check.params.get("earliest")
    if isinstance(earliest, dt.datetime):
        earliest = earliest.date()
    if not isinstance(earliest, dt.date):
        earliest = dt.date.min
    too_early = str(check.params.get("too_early", ""))
    date = dt.date
    rows = ctx.rows
    for f in _date_fields(ctx, check):
        vals = ctx.column(f)
        # Once per distinct value (a few hundred dates); equal values get the same answer.
        bad = {v for v in ctx.distinct(f) if v is not None and not (isinstance(v, date) and v >= earliest)}
        for i in positions(vals, bad):
            v = vals[i]
            detail = too_early.format(earliest=_fmt_date(earliest)) if isinstance(v, date) else ""
            yield ctx.finding(check, rows[i], f, detail=detail)


@check_kind("date_future")
def check_date_future(ctx: Context, check: Check) -> Iterator[Finding]:
    """A date column is not after today."""
    today = ctx.today
    date = dt.date
    rows = ctx.rows
    for f in _date_fields(ctx, check):
        vals = ctx.column(f)
        for i in positions(vals, {v for v in ctx.distinct(f) if isinstance(v, date) and v > today}):
            yield ctx.finding(check, rows[i], f, value=_fmt_date(vals[i]))


@check_kind("review_overdue")
def check_review_overdue(ctx: Context, check: Check) -> Iterator[Finding]:
    """Rows still «черновик»/«на проверке» more than N working days after their Дата изменения.

    Working days come from rules/calendar.toml; when it does not cover a year involved, the period is
    counted in calendar days and the message says so.
    """
    if not ctx.has("status", "changed_on"):
        return
    statuses = set(_str_list(check, "statuses", ["на проверке"]))
    n = int(_param(check, "review_days", 10))
    unit = str(check.params.get("unit", "рабочих дней"))
    unit_calendar = str(check.params.get("unit_calendar", "календарных дней"))
    today = ctx.today
    cal: Any = None
    cal_loaded = False
    deadlines: dict[dt.date, tuple[dt.date, str]] = {}
    rows = ctx.rows
    changed_on = ctx.column("changed_on")
    for i in ctx.where_item("status", lambda it: it.value in statuses):
        changed = changed_on[i]
        if not isinstance(changed, dt.date):
            continue
        if isinstance(changed, dt.datetime):
            changed = changed.date()
        if changed >= today:
            continue
        got = deadlines.get(changed)
        if got is None:
            if not cal_loaded:
                cal_loaded = True
                cal = _load_calendar(ctx)
            got = deadlines[changed] = _review_deadline(cal, changed, today, n, unit, unit_calendar)
        deadline, unit_text = got
        if today > deadline:
            yield ctx.finding(check, rows[i], "status", changed=_fmt_date(changed), deadline=_fmt_date(deadline),
                              unit=unit_text, review_days=n)


def _load_calendar(ctx: Context) -> Any:
    from ..workdays import CalendarError, WorkCalendar

    try:
        return WorkCalendar.load(ctx.rules.directory)
    except CalendarError:  # missing or broken file: count calendar days and say so
        return None


def _review_deadline(cal: Any, changed: dt.date, today: dt.date, n: int, unit: str,
                     unit_calendar: str) -> tuple[dt.date, str]:
    if cal is not None:
        from ..workdays import CalendarError

        try:
            return cal.add_working_days(changed, n), unit
        except CalendarError:
            pass
    known = set(cal.years) if cal is not None else set()
    missing = [y for y in range(changed.year, max(today.year, changed.year) + 1) if y not in known]
    year = missing[0] if missing else changed.year
    try:
        text = unit_calendar.format(year=year)
    except (KeyError, IndexError, ValueError):
        text = unit_calendar
    return changed + dt.timedelta(days=n), text

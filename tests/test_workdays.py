"""Tests of the production calendar (perechen.workdays) for the 10-working-day deadline of п. 5.4.

Every expected date below was worked out by hand from the decrees (Постановления Правительства РФ
№ 1505 / 1314 / 1335 / 1466 on the transfers of days off in 2023 / 2024 / 2025 / 2026), NOT computed with
the library under test. The comment next to each case shows the count: «Вт 26=1» means Tuesday the 26th is
working day number 1; «off» marks a non-working day and why.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest

from perechen.workdays import (
    CalendarError,
    CalendarFileError,
    DeadlineStatus,
    WorkCalendar,
    draft_year_toml,
)

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load(RULES)


# ------------------------------------------------------------------------------------------------------------
# Deadlines (10 working days, the day of the change not counted)

DEADLINES = [
    # New Year 2023/2024. Change Mon 25.12.2023.
    # Вт 26=1, Ср 27=2, Чт 28=3, Пт 29=4, Сб 30/Вс 31 off, 01–08.01.2024 off (holidays; 06–07 weekend),
    # Вт 09=5, Ср 10=6, Чт 11=7, Пт 12=8, (13–14 weekend), Пн 15=9, Вт 16=10.
    (date(2023, 12, 25), date(2024, 1, 16)),
    # New Year 2024/2025 with the working Saturday 28.12.2024. Change Fri 20.12.2024.
    # Пн 23=1, Вт 24=2, Ср 25=3, Чт 26=4, Пт 27=5, Сб 28=6 (working Saturday), Вс 29 off,
    # Пн 30 off (from 28.12), Вт 31 off (from 07.01), 01–08.01.2025 off,
    # Чт 09=7, Пт 10=8, (11–12 weekend), Пн 13=9, Вт 14=10.
    (date(2024, 12, 20), date(2025, 1, 14)),
    # New Year 2025/2026. Change Fri 26.12.2025.
    # (27–28 weekend), Пн 29=1, Вт 30=2, Ср 31 off (from 05.01.2025), 01–11.01.2026 off (01–08 holidays,
    # 09 off from 03.01, 10–11 weekend), Пн 12=3, Вт 13=4, Ср 14=5, Чт 15=6, Пт 16=7, Пн 19=8, Вт 20=9,
    # Ср 21=10.
    (date(2025, 12, 26), date(2026, 1, 21)),
    # New Year 2026/2027 (2027 is provisional data). Change Thu 24.12.2026.
    # Пт 25=1, Пн 28=2, Вт 29=3, Ср 30=4, Чт 31 off (from 04.01.2026), Пт 01.01 off, 02–03 weekend,
    # 04–08 off, 09–10 weekend, Пн 11=5, Вт 12=6, Ср 13=7, Чт 14=8, Пт 15=9, Пн 18=10.
    (date(2026, 12, 24), date(2027, 1, 18)),
    # 23 February 2023 and the transfer of 01.01 to Fri 24.02.2023. Change Mon 20.02.2023.
    # Вт 21=1, Ср 22=2, Чт 23 off, Пт 24 off (from 01.01), (25–26 weekend), Пн 27=3, Вт 28=4, Ср 01.03=5,
    # Чт 02=6, Пт 03=7, Пн 06=8, Вт 07=9, Ср 08 off, Чт 09=10.
    (date(2023, 2, 20), date(2023, 3, 9)),
    # May 2023: 01, 08 (from 08.01) and 09 off. Change Fri 28.04.2023.
    # (29–30 weekend), Пн 01 off, Вт 02=1, Ср 03=2, Чт 04=3, Пт 05=4, Пн 08 off, Вт 09 off, Ср 10=5,
    # Чт 11=6, Пт 12=7, Пн 15=8, Вт 16=9, Ср 17=10.
    (date(2023, 4, 28), date(2023, 5, 17)),
    # May 2024 with the working Saturday 27.04.2024. Change Thu 25.04.2024.
    # Пт 26=1, Сб 27=2 (working Saturday), Вс 28 off, Пн 29 off (from 27.04), Вт 30 off (from 02.11),
    # Ср 01.05 off, Чт 02=3, Пт 03=4, (04–05 weekend), Пн 06=5, Вт 07=6, Ср 08=7, Чт 09 off,
    # Пт 10 off (from 06.01), (11–12 weekend), Пн 13=8, Вт 14=9, Ср 15=10.
    (date(2024, 4, 25), date(2024, 5, 15)),
    # November 2024 with the working Saturday 02.11.2024. Change Thu 31.10.2024.
    # Пт 01=1, Сб 02=2 (working Saturday), Вс 03 off, Пн 04 off (holiday), Вт 05=3, Ср 06=4, Чт 07=5,
    # Пт 08=6, Пн 11=7, Вт 12=8, Ср 13=9, Чт 14=10.
    (date(2024, 10, 31), date(2024, 11, 14)),
    # May 2025: 01, 02 (from 04.01), 08 (from 23.02), 09 off. Change Mon 28.04.2025.
    # Вт 29=1, Ср 30=2, Чт 01 off, Пт 02 off, (03–04 weekend), Пн 05=3, Вт 06=4, Ср 07=5, Чт 08 off,
    # Пт 09 off, (10–11 weekend), Пн 12=6, Вт 13=7, Ср 14=8, Чт 15=9, Пт 16=10.
    (date(2025, 4, 28), date(2025, 5, 16)),
    # November 2025 with the working Saturday 01.11.2025. Change Fri 31.10.2025.
    # Сб 01=1 (working Saturday), Вс 02 off, Пн 03 off (from 01.11), Вт 04 off (holiday), Ср 05=2, Чт 06=3,
    # Пт 07=4, Пн 10=5, Вт 11=6, Ср 12=7, Чт 13=8, Пт 14=9, Пн 17=10.
    (date(2025, 10, 31), date(2025, 11, 17)),
    # June 2025: 12 (holiday) and 13 (from 08.03) off. Change Tue 10.06.2025.
    # Ср 11=1, Чт 12 off, Пт 13 off, (14–15 weekend), Пн 16=2, Вт 17=3, Ср 18=4, Чт 19=5, Пт 20=6,
    # Пн 23=7, Вт 24=8, Ср 25=9, Чт 26=10.
    (date(2025, 6, 10), date(2025, 6, 26)),
    # March 2026: 08.03 is a Sunday, so Mon 09.03 is off (ст. 112). Change Thu 05.03.2026.
    # Пт 06=1, (07–08 weekend), Пн 09 off, Вт 10=2, Ср 11=3, Чт 12=4, Пт 13=5, Пн 16=6, Вт 17=7, Ср 18=8,
    # Чт 19=9, Пт 20=10.
    (date(2026, 3, 5), date(2026, 3, 20)),
    # May 2026: 01 off; 09.05 is a Saturday, so Mon 11.05 is off (ст. 112). Change Wed 29.04.2026.
    # Чт 30=1, Пт 01 off, (02–03 weekend), Пн 04=2, Вт 05=3, Ср 06=4, Чт 07=5, Пт 08=6, (09–10 weekend),
    # Пн 11 off, Вт 12=7, Ср 13=8, Чт 14=9, Пт 15=10.
    (date(2026, 4, 29), date(2026, 5, 15)),
]


@pytest.mark.parametrize(("change", "expected"), DEADLINES, ids=[c.isoformat() for c, _ in DEADLINES])
def test_deadline_hand_worked(cal: WorkCalendar, change: date, expected: date) -> None:
    assert cal.deadline(change) == expected
    assert cal.add_working_days(change, 10) == expected
    # The deadline is the 10th working day: exactly 10 working days in (change, deadline].
    assert cal.working_days_between(change, expected) == 10
    assert cal.is_working_day(expected)


SHORT_PERIODS = [
    # (start, n, expected)
    (date(2024, 12, 27), 1, date(2024, 12, 28)),  # Сб 28.12.2024=1 (working Saturday)
    (date(2024, 4, 26), 1, date(2024, 4, 27)),  # Сб 27.04.2024=1 (working Saturday)
    (date(2024, 11, 1), 1, date(2024, 11, 2)),  # Сб 02.11.2024=1 (working Saturday)
    (date(2025, 10, 31), 1, date(2025, 11, 1)),  # Сб 01.11.2025=1 (working Saturday)
    # Пт 09.01.2026 off (from 03.01), 10–11 weekend → Пн 12=1.
    (date(2026, 1, 8), 1, date(2026, 1, 12)),
    # Change on a holiday: Ср 31.12.2025 off, 01–11.01 off → Пн 12=1, Вт 13=2.
    (date(2025, 12, 31), 2, date(2026, 1, 13)),
    # Пт 06.03.2026 → (07–08 weekend), Пн 09 off (ст. 112), Вт 10=1.
    (date(2026, 3, 6), 1, date(2026, 3, 10)),
    # Пт 08.05.2026 → 09–10 weekend, Пн 11 off (ст. 112), Вт 12=1.
    (date(2026, 5, 8), 1, date(2026, 5, 12)),
    # Вт 29.12.2026 → Ср 30=1, Чт 31 off (from 04.01), Пт 01.01.2027 off, …, Пн 11.01.2027=2.
    (date(2026, 12, 29), 2, date(2027, 1, 11)),
]


@pytest.mark.parametrize(
    ("start", "n", "expected"), SHORT_PERIODS, ids=[s.isoformat() for s, _, _ in SHORT_PERIODS]
)
def test_add_working_days_short(cal: WorkCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 4, 27), True),  # Saturday, working by decree № 1314
        (date(2024, 11, 2), True),  # Saturday, working by decree № 1314
        (date(2024, 12, 28), True),  # Saturday, working by decree № 1314
        (date(2025, 11, 1), True),  # Saturday, working by decree № 1335
        (date(2024, 4, 29), False),  # Monday, off (from 27.04)
        (date(2024, 4, 30), False),  # Tuesday, off (from 02.11)
        (date(2024, 12, 30), False),  # Monday, off (from 28.12)
        (date(2024, 12, 31), False),  # Tuesday, off (from 07.01)
        (date(2025, 11, 3), False),  # Monday, off (from 01.11)
        (date(2025, 12, 31), False),  # Wednesday, off (from 05.01)
        (date(2026, 1, 9), False),  # Friday, off (from 03.01), decree № 1466
        (date(2026, 3, 9), False),  # Monday, off: 08.03 fell on a Sunday (ст. 112)
        (date(2026, 5, 11), False),  # Monday, off: 09.05 fell on a Saturday (ст. 112)
        (date(2026, 12, 31), False),  # Thursday, off (from 04.01), decree № 1466
        (date(2026, 1, 12), True),  # Monday, first working day of 2026
        (date(2026, 12, 30), True),  # Wednesday, last working day of 2026
        (date(2026, 1, 10), False),  # ordinary Saturday
        (date(2023, 11, 6), False),  # Monday, off: 04.11.2023 fell on a Saturday (ст. 112)
    ],
)
def test_is_working_day(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


# Yearly totals of the official production calendar (five-day week), from the decrees.
@pytest.mark.parametrize(("year", "total"), [(2023, 247), (2024, 248), (2025, 247), (2026, 247)])
def test_yearly_totals(cal: WorkCalendar, year: int, total: int) -> None:
    assert cal.working_days_in_year(year) == total
    # (31.12 of the previous year, 31.12] — the left end is not examined, so 2022 need not be known.
    assert cal.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == total
    assert cal.year_info(year).status == "official"


def test_working_days_between_semantics(cal: WorkCalendar) -> None:
    a, b = date(2026, 1, 1), date(2026, 1, 12)
    assert cal.working_days_between(a, b) == 1  # (01.01, 12.01]: only Пн 12 is working
    assert cal.working_days_between(b, a) == -1  # reversed: minus the count of (a, b]
    assert cal.working_days_between(a, a) == 0
    assert cal.working_days_between(date(2024, 12, 27), date(2024, 12, 28)) == 1  # Сб 28 working
    assert cal.working_days_between(date(2025, 10, 31), date(2025, 11, 4)) == 1  # Сб 01 only


# ------------------------------------------------------------------------------------------------------------
# status()


def test_status_before_and_on_deadline(cal: WorkCalendar) -> None:
    change = date(2025, 12, 26)  # deadline 21.01.2026 (see DEADLINES)
    st = cal.status(change, today=change)
    assert st == DeadlineStatus(date(2026, 1, 21), 10, False, 0, ())
    # (29.12, 21.01]: Вт 30.12=1, then 12–16.01 (5) and 19–21.01 (3) = 9.
    assert cal.status(change, today=date(2025, 12, 29)).working_days_left == 9
    # (05.01, 21.01]: 12–16.01 (5) and 19–21.01 (3) = 8; 05.01 is a holiday.
    assert cal.status(change, today=date(2026, 1, 5)).working_days_left == 8
    # On the deadline day itself: nothing left but still in time.
    assert cal.status(change, today=date(2026, 1, 21)) == DeadlineStatus(date(2026, 1, 21), 0, False, 0, ())


def test_status_overdue(cal: WorkCalendar) -> None:
    change = date(2025, 12, 26)  # deadline Ср 21.01.2026
    assert cal.status(change, today=date(2026, 1, 22)) == DeadlineStatus(date(2026, 1, 21), 0, True, 1, ())
    # (21.01, 26.01]: Чт 22=1, Пт 23=2, Пн 26=3.
    st = cal.status(change, today=date(2026, 1, 26))
    assert (st.overdue, st.overdue_working_days, st.working_days_left) == (True, 3, 0)


def test_status_overdue_on_weekend_counts_at_least_one(cal: WorkCalendar) -> None:
    change = date(2026, 3, 5)  # deadline Пт 20.03.2026 (see DEADLINES)
    sat = cal.status(change, today=date(2026, 3, 21))
    assert (sat.overdue, sat.overdue_working_days) == (True, 1)  # (20, 21] has no working day: still 1
    assert cal.status(change, today=date(2026, 3, 23)).overdue_working_days == 1  # Пн 23=1
    assert cal.status(change, today=date(2026, 3, 24)).overdue_working_days == 2  # Пн 23=1, Вт 24=2


def test_status_flags_provisional_year(cal: WorkCalendar) -> None:
    assert cal.year_info(2027).status == "provisional"
    st = cal.status(date(2026, 12, 24), today=date(2026, 12, 25))
    assert st.deadline == date(2027, 1, 18)
    assert st.provisional_years == (2027,)
    assert cal.status(date(2026, 3, 5), today=date(2026, 3, 10)).provisional_years == ()


def test_datetime_is_treated_as_its_day(cal: WorkCalendar) -> None:
    assert cal.deadline(datetime(2025, 12, 26, 23, 59)) == date(2026, 1, 21)


def test_bad_n(cal: WorkCalendar) -> None:
    for n in (0, -1):
        with pytest.raises(CalendarError, match="не меньше 1"):
            cal.add_working_days(date(2026, 3, 5), n)


# ------------------------------------------------------------------------------------------------------------
# Unknown years: a clear error, never a guess


@pytest.mark.parametrize("day", [date(2031, 1, 5), date(2022, 12, 30), date(2028, 3, 1)])
def test_unknown_year_is_an_error(cal: WorkCalendar, day: date) -> None:
    with pytest.raises(CalendarError) as info:
        cal.is_working_day(day)
    msg = str(info.value)
    assert f"Производственный календарь на {day.year} год не известен" in msg
    assert "rules/calendar.toml" in msg


def test_period_running_into_unknown_year_is_an_error() -> None:
    raw = tomllib.loads((RULES / "calendar.toml").read_text(encoding="utf-8"))
    raw["years"] = {"2026": raw["years"]["2026"]}
    only_2026 = WorkCalendar.from_mapping(raw, source="rules/calendar.toml")
    assert only_2026.years == (2026,)
    assert only_2026.deadline(date(2026, 12, 10)) == date(2026, 12, 24)  # Пт 11=1 … Чт 24=10, no 2027 needed
    with pytest.raises(CalendarError, match="на 2027 год не известен"):
        only_2026.deadline(date(2026, 12, 24))
    with pytest.raises(CalendarError, match="на 2027 год не известен"):
        only_2026.status(date(2026, 12, 1), today=date(2027, 1, 15))


# ------------------------------------------------------------------------------------------------------------
# The installed holidays package must agree with the file (a divergence means one of them is wrong)


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026])
def test_file_agrees_with_holidays_package(cal: WorkCalendar, year: int) -> None:
    diffs = cal.package_divergences(year)
    assert diffs == [], "\n".join(str(d) for d in diffs)


def test_provisional_2027_agrees_with_holidays_package(cal: WorkCalendar) -> None:
    # 2027 was taken from the package; if a newer release changes it, the decree text must be checked.
    diffs = cal.package_divergences(2027)
    assert diffs == [], "\n".join(str(d) for d in diffs)


def test_draft_year_toml_matches_file_for_2026(cal: WorkCalendar) -> None:
    text = 'format = "perechen-calendar/1"\n' + draft_year_toml(2026)
    drafted = WorkCalendar.from_mapping(tomllib.loads(text), source="draft")
    assert drafted.year_info(2026).status == "provisional"
    assert drafted.working_days_in_year(2026) == 247
    assert drafted.package_divergences(2026) == []


# ------------------------------------------------------------------------------------------------------------
# A broken calendar file is a clear error naming the file and the key

GOOD_2026 = """\
format = "perechen-calendar/1"

[years.2026]
status = "official"
decree = "Постановление Правительства РФ от 24.09.2025 № 1466"
holidays = [2026-01-01, 2026-01-02, 2026-01-03, 2026-01-04, 2026-01-05, 2026-01-06, 2026-01-07, 2026-01-08,
    2026-02-23, 2026-03-08, 2026-05-01, 2026-05-09, 2026-06-12, 2026-11-04]
transfers = [[2026-01-03, 2026-01-09], [2026-01-04, 2026-12-31]]
art112_moves = [[2026-03-08, 2026-03-09], [2026-05-09, 2026-05-11]]
days_off = [2026-01-01, 2026-01-02, 2026-01-05, 2026-01-06, 2026-01-07, 2026-01-08, 2026-01-09, 2026-02-23,
    2026-03-09, 2026-05-01, 2026-05-11, 2026-06-12, 2026-11-04, 2026-12-31]
working_weekends = []
working_days_total = 247
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "calendar.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_good_minimal_file_loads(tmp_path: Path) -> None:
    cal = WorkCalendar.load(_write(tmp_path, GOOD_2026))
    assert cal.years == (2026,)
    assert cal.year_info(2026).decree.endswith("№ 1466")


def test_a_loaded_calendar_is_shared_until_its_file_changes(tmp_path: Path) -> None:
    """Sixty agencies of one profile in a region run read calendar.toml once; an edited file is read again."""
    import os

    folder = _write(tmp_path, GOOD_2026)
    first = WorkCalendar.load(folder)
    assert WorkCalendar.load(folder) is first
    _write(tmp_path, GOOD_2026.replace("№ 1466", "№ 1467"))
    st = (folder / "calendar.toml").stat()
    os.utime(folder / "calendar.toml", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = WorkCalendar.load(folder)
    assert again is not first and again.year_info(2026).decree.endswith("№ 1467")
    (folder / "calendar.toml").write_text("format = ", encoding="utf-8")
    with pytest.raises(CalendarFileError):
        WorkCalendar.load(folder)


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        (
            "working_days_total = 247",
            "working_days_total = 248",
            "years.2026.working_days_total",
            "выходит 247",
        ),
        ("2026-01-09, 2026-02-23", "2026-01-10, 2026-02-23", "years.2026.days_off[6]", "суббота"),
        (
            "working_weekends = []",
            "working_weekends = [2026-01-12]",
            "years.2026.working_weekends[0]",
            "понедельник",
        ),
        ("2026-01-09, 2026-02-23", '"2026-01-09", 2026-02-23', "years.2026.days_off[6]", "без кавычек"),
        ("2026-01-09, 2026-02-23", "2025-01-09, 2026-02-23", "years.2026.days_off[6]", "не относится к 2026"),
        ("2026-01-09, 2026-02-23", "2026-01-08, 2026-02-23", "years.2026.days_off[6]", "дважды"),
        ('status = "official"', 'status = "draft"', "years.2026.status", "provisional"),
        ('status = "official"', 'status = "official"\nstatuz = 1', "years.2026.statuz", "неизвестный ключ"),
        ("working_days_total = 247\n", "", "years.2026.working_days_total", "отсутствует"),
        (
            'decree = "Постановление Правительства РФ от 24.09.2025 № 1466"',
            'decree = " "',
            "years.2026.decree",
            "пуст",
        ),
        ("[2026-01-03, 2026-01-09]", "[2026-01-03]", "years.2026.transfers[0]", "пара"),
        ("[2026-01-03, 2026-01-09]", "[2026-01-03, 2026-01-13]", "years.2026.transfers[0]", "days_off"),
        ("2026-03-09, 2026-05-01", "2026-05-01", "years.2026.art112_moves[0]", "days_off"),
        ("2026-01-09, 2026-02-23,", "2026-01-09,", "years.2026.holidays[8]", "нет в days_off"),
        ("[years.2026]", "[years.26]", "years.26", "четырёх цифр"),
        ('format = "perechen-calendar/1"', 'format = "other/9"', "format", "perechen-calendar/1"),
    ],
)
def test_broken_file_names_file_and_key(tmp_path: Path, old: str, new: str, key: str, words: str) -> None:
    assert old in GOOD_2026
    rules = _write(tmp_path, GOOD_2026.replace(old, new, 1))
    with pytest.raises(CalendarFileError) as info:
        WorkCalendar.load(rules)
    msg = str(info.value)
    assert str(rules / "calendar.toml") in msg
    assert f"ключ {key}" in msg
    assert words in msg


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    rules = _write(tmp_path, GOOD_2026.replace("working_days_total = 247", "working_days_total = "))
    with pytest.raises(CalendarFileError,
                       match=r"calendar\.toml: ошибка синтаксиса в строке \d+, позиции \d+ \(формат TOML\)"):
        WorkCalendar.load(rules)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        CalendarFileError, match=r"calendar\.toml: файл производственного календаря не найден"
    ):
        WorkCalendar.load(tmp_path)

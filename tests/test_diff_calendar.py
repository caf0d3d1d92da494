"""The п. 5.4 deadline in `perechen diff` around New Year, the May holidays and the working Saturdays.

Expected dates are worked out by hand from the government decrees on transfers (see
../shared/notes/calendar.md), not from the library under test. The day of the change is not counted
(ГК РФ ст. 191): the deadline is the 10th working day after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from perechen import store
from perechen.diff import DiffError, compare
from perechen.reader import read_register
from perechen.rules import Rules

d = dt.date

CASES = [
    # New Year 2024→2025. Change Wed 25.12.2024. 2024 decree (№ 1314): Sat 28.12 is a working day,
    # 30 and 31.12 are days off; 2025 (№ 1335): 1–8.01 off. Working days: 26.12 (1), 27.12 (2),
    # Sat 28.12 (3), then 9.01 (4), 10.01 (5), 13 (6), 14 (7), 15 (8), 16 (9), 17.01 (10).
    pytest.param(d(2024, 12, 25), d(2025, 1, 17), id="new-year-2025"),
    # New Year 2025→2026. Change Fri 26.12.2025. 31.12.2025 off (transfer from Sun 5.01); 2026 (№ 1466):
    # 1–8.01 off and 9.01 off (transfer from Sat 3.01). Working: 29.12 (1), 30.12 (2), 12.01 (3), 13 (4),
    # 14 (5), 15 (6), 16 (7), 19 (8), 20 (9), 21.01 (10).
    pytest.param(d(2025, 12, 26), d(2026, 1, 21), id="new-year-2026"),
    # New Year 2023→2024. Change Fri 22.12.2023. 2023 decree (№ 1505): no working Saturdays, 25–29.12
    # are ordinary working days; 2024: 1–8.01 off. Working: 25 (1), 26 (2), 27 (3), 28 (4), 29.12 (5),
    # 9.01 (6), 10 (7), 11 (8), 12 (9), 15.01 (10).
    pytest.param(d(2023, 12, 22), d(2024, 1, 15), id="new-year-2024"),
    # May 2024 with the working Saturday 27.04. Change Thu 25.04.2024. 29 and 30.04 off (transfers),
    # 1.05 holiday, 9 and 10.05 off. Working: 26.04 (1), Sat 27.04 (2), 2.05 (3), 3.05 (4), 6 (5), 7 (6),
    # 8 (7), 13 (8), 14 (9), 15.05 (10).
    pytest.param(d(2024, 4, 25), d(2024, 5, 15), id="may-2024-working-saturday"),
    # May 2025. Change Wed 30.04.2025. 1.05 holiday, 2.05 off (transfer from Sat 4.01), 8.05 off (transfer
    # from Sun 23.02), 9.05 holiday. Working: 5.05 (1), 6 (2), 7 (3), 12 (4), 13 (5), 14 (6), 15 (7),
    # 16 (8), 19 (9), 20.05 (10).
    pytest.param(d(2025, 4, 30), d(2025, 5, 20), id="may-2025"),
    # May 2026. Change Thu 30.04.2026. 1.05 (Fri) holiday; 9.05 falls on a Saturday, so Mon 11.05 is off
    # (ТК РФ ст. 112). Working: 4.05 (1), 5 (2), 6 (3), 7 (4), 8 (5), 12 (6), 13 (7), 14 (8), 15 (9), 18.05 (10).
    pytest.param(d(2026, 4, 30), d(2026, 5, 18), id="may-2026"),
    # Working Saturday 2.11.2024. Change Thu 31.10.2024. 4.11 (Mon) holiday. Working: 1.11 (1), Sat 2.11 (2),
    # 5 (3), 6 (4), 7 (5), 8 (6), 11 (7), 12 (8), 13 (9), 14.11 (10).
    pytest.param(d(2024, 10, 31), d(2024, 11, 14), id="working-saturday-2024-11-02"),
    # Working Saturday 1.11.2025. Change Thu 30.10.2025. Mon 3.11 off (transfer), Tue 4.11 holiday.
    # Working: 31.10 (1), Sat 1.11 (2), 5 (3), 6 (4), 7 (5), 10 (6), 11 (7), 12 (8), 13 (9), 14.11 (10).
    pytest.param(d(2025, 10, 30), d(2025, 11, 14), id="working-saturday-2025-11-01"),
    # Change on a working Saturday itself (27.04.2024): that day is not counted. Working: 2.05 (1), 3 (2),
    # 6 (3), 7 (4), 8 (5), 13 (6), 14 (7), 15 (8), 16 (9), 17.05 (10).
    pytest.param(d(2024, 4, 27), d(2024, 5, 17), id="change-on-working-saturday"),
    # Change on a holiday (Sun 8.03.2026 → Mon 9.03 off). Working: 10.03 (1) … 13 (4), 16 (5) … 20 (9),
    # 23.03 (10).
    pytest.param(d(2026, 3, 8), d(2026, 3, 23), id="change-on-holiday"),
]


def _report(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]], change: dt.date,
            today: dt.date) -> Any:
    base = store.load_baseline(make_workbook(good_rows), rules)
    new = [dict(r) for r in good_rows]
    new[6].update(process="изменение", changed_on=change)  # a published field: the note is not (issue 11 item 4)
    return compare(read_register(make_workbook(new), rules), rules, base, today=today)


@pytest.mark.parametrize(("change", "deadline"), CASES)
def test_deadline(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]], change: dt.date,
                  deadline: dt.date) -> None:
    r = _report(rules, make_workbook, good_rows, change, today=change)
    assert r.earliest_change == change
    assert r.deadline == deadline
    assert r.working_days_left == 10 and not r.overdue
    # On the deadline itself: nothing left, not yet late.
    on = _report(rules, make_workbook, good_rows, change, today=deadline)
    assert on.working_days_left == 0 and not on.overdue


def test_working_days_left_and_overdue_across_may_2024(rules: Rules, make_workbook: Any,
                                                       good_rows: list[dict[str, Any]]) -> None:
    # Change 25.04.2024, deadline 15.05.2024 (see CASES). On Fri 3.05: working days in (3.05, 15.05] are
    # 6, 7, 8, 13, 14, 15 May = 6.
    r = _report(rules, make_workbook, good_rows, d(2024, 4, 25), today=d(2024, 5, 3))
    assert r.working_days_left == 6 and not r.overdue
    # On Mon 20.05: late by 16, 17, 20 May = 3 working days.
    r = _report(rules, make_workbook, good_rows, d(2024, 4, 25), today=d(2024, 5, 20))
    assert r.overdue and r.working_days_left == 0 and r.overdue_working_days == 3
    assert r.to_dict()["overdue"] is True


def test_overdue_over_new_year(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    # Change 15.12.2025 (Mon): 16, 17, 18, 19, 22, 23, 24, 25, 26, 29.12 -> deadline 29.12.2025.
    # On 12.01.2026: late by 30.12.2025 and 12.01.2026 (31.12 and 1–9.01 are days off) = 2 working days.
    r = _report(rules, make_workbook, good_rows, d(2025, 12, 15), today=d(2026, 1, 12))
    assert r.deadline == d(2025, 12, 29)
    assert r.overdue and r.overdue_working_days == 2


def test_year_without_calendar_is_a_clear_error(rules: Rules, make_workbook: Any,
                                                good_rows: list[dict[str, Any]]) -> None:
    with pytest.raises(DiffError) as ei:
        _report(rules, make_workbook, good_rows, d(2031, 3, 3), today=d(2031, 3, 4))
    assert ei.value.code == "calendar"
    assert "2031" in ei.value.message and "calendar.toml" in ei.value.message


def test_provisional_year_warns(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    # 2027 is provisional in rules/calendar.toml (no decree text checked yet).
    r = _report(rules, make_workbook, good_rows, d(2027, 2, 1), today=d(2027, 2, 1))
    assert r.deadline is not None
    assert [w.type for w in r.warnings] == ["provisional-calendar"]

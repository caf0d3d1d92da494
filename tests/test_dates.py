"""Dates for people are written in one place (perechen.text): ДД.ММ.ГГГГ, the same on every platform."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from perechen.text import ru_date, ru_date_or_time, ru_date_text, ru_datetime, ru_datetime_text, ru_day_month

PACKAGE = Path(__file__).resolve().parent.parent / "scripts" / "perechen"


def test_ru_date_and_time() -> None:
    assert ru_date(dt.date(2026, 1, 9)) == "09.01.2026"
    assert ru_date(dt.date(987, 3, 4)) == "04.03.0987"  # strftime's %Y would drop the zero on Linux
    assert ru_date(dt.datetime(2026, 1, 9, 14, 5)) == "09.01.2026"
    assert ru_date(None) == "" and ru_date(None, "—") == "—"
    assert ru_datetime(dt.datetime(2026, 1, 9, 14, 5, 7)) == "09.01.2026 14:05"
    assert ru_datetime(dt.datetime(2026, 1, 9, 14, 5, 7), seconds=True) == "09.01.2026 14:05:07"
    assert ru_date_or_time(dt.datetime(2026, 1, 9, 0, 0)) == "09.01.2026"
    assert ru_date_or_time(dt.datetime(2026, 1, 9, 8, 30)) == "09.01.2026 08:30"
    assert ru_day_month(dt.date(2026, 1, 9)) == "09.01"


def test_ru_date_text_reads_iso_and_keeps_other_text() -> None:
    assert ru_date_text("2026-01-09") == "09.01.2026"
    assert ru_date_text("2026-01-09T10:00:00") == "09.01.2026"
    assert ru_date_text("вчера") == "вчера"
    assert ru_date_text(None, "—") == "—" and ru_date_text("", "—") == "—"
    assert ru_datetime_text("2026-01-09T10:00:30", seconds=True) == "09.01.2026 10:00:30"
    assert ru_datetime_text("не время") == "не время"


def test_no_other_module_formats_dates_by_hand() -> None:
    hand = re.compile(r"%d\.%m|\.day:02d\}\.")
    found = [f"{p.relative_to(PACKAGE)}:{n}" for p in PACKAGE.rglob("*.py") if p.name != "text.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if hand.search(line) and "click.DateTime" not in line]  # --today also accepts ДД.ММ.ГГГГ
    assert found == []

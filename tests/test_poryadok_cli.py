"""Issue 11 item 20: no English reaches a clerk — click's usage errors, defaults and placeholders, the dates
and levels of the nightly log, and a rule's code is never shown without its Russian title.

On 5728d3a: «Error: No such option: --bogus», «Try 'perechen check -h' for help.», «[default: text]»,
«[OPTIONS]», «WORKBOOK», «2026-12-06 01:00:03,123 INFO», «[п. 2.7, duplicate-kind]».
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.cli import main
from perechen.nightly_log import RuLogFormatter

ENGLISH = ("Error:", "Usage:", "Try '", "for help", "No such", "Missing", "Invalid value", "default:",
           "[OPTIONS]", "COMMAND", "[ARGS]", "WORKBOOK", "DIRECTORY", "FILE", "PATH", "NAME", "%Y", "%d",
           "is not one of", "does not match", "Did you mean", "requires an argument", "Got unexpected")
COMMANDS = ["check", "diff", "publish", "history", "init", "nightly", "rules"]


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), prog_name="perechen")


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if w in text]


@pytest.mark.parametrize("args", [
    ["check", "--bogus"],
    ["chek"],
    ["check", "--format", "xml"],
    ["check", "--today", "вчера"],
    ["publish", "--target"],
    ["check", "a.xlsx", "b.xlsx"],
    ["diff", "--report-dir"],
])
def test_usage_errors_are_russian(args: list[str]) -> None:
    res = run(*args)
    assert res.exit_code == 2
    assert english_in(res.output) == [], res.output
    assert "Ошибка: " in res.output


def test_no_such_option_names_it_and_points_to_help() -> None:
    res = run("check", "--bogus")
    assert "Использование: perechen check [ПАРАМЕТРЫ] [КНИГА]" in res.output
    assert "Справка: perechen check -h" in res.output or "Справка: perechen check --help" in res.output
    assert "Ошибка: Нет такого параметра: «--bogus»." in res.output


def test_bad_values_say_what_is_allowed() -> None:
    assert "«xml» — не одно из допустимых значений: 'text', 'json'" in run("check", "--format", "xml").output
    assert "«вчера» — не дата: введите ГГГГ-ММ-ДД или ДД.ММ.ГГГГ" in run("check", "--today", "вчера").output


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_has_no_english_placeholders_or_defaults(command: str) -> None:
    res = run(*([command] if command else []), "--help")
    assert res.exit_code == 0
    assert english_in(res.output) == [], res.output
    assert res.output.startswith("Использование: perechen")
    assert "[ПАРАМЕТРЫ]" in res.output


def test_check_help_shows_defaults_and_date_format_in_russian() -> None:
    out = run("check", "--help").output
    assert "[по умолчанию: text]" in out
    assert "--today [ГГГГ-ММ-ДД|ДД.ММ.ГГГГ]" in out and "--report-dir ПАПКА" in out and "--config ФАЙЛ" in out


def test_nightly_log_lines_have_russian_dates_and_levels() -> None:
    rec = logging.LogRecord("perechen.nightly", logging.WARNING, __file__, 1, "Письма не отправлены", None, None)
    rec.created = 1796518803.0  # 2026-12-06 (local time decides the hour)
    line = RuLogFormatter().format(rec)
    assert re.match(r"^\d\d\.\d\d\.20\d\d \d\d:\d\d:\d\d внимание +\[\d+\] perechen\.nightly: Письма не отправлены$",
                    line), line


def test_text_report_shows_the_rule_title_with_its_code(make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    add = dict(good_rows[1], code="ТВ-09", name="Почта 2")
    good_rows.append(add)
    res = run("check", str(make_workbook(good_rows)), "--no-report", "--today", "2026-11-30")
    assert res.exit_code == 1
    assert "[п. 2.7 Порядка; Точка одного вида повторяется в процессе (duplicate-kind)]" in res.output
    for line in res.output.splitlines():
        if "duplicate-kind" in line:
            assert "Точка одного вида повторяется в процессе (duplicate-kind)" in line

"""QA fixes after issues 11 and 12, driven through the CLI: report with nothing observed, publish --today,
approve --record --date in ISO, the 5.4 wording in the workbook."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from perechen import store
from perechen.cli import main
from perechen.journal import Journal, journal_path
from perechen.rules import Rules
from tests.conftest import BUNDLED
from tests.test_approval_path import Project


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "perechen.xlsx").write_bytes(BUNDLED.read_bytes())
    (tmp_path / "perechen.toml").write_text('workbook = "perechen.xlsx"\n', encoding="utf-8")
    return tmp_path


def cli(folder: Path, *args: str) -> Result:
    res = CliRunner().invoke(main, [*args, "--config", str(folder / "perechen.toml")])
    assert "Traceback" not in res.output
    return res


def test_report_without_a_journal_says_nothing_was_observed_and_makes_no_journal(folder: Path) -> None:
    res = cli(folder, "report")
    assert res.exit_code == 2, res.output
    assert "ничего не наблюдал" in res.output and "ночная проверка (perechen nightly) не запускалась" in res.output
    assert "нет." not in res.output and "в срок:" not in res.output.lower()
    js = cli(folder, "report", "--format", "json")
    assert js.exit_code == 2
    assert json.loads(js.stdout) == {"year": json.loads(js.stdout)["year"], "changes": [], "on_time": 0, "late": 0,
                                     "pending": 0}
    assert not (folder / "output" / "journal.sqlite").exists()
    assert not (folder / "output").exists()  # nothing written at all


def test_report_of_a_year_the_journal_never_saw(folder: Path) -> None:
    assert cli(folder, "nightly", "--no-mail", "--today", "2026-12-01").exit_code in (0, 1)
    seen = cli(folder, "report", "--year", "2026", "--today", "2026-12-02")
    assert seen.exit_code == 0 and "ничего не наблюдал" not in seen.output
    before = cli(folder, "report", "--year", "2025", "--today", "2026-12-02")
    assert before.exit_code == 2
    assert "за этот год нет ни одного запуска ночной проверки" in before.output


@pytest.mark.parametrize("date", ["2026-12-06", "06.12.2026"])
def test_approve_record_takes_iso_and_russian_dates(folder: Path, date: str) -> None:
    draft = cli(folder, "approve", "--format", "json", "--today", "2026-12-06")
    assert draft.exit_code == 0, draft.output
    res = cli(folder, "approve", "--record", json.loads(draft.stdout)["draft"], "--number", "31-о", "--date", date,
              "--today", "2026-12-06", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["date"] == "2026-12-06"
    hist = cli(folder, "history")
    assert "приказ от 06.12.2026 № 31-о" in hist.output


def test_approve_record_refuses_a_date_in_neither_form(folder: Path) -> None:
    draft = cli(folder, "approve", "--format", "json", "--today", "2026-12-06")
    res = cli(folder, "approve", "--record", json.loads(draft.stdout)["draft"], "--number", "31-о", "--date",
              "06/12/2026", "--today", "2026-12-06")
    assert res.exit_code == 2 and "ДД.ММ.ГГГГ или ГГГГ-ММ-ДД" in res.output


def test_publish_today_dates_the_placement_and_never_before_the_observation(tmp_path: Path, rules: Rules) -> None:
    p = Project(tmp_path, rules, "inclusion", auto=False)
    first = p.run("publish", day=dt.date(2027, 2, 1))
    assert "Опубликовано" in first.output or "опубликован" in first.output.lower(), first.output
    v1 = store.latest(p.out)
    assert v1 is not None and v1.published_at is not None and v1.published_at.date() == dt.date(2027, 2, 1)
    assert "data-20270201-" in p.meta()  # the data version of meta.csv is the day of placement
    with Journal.open(journal_path(p.out), create=False) as j:
        assert [pl.placed_at.date() for pl in j.placements()] == [dt.date(2027, 2, 1)]
    # The change is seen by the nightly run of 10.02 (automatic placement off) …
    p.edit("ТВ-03", process="Регистрация самоходных машин (новая редакция)", changed_on=dt.date(2027, 2, 3))
    p.nightly(dt.date(2027, 2, 10), ok=(0, 1))
    # … so it cannot be placed on 08.02: refused, nothing placed, the site and the journal as they were.
    early = p.run("publish", day=dt.date(2027, 2, 8), ok=(2,))
    assert "раньше дня, когда perechen увидел изменения, ожидающие размещения (10.02.2027" in early.output
    latest = store.latest(p.out)
    assert latest is not None and latest.name == v1.name
    p.run("publish", day=dt.date(2027, 2, 12))
    latest = store.latest(p.out)
    assert latest is not None and latest.published_at is not None and latest.published_at.date() == dt.date(2027, 2, 12)
    assert "data-20270212-" in p.meta()
    rep = p.report(2027, dt.date(2027, 2, 12))
    (change,) = [c for c in rep["changes"] if c["code"] == "ТВ-03"]
    assert change["made_on"] == "2027-02-10" and change["placed_on"] == "2027-02-12"
    assert change["working_days"] == 2 and change["on_time"] is True
    assert rep["pending"] == 0 and rep["late"] == 0


def test_the_workbook_says_when_the_5_4_term_starts_in_the_orders_words(folder: Path) -> None:
    """The «Инструкция» sheet said the 10 working days run from the typed «Дата изменения»; since issue 12 the
    day made is the day perechen first saw the change «включено» (or the act's date)."""
    import openpyxl

    for wb_path in (BUNDLED, folder / "perechen.xlsx"):
        ws = openpyxl.load_workbook(wb_path, read_only=True)["Инструкция"]
        rows = [r for r in ws.iter_rows(values_only=True)]
        text = "\n".join(str(c) for r in rows for c in r if c)
        assert "После любого изменения" not in text and "С неё отсчитываются" not in text
        assert "«в течение 10 рабочих дней со дня внесения таких изменений» (п. 5.4 Порядка)" in text
        (help_text,) = [str(r[3]) for r in rows if r[0] == "Дата изменения"]
        assert "впервые увидела строку со статусом «включено»" in help_text and "дату этого приказа" in help_text
        assert "только пока наблюдения нет" in help_text
        assert "approval" not in text and "mode" not in text
    res = cli(folder, "check", "--no-report", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["errors"] == 0

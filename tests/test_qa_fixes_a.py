"""QA fixes after issues 11 and 12, driven through the CLI: report with nothing observed, publish --today,
approve --record --date in ISO, the 5.4 wording in the workbook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from perechen.cli import main
from tests.conftest import BUNDLED


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

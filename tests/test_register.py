"""The reader on the bundled register and on workbooks `perechen init` writes."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from perechen.models import FileError
from perechen.reader import read_register
from perechen.rules import Rules
from tests.conftest import BUNDLED


def test_bundled_register_reads_eight_touchpoints(rules: Rules) -> None:
    reg = read_register(BUNDLED, rules)
    assert reg.sheet == "Перечень"
    assert len(reg.rows) == 8
    kinds = [r.get("kind") for r in reg.rows]
    # Section 4's kinds as the order words them (issue 11 item 6).
    assert kinds[:4] == ["система электронного документооборота (СЭД)", "электронная почта Службы",
                         "автоматизированное рабочее место государственного служащего (АРМ ГС)", "система учёта заявок"]
    assert {r.get("status") for r in reg.rows} == {"включено"}
    assert reg.rows[0].get("changed_on") == dt.date(2024, 2, 26)
    assert reg.info["short_name"] == "Служба гостехнадзора Калининградской области"
    assert reg.info.get("inn", "") == ""  # unknown: left empty, not invented
    assert reg.findings == []


def test_cell_addresses_are_kept(rules: Rules) -> None:
    reg = read_register(BUNDLED, rules)
    assert reg.columns["channel"] == "E"
    assert reg.cell("channel", reg.rows[6].number) == "E8"


def test_header_found_below_title_rows_and_normalised(make_workbook, rules: Rules, tmp_path: Path) -> None:
    p = make_workbook()
    wb = load_workbook(p)
    ws = wb["Перечень"]
    ws.insert_rows(1, 3)
    ws["A1"] = "Перечень точек взаимодействия с клиентом"
    ws["A2"] = "утверждён приказом от 26.02.2024 № 25-о"
    ws["E4"] = "ТИП\u00a0 ТОЧКИ"  # alias, other case, NBSP
    ws["S4"] = "Примечание"
    ws["T4"] = "Телефон для справок"  # unknown extra column -> warning only
    wb.save(p)
    reg = read_register(p, rules)
    assert reg.header_row == 4
    assert reg.columns["channel"] == "E"
    assert len(reg.rows) == 8
    codes = [f.code for f in reg.findings]
    assert codes == ["unknown-column"]
    assert reg.findings[0].cell == "T4"


def test_blank_rows_skipped_and_text_normalised(make_workbook, good_rows, rules: Rules) -> None:
    good_rows[0]["name"] = "  Система\u00a0электронного\u200b документооборота\u00ad Службы "
    p = make_workbook(good_rows)
    wb = load_workbook(p)
    ws = wb["Перечень"]
    ws.insert_rows(4, 2)  # two blank rows in the middle
    wb.save(p)
    reg = read_register(p, rules)
    assert len(reg.rows) == 8
    assert reg.rows[0].get("name") == "Система электронного документооборота Службы"
    assert reg.rows[0].raw("name").startswith("  Система")
    assert [r.number for r in reg.rows][:4] == [2, 3, 6, 7]


def test_mixed_script_flagged_but_not_latin_words(make_workbook, good_rows, rules: Rules) -> None:
    good_rows[1]["name"] = "Электрoнная почта Службы"  # Latin o
    good_rows[2]["name"] = "Чат-бот в Telegram"
    reg = read_register(make_workbook(good_rows), rules)
    mixed = [f for f in reg.findings if f.code == "mixed-script"]
    assert len(mixed) == 1
    assert mixed[0].cell == "D3"
    assert "Электрoнная" in mixed[0].message


def test_text_dates_and_1904(make_workbook, good_rows, rules: Rules) -> None:
    good_rows[0]["changed_on"] = "01.03.2024"
    p = make_workbook(good_rows)
    reg = read_register(p, rules)
    assert reg.rows[0].get("changed_on") == dt.date(2024, 3, 1)
    wb = load_workbook(p)
    wb.epoch = dt.datetime(1904, 1, 1)  # type: ignore[assignment]
    wb.save(p)
    reg = read_register(p, rules)
    assert reg.rows[1].get("changed_on") == dt.date(2024, 2, 26)


def test_missing_file_is_a_file_error(tmp_path: Path, rules: Rules) -> None:
    with pytest.raises(FileError) as e:
        read_register(tmp_path / "нет.xlsx", rules)
    assert e.value.code == "not_found"
    assert "нет.xlsx" in e.value.message


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_init_workbook_opens_in_libreoffice(tmp_path: Path, rules: Rules) -> None:
    from click.testing import CliRunner

    from perechen.cli import main

    p = tmp_path / "новый.xlsx"
    res = CliRunner().invoke(main, ["init", str(p)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "csv"
    proc = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                           "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), str(p)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    header = (out / "новый.csv").read_text("utf-8").splitlines()[0]
    assert header.split(",")[:5] == ["Код", "Направление деятельности", "Процесс",
                                     "Наименование точки взаимодействия", "Канал"]
    # Drop-downs read back.
    wb = load_workbook(p)
    ws = wb["Перечень"]
    lists = {str(dv.sqref).split(":")[0][:1]: dv.formula1 for dv in ws.data_validations.dataValidation
             if dv.type == "list"}
    assert lists["E"].startswith("'Справочники'!$A$2")
    assert set(lists) == {"E", "F", "G", "J", "K", "P"}
    assert "Инструкция" in wb.sheetnames and "Сведения" in wb.sheetnames
    # refuses to overwrite
    res = CliRunner().invoke(main, ["init", str(p)])
    assert res.exit_code == 2
    assert "--force" in res.output

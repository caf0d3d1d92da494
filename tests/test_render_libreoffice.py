"""The annotated copy opens in LibreOffice (headless conversion) and LibreOffice sees its drop-down lists."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from perechen.annotate import FILL_RGB
from perechen.models import Finding, Severity
from perechen.reader import read_register
from perechen.renderers.check import write_check_reports
from perechen.report import CheckReport
from perechen.rules import Rules
from tests.test_render import INJECTIONS, SHEET, flawed_workbook, run_reports

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:Unknown extension is not supported:UserWarning")]
CSV_UTF8 = "csv:Text - txt - csv (StarCalc):44,34,76,1"


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("soffice") is None:
        if os.environ.get("PERECHEN_REQUIRE_SERVERS") == "1":
            pytest.fail("LibreOffice (soffice) обязателен, но не найден", pytrace=False)
        pytest.skip("нет LibreOffice (soffice)")
    return tmp_path_factory.mktemp("lo-profile")


def convert(src: Path, fmt: str, outdir: Path, profile: Path) -> Path:
    """``soffice --headless --convert-to`` with a private profile; returns the converted file."""
    outdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", fmt, "--outdir", str(outdir), str(src)],
                          capture_output=True, text=True, timeout=180, check=False)
    ext = fmt.split(":", 1)[0]
    out = outdir / f"{src.stem}.{ext}"
    assert proc.returncode == 0 and out.is_file(), f"LibreOffice could not open {src.name}: {proc.stderr[-2000:]}"
    return out


def test_libreoffice_opens_the_copy_and_keeps_drop_downs(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                         rules: Rules, tmp_path: Path, lo_profile: Path) -> None:
    report = run_reports(flawed_workbook(make_workbook, good_rows), rules, tmp_path / "out")
    copy = report.files["xlsx"]
    # CSV of the first sheet: the findings list, with formula-like text kept as text.
    with convert(copy, CSV_UTF8, tmp_path / "csv", lo_profile).open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["Уровень", "Правило", "Источник правила", "Ячейка"]
    assert len(rows) == len(report.findings) + 1
    assert ["ошибка", "required", "п. 2.1.2 Порядка", "Перечень!D3"] in [r[:4] for r in rows]
    assert INJECTIONS[3] in [r[4] for r in rows]  # "@SUM(A1:A2)" stays text, not a formula result
    # Saved again by LibreOffice: its own validation lists, the x14 list, fills and comments are all there.
    again = openpyxl.load_workbook(convert(copy, "xlsx", tmp_path / "xlsx", lo_profile))
    ws = again[SHEET]
    lists = {str(d.sqref): (d.formula1 or "") for d in ws.data_validations.dataValidation if d.type == "list"}
    assert "S2:S50" in lists and "Справочники" in lists["S2:S50"] and "$A$2:$A$4" in lists["S2:S50"]
    assert any(sq.startswith("E2:E") for sq in lists)  # Канал: the workbook's own drop-down
    assert ws["D3"].fill.fgColor.rgb.endswith(FILL_RGB[Severity.ERROR][2:])
    assert ws["D3"].comment is not None and "required" in ws["D3"].comment.text
    assert again.sheetnames[0] == "Замечания"


def test_libreoffice_saved_workbook_can_be_annotated(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                     rules: Rules, tmp_path: Path, lo_profile: Path) -> None:
    """A workbook last saved by LibreOffice (shared strings, its own styles and views) as the input."""
    lo_saved = convert(flawed_workbook(make_workbook, good_rows), "xlsx", tmp_path / "lo", lo_profile)
    report = run_reports(lo_saved, rules, tmp_path / "out")
    assert "xlsx" in report.files, report.files["html"].read_text("utf-8")
    wb = openpyxl.load_workbook(report.files["xlsx"])
    assert wb[SHEET]["E5"].comment is not None
    rows = list(csv.reader(convert(report.files["xlsx"], CSV_UTF8, tmp_path / "csv", lo_profile)
                           .open(encoding="utf-8", newline="")))
    assert len(rows) == len(report.findings) + 1


def test_libreoffice_opens_a_copy_with_merged_comments_and_many_cells(tmp_path: Path, rules: Rules,
                                                                      lo_profile: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "xw.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    cols = rules.schema.columns
    for j, c in enumerate(cols):
        ws.write_string(0, j, c.header)
    for i in range(1, 300):
        for j, c in enumerate(cols):
            ws.write_string(i, j, f"{c.field} {i}")
    ws.write_comment("B3", "Комментарий клерка")
    ws.data_validation("K2:K400", {"validate": "list", "source": ["да", "нет"]})
    wb.close()
    reg = read_register(path, rules)
    findings = [Finding("x", Severity.ERROR if i % 2 else Severity.WARNING, "2.1", f"Замечание {i}", sheet=SHEET,
                        cell=f"{'ABCDEFGHIJ'[i % 10]}{2 + (i * 7) % 320}", row=2 + (i * 7) % 320) for i in range(1200)]
    findings.append(Finding("x", Severity.ERROR, "2.1", "К комментарию клерка", sheet=SHEET, cell="B3", row=3))
    report = CheckReport(workbook=str(path), rows=len(reg.rows), findings=findings, register=reg)
    write_check_reports(report, rules, tmp_path / "out")
    again = openpyxl.load_workbook(convert(report.files["xlsx"], "xlsx", tmp_path / "lo", lo_profile))
    s = again[SHEET]
    assert s["B3"].comment is not None and "Комментарий клерка" in s["B3"].comment.text
    assert "К комментарию клерка" in s["B3"].comment.text
    assert [str(d.sqref) for d in s.data_validations.dataValidation if d.type == "list"] == ["K2:K400"]
    assert again["Замечания"].max_row == len(findings) + 1

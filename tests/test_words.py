"""Issue 11 item 19: the information severity has its own word, not «сведения» (the name of the sheet «Сведения»)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]


def test_info_severity_is_not_called_svedeniya(tmp_path: Path) -> None:
    wb = tmp_path / "perechen.xlsx"
    book = openpyxl.load_workbook(ROOT / "workbook" / "perechen.xlsx")
    sheet = max(book.worksheets, key=lambda ws: ws.max_row)
    sheet.row_dimensions[3].hidden = True  # hidden-rows: an information finding
    book.save(wb)
    run = subprocess.run([sys.executable, "-m", "perechen", "check", str(wb), "--report-dir", str(tmp_path / "r")],
                         capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    info_lines = [line for line in run.stdout.splitlines() if "hidden-rows" in line]
    assert info_lines, run.stdout
    assert all(line.split()[0] == "справочно" for line in info_lines), info_lines
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert ">справочно<" in html
    assert ">сведения<" not in html

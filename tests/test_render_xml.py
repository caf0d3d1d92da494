"""The zip/XML surgery of the annotated copy on package variants other writers produce."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from perechen.annotate import FILL_RGB, annotate_workbook, annotated_name, findings_sheet
from perechen.annotate.ooxml import CT_MACRO_WB
from perechen.annotate.sheet import SheetXml
from perechen.models import Finding, Severity
from perechen.reader import read_register
from perechen.renderers.check import write_check_reports
from perechen.report import CheckReport
from perechen.rules import Rules
from tests.test_render import SHEET, rewrite_part, run_reports

pytestmark = pytest.mark.filterwarnings("ignore:Unknown extension is not supported:UserWarning")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _prefix_main(data: bytes) -> bytes:
    """Write every element of the main namespace with an ``x:`` prefix (as some .NET generators do)."""
    text = data.decode("utf-8")
    text = text.replace(f'xmlns="{MAIN}"', f'xmlns:x="{MAIN}"', 1)
    text = re.sub(r"<(/?)([A-Za-z_][\w.-]*)(?=[\s/>])", r"<\1x:\2", text)
    return text.encode("utf-8")


def _findings() -> list[Finding]:
    return [
        Finding("a", Severity.ERROR, "2.1", "Ошибка в существующей ячейке.", sheet=SHEET, cell="B3", row=3),
        Finding("b", Severity.WARNING, "2.2", "Ячейки нет в строке.", sheet=SHEET, cell="Z4", row=4),
        Finding("c", Severity.INFO, None, "Строки нет.", sheet=SHEET, cell="A3000", row=3000),
        Finding("d", Severity.WARNING, None, "Перед первой ячейкой.", sheet="Сведения", cell="A1"),
    ]


def _check(path: Path) -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    assert ws["B3"].fill.fgColor.rgb == FILL_RGB[Severity.ERROR]
    assert ws["Z4"].fill.fgColor.rgb == FILL_RGB[Severity.WARNING]
    assert ws["A3000"].fill.fgColor.rgb == FILL_RGB[Severity.INFO]
    assert "Ошибка в существующей ячейке." in ws["B3"].comment.text
    assert wb.sheetnames[0] == "Замечания"
    return wb


def test_prefixed_namespace_parts(make_workbook: Any, tmp_path: Path) -> None:
    path = make_workbook()
    for part in ("xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet3.xml", "xl/styles.xml"):
        rewrite_part(path, part, _prefix_main)
    data, notes = annotate_workbook(path.read_bytes(), _findings())
    assert notes == []
    out = tmp_path / "a.xlsx"
    out.write_bytes(data)
    _check(out)
    z = zipfile.ZipFile(out)
    assert b"<x:legacyDrawing" in z.read("xl/worksheets/sheet1.xml")
    assert b"<x:sheet " in z.read("xl/workbook.xml")
    styles = z.read("xl/styles.xml")
    assert b"<fill>" not in styles and b"<x:fill>" in styles


def test_rows_without_numbers_are_left_unpainted_with_a_note(make_workbook: Any, tmp_path: Path) -> None:
    path = make_workbook()
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda d: re.sub(rb'(<row) r="\d+"', rb"\1", d))
    data, notes = annotate_workbook(path.read_bytes(), _findings())
    assert len(notes) == 1 and "Перечень" in notes[0] and "без номеров" in notes[0]
    out = tmp_path / "a.xlsx"
    out.write_bytes(data)
    wb = openpyxl.load_workbook(out)
    assert wb["Замечания"].max_row == len(_findings()) + 1
    assert wb["Сведения"]["A1"].fill.fgColor.rgb == FILL_RGB[Severity.WARNING]


def test_empty_sheet_data(make_workbook: Any, tmp_path: Path) -> None:
    path = make_workbook()
    rewrite_part(path, "xl/worksheets/sheet3.xml",
                 lambda d: re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData/>", d, flags=re.S))
    data, notes = annotate_workbook(path.read_bytes(), _findings())
    assert notes == []
    out = tmp_path / "a.xlsx"
    out.write_bytes(data)
    ws = openpyxl.load_workbook(out)["Сведения"]
    assert ws["A1"].fill.fgColor.rgb == FILL_RGB[Severity.WARNING]
    assert ws["A1"].comment is not None


def test_annotating_an_annotated_copy(make_workbook: Any, rules: Rules, tmp_path: Path) -> None:
    first = run_reports(make_workbook(), rules, tmp_path / "one", extra=_findings())
    again = tmp_path / "again.xlsx"
    again.write_bytes(first.files["xlsx"].read_bytes())
    second = run_reports(again, rules, tmp_path / "two", extra=_findings())
    wb = openpyxl.load_workbook(second.files["xlsx"])
    assert wb.sheetnames[:2] == ["Замечания (2)", "Замечания"]
    text = wb[SHEET]["B3"].comment.text
    assert text.count("Ошибка в существующей ячейке.") == 2  # appended to the earlier note
    z = zipfile.ZipFile(second.files["xlsx"])
    comments = [n for n in z.namelist() if "comments" in n]
    assert len(comments) == 2  # «Перечень» and «Сведения», each merged, none duplicated
    authors = re.findall(rb"<author>([^<]*)</author>", z.read(comments[0]))
    assert authors == [b"perechen"]


def test_macro_workbook_keeps_its_extension(tmp_path: Path) -> None:
    ct = CT_MACRO_WB.encode()
    path = tmp_path / "книга.xlsm"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", b'<Types><Override PartName="/xl/workbook.xml" ContentType="' + ct
                   + b'"/></Types>')
    assert annotated_name(path, path.read_bytes()) == "замечания-книга.xlsm"
    assert annotated_name(Path("a.xlsx"), b"") == "замечания-a.xlsx"


def test_calc_chain_is_dropped(make_workbook: Any, tmp_path: Path) -> None:
    path = make_workbook()
    calc_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
    calc_rt = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
    rewrite_part(path, "[Content_Types].xml", lambda d: d.replace(
        b"</Types>", f'<Override PartName="/xl/calcChain.xml" ContentType="{calc_ct}"/></Types>'.encode()))
    rewrite_part(path, "xl/_rels/workbook.xml.rels", lambda d: d.replace(
        b"</Relationships>", f'<Relationship Id="rId99" Type="{calc_rt}" Target="calcChain.xml"/>'
                             "</Relationships>".encode()))
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/calcChain.xml", f'<calcChain xmlns="{MAIN}"><c r="A1" i="1"/></calcChain>')
    data, _ = annotate_workbook(path.read_bytes(), _findings())
    out = tmp_path / "a.xlsx"
    out.write_bytes(data)
    z = zipfile.ZipFile(out)
    assert "xl/calcChain.xml" not in z.namelist()
    assert b"calcChain" not in z.read("[Content_Types].xml")
    assert b"calcChain" not in z.read("xl/_rels/workbook.xml.rels")
    _check(out)


def test_app_xml_titles_are_updated(tmp_path: Path, rules: Rules) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "x.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    for j, c in enumerate(rules.schema.columns):
        ws.write_string(0, j, c.header)
        ws.write_string(1, j, "значение")
    wb.add_worksheet("Сведения")
    wb.close()
    reg = read_register(path, rules)
    report = CheckReport(workbook=str(path), rows=1, findings=_findings()[:1], register=reg)
    write_check_reports(report, rules, tmp_path)
    app = zipfile.ZipFile(report.files["xlsx"]).read("docProps/app.xml").decode()
    assert "<vt:i4>3</vt:i4>" in app
    assert re.search(r'<vt:vector size="3" baseType="lpstr"><vt:lpstr>Замечания</vt:lpstr>', app)


def test_findings_list_is_capped_at_the_sheet_size(make_workbook: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(findings_sheet, "MAX_LIST_ROWS", 3)
    data, _ = annotate_workbook(make_workbook().read_bytes(), _findings())
    out = tmp_path / "a.xlsx"
    out.write_bytes(data)
    rows = list(openpyxl.load_workbook(out)["Замечания"].iter_rows(values_only=True))
    assert len(rows) == 1 + 2 + 1
    assert rows[-1][5] == "… и ещё 2 замечания: полный список — в report.json."


def test_row_patcher_inserts_cells_and_rows_in_order() -> None:
    xml = (f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><dimension ref="B2:D5"/>'
           '<cols><col min="3" max="3" width="9" style="7" customWidth="1"/></cols><sheetData>'
           '<row r="2" spans="2:4"><c r="B2" s="1"><v>1</v></c><c r="D2"><v>2</v></c></row>'
           '<row r="5" s="4" customFormat="1"/>'
           '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
           "</worksheet>").encode()
    sx = SheetXml(xml, "sheet.xml")
    err, warn = Severity.ERROR, Severity.WARNING
    sx.paint({2: {0: err, 1: warn, 2: err, 3: warn, 5: err}, 3: {2: warn}, 5: {0: err}, 9: {1: warn}},
             lambda base, sev: 100 + base * 2 + (sev is warn))
    sx.fix_dimension()
    out = sx.result().decode()
    assert ('<row r="2"><c r="A2" s="100"/><c r="B2" s="103"><v>1</v></c><c r="C2" s="114"/>'
            '<c r="D2" s="101"><v>2</v></c><c r="F2" s="100"/></row>') in out  # spans dropped, C uses col style 7
    assert '<row r="3"><c r="C3" s="115"/></row><row r="5" s="4" customFormat="1"><c r="A5" s="108"/></row>' in out
    assert out.index('<row r="5"') < out.index('<row r="9"><c r="B9" s="101"/></row>') < out.index("</sheetData>")
    assert '<dimension ref="A2:F9"/>' in out
    import defusedxml.ElementTree as ET

    ET.fromstring(out.encode())  # still well-formed


def test_empty_sheet_relationships_part(make_workbook: Any, tmp_path: Path) -> None:
    path = make_workbook()
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/worksheets/_rels/sheet1.xml.rels", f'<Relationships xmlns="{rels}"/>')
    data, notes = annotate_workbook(path.read_bytes(), _findings())
    assert notes == []
    out = tmp_path / "a.xlsx"
    out.write_bytes(data)
    _check(out)


def test_a_sheet_that_cannot_be_annotated_leaves_no_dangling_parts(make_workbook: Any, tmp_path: Path) -> None:
    """A legacy drawing whose part is missing: that sheet is skipped, nothing half-written remains."""
    path = make_workbook()
    r_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda d: d.replace(
        b"</worksheet>", f'<legacyDrawing xmlns:r="{r_ns}" r:id="rIdGone"/></worksheet>'.encode()))
    data, notes = annotate_workbook(path.read_bytes(), _findings())
    assert len(notes) == 1 and "рисунок примечаний" in notes[0]
    out = tmp_path / "a.xlsx"
    out.write_bytes(data)
    z = zipfile.ZipFile(out)
    ct = z.read("[Content_Types].xml").decode()
    for part in re.findall(r'PartName="/([^"]+)"', ct):
        assert part in z.namelist(), f"content type for a missing part {part}"
    wb = openpyxl.load_workbook(out)
    assert wb[SHEET]["B3"].comment is None
    assert wb["Сведения"]["A1"].comment is not None  # the other sheet is still annotated

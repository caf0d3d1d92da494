"""Report files of `perechen check`: the annotated copy of the workbook and the HTML page (no browser here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from perechen.annotate import FILL_RGB, annotate_workbook
from perechen.annotate.ooxml import EXCEL_TEXT_LIMIT, xml_text
from perechen.cells import col_letter, parse_ref
from perechen.models import Finding, Register, Severity
from perechen.presentation import more_text
from perechen.reader import read_register
from perechen.renderers.check import render_html, write_check_reports
from perechen.report import CheckReport
from perechen.rules import Rules

pytestmark = pytest.mark.filterwarnings("ignore:Unknown extension is not supported:UserWarning")

SHEET = "Перечень"
RED, YELLOW, BLUE = (FILL_RGB[s] for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
X14_URI = "{CCE6A557-97BC-4b89-ADB5-D2B6B4E0B1E0}"
X14_LIST = ('<extLst><ext uri="' + X14_URI + '" '
            'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
            '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
            '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
            "<x14:formula1><xm:f>'Справочники'!$A$2:$A$4</xm:f></x14:formula1>"
            "<xm:sqref>S2:S50</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>")
PAYLOAD = '<script>window.__pwned=1</script><img src="x" alt="" onerror="window.__pwned=2">'
INJECTIONS = ['=HYPERLINK("http://evil.example/","нажмите")', "+7(4012)00-00-00", "-1+2", "@SUM(A1:A2)",
              "=1+2"]


# --------------------------------------------------------------------------------------------------
# Building inputs
# --------------------------------------------------------------------------------------------------

def rewrite_part(path: Path, part: str, fn: Any) -> None:
    """Rewrite one part of a zip in place (test inputs only)."""
    zin = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                data = fn(data)
            z.writestr(info, data)
    path.write_bytes(out.getvalue())


def plant_x14_list(path: Path, part: str = "xl/worksheets/sheet1.xml") -> None:
    """An Excel 2010 drop-down list (x14 extension), which openpyxl drops on load-and-save."""
    rewrite_part(path, part, lambda d: d.replace(b"</worksheet>", X14_LIST.encode() + b"</worksheet>"))


def flawed_workbook(make_workbook: Any, rows: list[dict[str, Any]]) -> Path:
    """A register with mistakes the reader finds, formula-like text and an x14 drop-down list."""
    rows[1]["name"] = "Электрoнная почта Службы"  # Latin «o»: mixed-script at D3
    for i, text in enumerate(INJECTIONS[:3]):
        rows[2 + i]["note"] = text  # S4, S5, S6
    path = make_workbook(rows, name="перечень-с-ошибками.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    ws["T1"] = "Лишний столбец"  # unknown column
    ws["E5"] = "#N/A"  # an error value (openpyxl writes it as t="e")
    wb.save(path)
    plant_x14_list(path)
    return path


def hand_findings(reg: Register) -> list[Finding]:
    """Findings a rule would produce, built by hand (checks.py is someone else's)."""
    return [
        Finding("required", Severity.ERROR, "2.1.2", "Не заполнено «Наименование точки».", sheet=SHEET, cell="D3",
                row=3, column="D", field="name", value="Электрoнная почта Службы"),
        Finding("needs-other", Severity.ERROR, "2.5", "Укажите иные потребности " + PAYLOAD, sheet=SHEET,
                cell="I4", row=4, column="I", field="other_needs", value=INJECTIONS[3]),
        Finding("stale-draft", Severity.INFO, "5.4", "Строка давно на проверке.", sheet=SHEET, cell="P7", row=7,
                column="P", field="status", value=dt.date(2024, 2, 26)),
        # a cell that does not exist in an existing row, and a row that does not exist at all
        Finding("extra", Severity.WARNING, None, "Ячейка вне таблицы _x0041_ \x07 конец", sheet=SHEET, cell="U5",
                row=5, column="U", value="_x0041_"),
        Finding("far", Severity.WARNING, "2.1", "Строка далеко внизу.", sheet=SHEET, cell="C2600", row=2600,
                column="C", value=None),
        # another sheet, a whole row, the whole workbook, a sheet that does not exist
        Finding("info-field", Severity.WARNING, "5.1", "Не указан ИНН.", sheet="Сведения", cell="B4", row=4,
                value=None),
        Finding("no-key", Severity.ERROR, "2.2", "В направлении нет ключевой точки.", sheet=SHEET, cell=None,
                row=6),
        Finding("workbook-open", Severity.INFO, None, "Книга открыта у пользователя «Иванов».", value=None),
        Finding("ghost", Severity.WARNING, None, "Лист не существует.", sheet="Нет такого листа", cell="A1"),
        Finding("injected", Severity.WARNING, "2.1", INJECTIONS[4], sheet=SHEET, cell="S8", row=8, column="S",
                value=INJECTIONS[4]),
    ]


def run_reports(path: Path, rules: Rules, out: Path, extra: list[Finding] | None = None) -> CheckReport:
    reg = read_register(path, rules)
    findings = sorted([*reg.findings, *(extra if extra is not None else hand_findings(reg))],
                      key=lambda f: f.sort_key())
    report = CheckReport(workbook=str(path), rows=len(reg.rows), findings=findings, register=reg, report_dir=out)
    out.mkdir(parents=True, exist_ok=True)
    write_check_reports(report, rules, out)
    return report


def sheet_xml(path: Path, name: str) -> bytes:
    """The XML of the sheet called ``name`` (resolved through workbook.xml and its rels)."""
    z = zipfile.ZipFile(path)
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    m = re.search(r'<sheet\b[^>]*name="' + re.escape(name) + r'"[^>]*r:id="([^"]+)"', wb)
    assert m, f"sheet {name} not in workbook.xml"
    t = re.search(r'<Relationship\b[^>]*Id="' + m.group(1) + r'"[^>]*>', rels)
    assert t
    target = re.search(r'Target="([^"]+)"', t.group(0))
    assert target
    part = target.group(1).lstrip("/")
    part = part if part.startswith("xl/") else "xl/" + part
    return z.read(part)


@pytest.fixture
def flawed(make_workbook: Any, good_rows: list[dict[str, Any]]) -> Path:
    return flawed_workbook(make_workbook, good_rows)


@pytest.fixture
def annotated(flawed: Path, rules: Rules, tmp_path: Path) -> tuple[Path, CheckReport]:
    report = run_reports(flawed, rules, tmp_path / "out")
    return report.files["xlsx"], report


# --------------------------------------------------------------------------------------------------
# The annotated copy
# --------------------------------------------------------------------------------------------------

def test_files_are_named_and_recorded(annotated: tuple[Path, CheckReport]) -> None:
    path, report = annotated
    assert path.name == "замечания-перечень-с-ошибками.xlsx"
    assert report.files["html"].name == "report.html"
    assert path.parent == report.report_dir
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".")], "temporary files left behind"
    assert zipfile.ZipFile(path).testzip() is None  # every member's CRC checks out


def test_reader_findings_are_the_expected_ones(annotated: tuple[Path, CheckReport]) -> None:
    _, report = annotated
    cells = {(f.code, f.cell) for f in report.findings}
    assert {("mixed-script", "D3"), ("unknown-column", "T1"), ("error-value", "E5")} <= cells


def test_flagged_cells_are_filled_by_worst_severity(annotated: tuple[Path, CheckReport]) -> None:
    path, _ = annotated
    ws = openpyxl.load_workbook(path)[SHEET]
    expected = {"D3": RED,  # warning (mixed-script) and error (required): the error wins
                "E5": RED, "I4": RED, "T1": YELLOW, "U5": YELLOW, "C2600": YELLOW, "S8": YELLOW, "P7": BLUE}
    for ref, rgb in expected.items():
        c = ws[ref]
        assert c.fill.fill_type == "solid", ref
        assert c.fill.fgColor.rgb == rgb, ref
    for ref in ("A2", "D4", "E3", "S4"):
        assert ws[ref].fill.fill_type in (None, "none"), ref
    # the cell keeps its own format apart from the fill (border, wrapping)
    assert ws["D3"].border.left.style == "thin"
    assert ws["D3"].alignment.wrap_text
    openpyxl_other = openpyxl.load_workbook(path)["Сведения"]
    assert openpyxl_other["B4"].fill.fgColor.rgb == YELLOW


def test_comments_carry_every_message(annotated: tuple[Path, CheckReport]) -> None:
    path, report = annotated
    ws = openpyxl.load_workbook(path)[SHEET]
    d3 = ws["D3"].comment
    assert d3 is not None and d3.author == "perechen"
    assert "Не заполнено «Наименование точки»." in d3.text
    assert "mixed-script" in d3.text and "required" in d3.text
    assert "п. 2.1.2" in d3.text
    assert d3.text.index("Ошибка") < d3.text.index("Предупреждение")
    for f in report.findings:
        if f.sheet == SHEET and f.cell and f.code != "ghost":
            c = ws[f.cell].comment
            assert c is not None and f.code in c.text, f.cell
    assert PAYLOAD in ws["I4"].comment.text  # as text, escaped in the XML
    # Excel's own escapes: a literal «_x0041_» is protected, a control character is written as _xHHHH_
    assert "_x005F_x0041_ _x0007_ конец" in ws["U5"].comment.text
    assert ws["A2"].comment is None


def test_values_and_other_sheets_are_unchanged(flawed: Path, annotated: tuple[Path, CheckReport]) -> None:
    path, _ = annotated
    before = openpyxl.load_workbook(flawed)
    after = openpyxl.load_workbook(path)
    assert after.sheetnames == ["Замечания", *before.sheetnames]
    for name in before.sheetnames:
        b, a = before[name], after[name]
        vb = [[c.value for c in row] for row in b.iter_rows(max_row=b.max_row, max_col=b.max_column)]
        va = [[c.value for c in row] for row in a.iter_rows(max_row=b.max_row, max_col=b.max_column)]
        assert va == vb, name
        assert a.freeze_panes == b.freeze_panes
        assert [str(r) for r in a.merged_cells.ranges] == [str(r) for r in b.merged_cells.ranges]
    # parts nobody needed to touch are byte-identical
    zb, za = zipfile.ZipFile(flawed), zipfile.ZipFile(path)
    for part in ("xl/worksheets/sheet2.xml", "xl/worksheets/sheet4.xml", "xl/theme/theme1.xml"):
        assert za.read(part) == zb.read(part), part


def test_findings_sheet_lists_everything_with_links(annotated: tuple[Path, CheckReport]) -> None:
    path, report = annotated
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Замечания"
    assert wb.active.title == SHEET  # the clerk's own active sheet stays active
    ws = wb["Замечания"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Уровень", "Правило", "Источник правила", "Ячейка", "Текущее значение", "Замечание",
                       "Ответственный")
    assert len(rows) == len(report.findings) + 1
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:G{len(report.findings) + 1}"
    by_code = {r[1]: (i, r) for i, r in enumerate(rows[1:], start=2)}
    i, row = by_code["required"]
    assert row[0] == "ошибка" and row[2] == "п. 2.1.2 Порядка" and row[3] == "Перечень!D3"
    assert row[6] == "Начальник отдела организационной и кадровой работы"  # responsible of row 3
    assert ws[f"D{i}"].hyperlink.location == "'Перечень'!D3"
    assert ws[f"A{i}"].fill.fgColor.rgb == RED
    i, row = by_code["stale-draft"]
    assert row[4] == "26.02.2024"
    i, row = by_code["info-field"]
    assert ws[f"D{i}"].hyperlink.location == "'Сведения'!B4"
    assert row[6] is None  # row 4 of «Сведения» is nobody's register row
    i, row = by_code["no-key"]
    assert row[3] == "Перечень!6:6" and ws[f"D{i}"].hyperlink.location == "'Перечень'!A6"
    i, row = by_code["workbook-open"]
    assert row[3] is None and ws[f"D{i}"].hyperlink is None
    i, row = by_code["ghost"]
    assert ws[f"D{i}"].hyperlink is None  # no link to a sheet that is not there


def test_formula_like_text_stays_text(annotated: tuple[Path, CheckReport]) -> None:
    path, _ = annotated
    xml = sheet_xml(path, "Замечания")
    assert b"<f>" not in xml and b"<f " not in xml
    ws = openpyxl.load_workbook(path)["Замечания"]
    texts = {c.value for row in ws.iter_rows() for c in row if c.value is not None}
    for payload in INJECTIONS[3:]:  # a finding's value and message
        assert payload in texts, payload
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value[:1] in "=+-@":
                assert c.data_type == "s", c.coordinate
    # the register's own formula-like notes are untouched text as well
    reg = openpyxl.load_workbook(path)[SHEET]
    for ref, payload in zip(("S4", "S5", "S6"), INJECTIONS, strict=False):
        assert reg[ref].value == payload and reg[ref].data_type == "s", ref


def test_drop_down_lists_survive(flawed: Path, annotated: tuple[Path, CheckReport]) -> None:
    path, _ = annotated
    before = openpyxl.load_workbook(flawed)[SHEET].data_validations.dataValidation
    after = openpyxl.load_workbook(path)[SHEET].data_validations.dataValidation
    assert len(before) >= 5
    assert [(str(d.sqref), d.formula1, d.type) for d in after] == [(str(d.sqref), d.formula1, d.type)
                                                                   for d in before]
    xml_before = sheet_xml(flawed, SHEET)
    xml_after = sheet_xml(path, SHEET)
    assert X14_LIST.encode() in xml_after  # the x14 list, byte for byte
    dv = lambda x: re.search(rb"<dataValidations\b.*?</dataValidations>", x, re.S).group(0)  # noqa: E731
    assert dv(xml_after) == dv(xml_before)
    assert xml_after.rstrip().endswith(X14_LIST.encode() + b"</worksheet>")  # extLst stays the last child
    assert xml_after.index(b"<legacyDrawing") < xml_after.index(b"<extLst>")


def test_master_bytes_are_unchanged(master_copy: Path, rules: Rules, tmp_path: Path) -> None:
    before = hashlib.sha256(master_copy.read_bytes()).hexdigest()
    report = run_reports(master_copy, rules, tmp_path / "out")
    assert hashlib.sha256(master_copy.read_bytes()).hexdigest() == before
    assert report.files["xlsx"].parent == tmp_path / "out"
    ws = openpyxl.load_workbook(report.files["xlsx"])[SHEET]
    assert ws["D3"].fill.fgColor.rgb == RED


def test_clean_register_gets_an_empty_list(make_workbook: Any, rules: Rules, tmp_path: Path) -> None:
    report = run_reports(make_workbook(), rules, tmp_path / "out", extra=[])
    wb = openpyxl.load_workbook(report.files["xlsx"])
    rows = list(wb["Замечания"].iter_rows(values_only=True))
    assert rows[1][0] == "Замечаний нет."
    html = report.files["html"].read_text("utf-8")
    assert "Ошибок нет." in html


def test_existing_comments_validation_and_names_are_merged(tmp_path: Path, rules: Rules) -> None:
    """A workbook written by another tool (xlsxwriter: shared strings, its own comments, a print area,
    a sheet already called «Замечания», sheet-local names)."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    cols = rules.schema.columns
    path = tmp_path / "чужая книга.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    notes = wb.add_worksheet("Замечания")
    notes.write_string(0, 0, "Старые заметки ответственного")
    ws = wb.add_worksheet(SHEET)
    for j, c in enumerate(cols):
        ws.write_string(0, j, c.header)
    for i in range(1, 40):
        for j, c in enumerate(cols):
            ws.write_string(i, j, f"{c.field} {i}")
    ws.write_comment("B3", "Комментарий клерка: уточнить направление")
    ws.write_comment("C10", "Второй комментарий клерка")
    ws.data_validation("K2:K100", {"validate": "list", "source": ["да", "нет"]})
    ws.print_area("A1:D20")
    ws.activate()
    wb.define_name(f"'{SHEET}'!Local", f"='{SHEET}'!$A$1")
    info = wb.add_worksheet("Сведения")
    info.write_string(0, 0, "Поле")
    wb.close()
    reg = read_register(path, rules)
    findings = [
        Finding("x", Severity.ERROR, "2.2", "Сообщение к ячейке с комментарием клерка.", sheet=SHEET, cell="B3",
                row=3),
        Finding("y", Severity.WARNING, None, "Новая ячейка.", sheet=SHEET, cell="E20", row=20),
        Finding("z", Severity.INFO, None, "Строка вне данных.", sheet=SHEET, cell="A200", row=200),
    ]
    report = CheckReport(workbook=str(path), rows=len(reg.rows), findings=findings, register=reg)
    write_check_reports(report, rules, tmp_path)
    out = openpyxl.load_workbook(report.files["xlsx"])
    assert out.sheetnames == ["Замечания (2)", "Замечания", SHEET, "Сведения"]
    assert out.active.title == SHEET
    assert out["Замечания"]["A1"].value == "Старые заметки ответственного"
    s = out[SHEET]
    assert s["B3"].comment.text.startswith("Комментарий клерка: уточнить направление")
    assert "Сообщение к ячейке с комментарием клерка." in s["B3"].comment.text
    assert s["C10"].comment.text == "Второй комментарий клерка"
    assert "Новая ячейка." in s["E20"].comment.text
    assert s["A200"].fill.fgColor.rgb == BLUE
    assert s.print_area == f"'{SHEET}'!$A$1:$D$20"  # the sheet-local name moved with its sheet
    assert [str(d.sqref) for d in s.data_validations.dataValidation] == ["K2:K100"]
    assert s["E20"].value == "channel 19" and s["B3"].value == "area 2"
    # one VML drawing for the sheet, with unique shape ids
    z = zipfile.ZipFile(report.files["xlsx"])
    vml = [n for n in z.namelist() if n.endswith(".vml")]
    assert len(vml) == 1
    ids = re.findall(rb'id="(_x0000_s\d+)"', z.read(vml[0]))
    assert len(ids) == len(set(ids)) == 4


def test_cells_are_found_without_bisection_mistakes(tmp_path: Path, rules: Rules) -> None:
    """Every cell of a longer sheet, one by one and all together, ends up flagged at the right place."""
    from tests.test_render_speed import big_register

    reg, findings = big_register(rules, 3000, tmp_path / "big.xlsx", flagged=0.02)
    data, notes = annotate_workbook(reg.data, findings, register=reg)
    assert notes == []
    p = tmp_path / "a.xlsx"
    p.write_bytes(data)
    ws = openpyxl.load_workbook(p)[SHEET]
    flagged = {f.cell: f.severity for f in findings}
    for row in ws.iter_rows(min_row=2, max_row=reg.rows[-1].number):
        for c in row:
            want = flagged.get(c.coordinate)
            got = c.fill.fgColor.rgb if c.fill.fill_type == "solid" else None
            if want is not None:
                assert got == FILL_RGB[want], c.coordinate
            else:
                assert got not in FILL_RGB.values(), c.coordinate
            assert (c.comment is not None) == (want is not None), c.coordinate
    before = openpyxl.load_workbook(tmp_path / "big.xlsx", read_only=True)[SHEET]
    after = openpyxl.load_workbook(p, read_only=True)[SHEET]
    assert [r for r in before.iter_rows(values_only=True)] == [r for r in after.iter_rows(values_only=True)]


def test_xml_text_escapes() -> None:
    assert xml_text('a<b>&"c"') == "a&lt;b&gt;&amp;&quot;c&quot;"
    assert xml_text("_x0041_") == "_x005F_x0041_"
    assert xml_text("bell\x07") == "bell_x0007_"
    assert xml_text("a\r\nb") == "a\nb"
    assert len(xml_text("я" * 40_000)) == EXCEL_TEXT_LIMIT
    assert parse_ref("$F$7") == (7, 5) and parse_ref("F7:G8") is None
    assert col_letter(26) == "AA"


def test_broken_package_gives_a_note_not_a_crash(flawed: Path, rules: Rules, tmp_path: Path) -> None:
    reg = read_register(flawed, rules)
    reg.data = reg.data[:200]  # truncated zip
    report = CheckReport(workbook=str(flawed), rows=len(reg.rows), findings=list(reg.findings), register=reg)
    write_check_reports(report, rules, tmp_path)
    assert "xlsx" not in report.files
    assert "Книга с замечаниями не создана" in report.files["html"].read_text("utf-8")


# --------------------------------------------------------------------------------------------------
# The HTML page (structure; the browser tests are in test_render_browser.py)
# --------------------------------------------------------------------------------------------------

def test_html_is_self_contained_and_escaped(annotated: tuple[Path, CheckReport]) -> None:
    _, report = annotated
    html = report.files["html"].read_text("utf-8")
    assert html.startswith("<!doctype html>")
    assert '<html lang="ru">' in html
    assert re.search(r"<title>[^<]+</title>", html)
    assert not re.search(r"<\s*(?:script|img|iframe|object|embed|svg)\b", html, re.I)
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.I)  # no event-handler attribute in any tag
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # no external resources
    assert "<link" not in html and "@import" not in html
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        assert "<caption>" in table
        for th in re.findall(r"<th\b[^>]*>", table):
            assert 'scope="' in th
    assert 'href="%D0%B7%D0%B0%D0%BC' in html  # the link to the annotated copy, percent-encoded
    assert "Начальник отдела организационной и кадровой работы" in html
    assert "Найдены ошибки" in html


def test_html_groups_are_capped(make_workbook: Any, rules: Rules, tmp_path: Path) -> None:
    path = make_workbook()
    reg = read_register(path, rules)
    findings = [Finding("required", Severity.ERROR, "2.1.2", f"Сообщение {i}", sheet=SHEET, cell=f"B{2 + i % 8}",
                        row=2 + i % 8) for i in range(130)]
    report = CheckReport(workbook=str(path), rows=len(reg.rows), findings=findings, register=reg)
    html = render_html(report, rules, limit=50)
    assert "… и ещё 80 замечаний" in html  # by rule: 130 - 50
    assert html.count("Сообщение ") <= 3 * 50  # one rule group and two persons, 50 each
    assert "не больше 50 замечаний" in html


def test_plural() -> None:
    assert more_text(1) == "… и ещё 1 замечание"
    assert more_text(3) == "… и ещё 3 замечания"
    assert more_text(11) == "… и ещё 11 замечаний"
    assert more_text(22) == "… и ещё 22 замечания"


def test_terminal_output_keeps_sheets_apart() -> None:
    from perechen.report import render_text

    findings = [Finding("a", Severity.ERROR, "2.1", "в перечне", sheet=SHEET, cell="B4", row=4),
                Finding("b", Severity.WARNING, "5.1", "в сведениях", sheet="Сведения", cell="B4", row=4)]
    text = render_text(CheckReport("x.xlsx", 3, findings))
    assert "Строка 4 (лист «Перечень»)\n  ошибка     B4 в перечне" in text
    assert "Строка 4 (лист «Сведения»)\n  предупреждение     B4 в сведениях" in text

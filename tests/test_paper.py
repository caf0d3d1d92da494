"""Paper (issue 13 §5): «Замечания» of the annotated copy, the published .xlsx, diff.xlsx and the compliance
report print on A4 landscape, fitted to the page width, with the header row repeated on every page.

Each file is read back with openpyxl (page setup, print titles) and printed to PDF by LibreOffice (headless):
a short list fits on one page.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from perechen import canonical, compliance, store
from perechen.diff import compare
from perechen.models import Finding, Severity
from perechen.opendata import Publication, actualisation_date, render_xlsx
from perechen.printing import a4_landscape
from perechen.reader import read_register
from perechen.renderers.diff import write_diff_reports
from perechen.rules import Rules
from tests.test_compliance import cal, journal  # noqa: F401 - fixtures
from tests.test_render import SHEET, run_reports
from tests.test_render_libreoffice import convert, lo_profile  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore:Unknown extension is not supported:UserWarning")
PDF = "pdf:calc_pdf_Export"
TODAY = dt.date(2026, 3, 2)


def assert_prints_a4_landscape_fitted(ws: Any, *, title_rows: str | None = "$1:$1") -> None:
    setup = ws.page_setup
    assert int(setup.paperSize) == 9, ws.title  # A4
    assert setup.orientation == "landscape", ws.title
    assert int(setup.fitToWidth) == 1 and int(setup.fitToHeight) == 0, ws.title
    assert ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert ws.print_title_rows == title_rows, ws.title


def pdf_pages(pdf: Path) -> int:
    """Pages of a PDF written by LibreOffice (its page objects are not in compressed object streams)."""
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
    assert pages and (not counts or max(counts) == pages)
    return pages


def to_pdf(xlsx: Path, tmp_path: Path, profile: Path) -> int:
    src = tmp_path / "pdf-src" / xlsx.name
    src.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(xlsx, src)
    return pdf_pages(convert(src, PDF, tmp_path / "pdf", profile))


def two_findings() -> list[Finding]:
    long = "Не заполнено обязательное поле; заполните его по п. 2.1.2 Порядка. " * 3
    return [
        Finding("required", Severity.ERROR, "2.1.2", long, sheet=SHEET, cell="D3", row=3, column="D", field="name",
                value="Электронная почта Службы"),
        Finding("stale-draft", Severity.WARNING, "5.4", "Строка давно на проверке.", sheet=SHEET, cell="P7", row=7,
                column="P", field="status", value="на проверке"),
    ]


# --------------------------------------------------------------------------------------------------
# The annotated copy's «Замечания»
# --------------------------------------------------------------------------------------------------

def test_findings_sheet_print_setup_and_title_row(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                  rules: Rules, tmp_path: Path) -> None:
    report = run_reports(make_workbook(good_rows), rules, tmp_path / "out", extra=two_findings())
    wb = openpyxl.load_workbook(report.files["xlsx"])
    ws = wb["Замечания"]
    assert_prints_a4_landscape_fitted(ws)
    assert ws.print_titles == "'Замечания'!$1:$1"
    # The clerk's own sheets keep their print settings (no print titles were added there).
    assert wb[SHEET].print_title_rows is None


def test_findings_sheet_keeps_the_clerks_print_titles(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                      rules: Rules, tmp_path: Path) -> None:
    path = make_workbook(good_rows)
    wb = openpyxl.load_workbook(path)
    wb[SHEET].print_title_rows = "1:1"
    wb.save(path)
    report = run_reports(path, rules, tmp_path / "out", extra=two_findings())
    copy = openpyxl.load_workbook(report.files["xlsx"])
    assert copy.sheetnames[0] == "Замечания"
    assert copy["Замечания"].print_title_rows == "$1:$1"
    assert copy[SHEET].print_title_rows == "$1:$1"  # its localSheetId moved with the sheet


@pytest.mark.slow
def test_two_findings_print_on_one_page(make_workbook: Any, good_rows: list[dict[str, Any]], rules: Rules,
                                        tmp_path: Path, lo_profile: Path) -> None:  # noqa: F811
    path = make_workbook(good_rows)
    report = run_reports(path, rules, tmp_path / "out", extra=two_findings())
    # Only «Замечания» is new (fills and notes do not print): the copy prints one page more than the book.
    assert to_pdf(report.files["xlsx"], tmp_path / "a", lo_profile) - to_pdf(path, tmp_path / "b", lo_profile) == 1


@pytest.mark.slow
def test_a_long_findings_list_repeats_the_header_on_every_page(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                               rules: Rules, tmp_path: Path,
                                                               lo_profile: Path) -> None:  # noqa: F811
    many = [Finding("stale-draft", Severity.WARNING, "5.4", f"Замечание {i}.", sheet=SHEET, cell=f"P{i + 2}",
                    row=i + 2, column="P") for i in range(120)]
    report = run_reports(make_workbook(good_rows), rules, tmp_path / "out", extra=many)
    src = tmp_path / "one" / "copy.xlsx"
    src.parent.mkdir()
    wb = openpyxl.load_workbook(report.files["xlsx"])
    for name in wb.sheetnames[1:]:  # print «Замечания» alone, as LibreOffice lays it out
        del wb[name]
    wb.save(src)
    assert openpyxl.load_workbook(src)["Замечания"].print_title_rows == "$1:$1"
    # One page wide: 121 rows on a few pages (unfitted, the seven columns would take two pages across).
    assert 2 <= pdf_pages(convert(src, PDF, tmp_path / "pdf", lo_profile)) <= 4


# --------------------------------------------------------------------------------------------------
# diff.xlsx, the published .xlsx, the compliance report
# --------------------------------------------------------------------------------------------------

def _two_changes(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]], out: Path) -> Path:
    new = [dict(r) for r in good_rows]
    included = [r for r in new if r.get("status") == canonical.INCLUDED]
    for r in included[:2]:
        r["name"] = f"{r['name']} (новое наименование)"
        r["changed_on"] = dt.date(2026, 2, 25)
    base = store.load_baseline(make_workbook(good_rows), rules)
    report = compare(read_register(make_workbook(new), rules), rules, base, today=TODAY)
    assert len({c.code for c in report.changes}) == 2
    return write_diff_reports(report, rules, out)["xlsx"]


def test_diff_xlsx_print_setup(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]],
                               tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(_two_changes(rules, make_workbook, good_rows, tmp_path / "out"))
    assert_prints_a4_landscape_fitted(wb["Изменения"])
    assert_prints_a4_landscape_fitted(wb["Сводка"], title_rows=None)


def _small_publication(rules: Rules, good_rows: list[dict[str, Any]], good_info: dict[str, str]) -> Publication:
    canon = [canonical.canonical_row(r, rules) for r in good_rows]
    canon = [r for r in canon if r.get("status") == canonical.INCLUDED][:2]
    info = canonical.canonical_info(good_info, rules)
    data = {"rows": canon, "info": info, "fingerprint": canonical.fingerprint(canon, info),
            "schema_version": rules.schema.version}
    return Publication(rules=rules, data=data, updated=actualisation_date(canon, dt.date(2026, 1, 1)))


def test_published_xlsx_print_setup(rules: Rules, good_rows: list[dict[str, Any]], good_info: dict[str, str],
                                    tmp_path: Path) -> None:
    path = tmp_path / "perechen.xlsx"
    path.write_bytes(render_xlsx(_small_publication(rules, good_rows, good_info)))
    wb = openpyxl.load_workbook(path)
    assert_prints_a4_landscape_fitted(wb["Перечень"])
    assert_prints_a4_landscape_fitted(wb["Сведения"], title_rows=None)


def test_compliance_xlsx_print_setup(journal: Any, cal: Any, tmp_path: Path) -> None:  # noqa: F811
    rep = compliance.compute(journal, cal, 2026, today=dt.date(2026, 5, 6), agency="Служба")
    wb = openpyxl.load_workbook(compliance.write_reports(rep, tmp_path / "run")["xlsx"])
    assert_prints_a4_landscape_fitted(wb["Изменения 2026"])
    assert_prints_a4_landscape_fitted(wb["Итоги"], title_rows=None)


@pytest.mark.slow
def test_short_reports_print_one_page_per_sheet(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]],
                                                good_info: dict[str, str], journal: Any, cal: Any,  # noqa: F811
                                                tmp_path: Path, lo_profile: Path) -> None:  # noqa: F811
    diff_xlsx = _two_changes(rules, make_workbook, good_rows, tmp_path / "diff")
    published = tmp_path / "published" / "perechen.xlsx"
    published.parent.mkdir()
    published.write_bytes(render_xlsx(_small_publication(rules, good_rows, good_info)))
    rep = compliance.compute(journal, cal, 2026, today=dt.date(2026, 5, 6), agency="Служба")
    compliance_xlsx = compliance.write_reports(rep, tmp_path / "compliance")["xlsx"]
    # Two sheets each (the list and its summary): one page each.
    for xlsx in (published, compliance_xlsx):
        assert to_pdf(xlsx, tmp_path / xlsx.parent.name, lo_profile) == 2, xlsx.name
    # diff.xlsx puts old and new side by side: 43 columns, ~1,070 characters wide. Fitted to the width it needs
    # ~12 % zoom, below the least LibreOffice uses for «fit to width», so LibreOffice prints it two pages across
    # (unfitted: eight). «Сводка» is one page.
    assert to_pdf(diff_xlsx, tmp_path / "diff-pdf", lo_profile) <= 3


def test_helper_sets_a_write_only_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Лист")
    a4_landscape(ws, title_rows=2)
    ws.append(["a", "b"])
    wb.save(tmp_path / "x.xlsx")
    back = openpyxl.load_workbook(tmp_path / "x.xlsx")["Лист"]
    assert_prints_a4_landscape_fitted(back, title_rows="$1:$2")

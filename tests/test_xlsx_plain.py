"""perechen.xlsx_plain: the .xlsx written as SpreadsheetML directly (diff.xlsx, izmeneniya.xlsx) reads back in
openpyxl and LibreOffice with its values, types, styles, frozen corner, autofilter and print setup; text is never a
formula; every part is well-formed XML."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
from defusedxml import ElementTree as DET

from perechen import xlsx_plain
from tests.test_paper import assert_prints_a4_landscape_fitted
from tests.test_render_libreoffice import convert, lo_profile  # noqa: F401 - fixture

STYLES = [xlsx_plain.Style(bold=True), xlsx_plain.Style(), xlsx_plain.Style(fill="DCF2DF"),
          xlsx_plain.Style(date=True, wrap=False)]


def _book() -> bytes:
    table = xlsx_plain.Sheet("Изменения 'пример'", [12, 40, 10], [
        [("Код", 1), ("Наименование", 1), ("Строка", 1)],
        [("ТВ-01", 1), ('=HYPERLINK("http://example.invalid","x")', 3), (7, 2)],
        [("ТВ-02", 1), ("текст\x01 с управляющим символом & <угловыми>", 2), (2.5, 2)],
        [("ТВ-03", 1), ("", 3), (None, 0)],
        [("ТВ-04", 1), (dt.date(2026, 12, 6), 4), (None, 0)],
    ], freeze=(1, 1), autofilter=3)
    summary = xlsx_plain.Sheet("Сводка", [34, 90], [[("Изменений", 1), (3, 2)]], title_rows=0)
    return xlsx_plain.write([table, summary], STYLES, title="Проверка")


def test_values_types_and_styles_read_back() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(_book()))
    ws = wb["Изменения 'пример'"]
    assert ws["B2"].data_type == "s" and ws["B2"].value.startswith("=HYPERLINK")  # text, never a formula
    assert ws["B3"].value == "текст с управляющим символом & <угловыми>"
    assert ws["C2"].value == 7 and ws["C3"].value == 2.5
    assert ws["A2"].font.b and not ws["B3"].font.b
    assert ws["B2"].fill.fgColor.rgb == "FFDCF2DF" and ws["B3"].fill.fill_type is None
    assert ws["B2"].alignment.wrap_text and ws["B2"].alignment.vertical == "top"
    assert ws["B4"].value is None and ws["C4"].value is None
    assert ws["B5"].value == dt.datetime(2026, 12, 6) and ws["B5"].number_format == "DD.MM.YYYY"
    assert not ws["B5"].alignment.wrap_text
    assert ws.column_dimensions["B"].width == 40
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == "A1:C1"
    assert_prints_a4_landscape_fitted(ws)
    assert_prints_a4_landscape_fitted(wb["Сводка"], title_rows=None)
    assert wb["Сводка"]["B1"].value == 3


def test_every_part_is_well_formed_xml() -> None:
    with zipfile.ZipFile(io.BytesIO(_book())) as z:
        for name in z.namelist():
            DET.fromstring(z.read(name))


def test_libreoffice_opens_it(tmp_path: Path, lo_profile: Path) -> None:  # noqa: F811
    src = tmp_path / "plain.xlsx"
    src.write_bytes(_book())
    out = convert(src, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "csv", lo_profile)
    text = out.read_text(encoding="utf-8")
    assert "ТВ-01" in text and "HYPERLINK" in text and "угловыми" in text

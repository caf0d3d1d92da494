"""Property tests (hypothesis) over the reader and the whole check (issue 7, part 2).

Any cell values (control characters, any non-surrogate Unicode, huge and tiny numbers, dates, booleans),
any header order, aliases, blank rows: reading and checking never raise anything but the tool's own
errors, and what is read does not depend on the order of the columns.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from perechen.api import check_workbook
from perechen.cells import col_letter
from perechen.config import Config
from perechen.models import PerechenError
from perechen.reader import read_register
from perechen.reader.extent import _gt_digits, _gt_letters, check_extent
from perechen.reader.guards import _prolog_verdict
from perechen.reader.scan import scan_sheet_xml
from perechen.rules import Rules

SETTINGS = settings(max_examples=60, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
WILD_TEXT = st.one_of(
    TEXT,
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3F, blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["", " ", "\u00a0", "\u200b", "\ufeff", "=1+1", "#N/A", "#REF!", "NA", "да", "нет",
                     "26.02.2024", "31.02.2024", "2024-02-26", "ТВ-01", "Электрoнная", "Telegram", "a;b\nc",
                     "цифровая", "  ЦИФРОВАЯ ", "включено", "x" * 5000]),
)
NUMBER = st.one_of(st.integers(min_value=-(2**53), max_value=2**53),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 2958465.0, 2958466.0, 60.0, 0.5]))
DATE = st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31))
VALUE = st.one_of(st.none(), WILD_TEXT, NUMBER, DATE, st.booleans())


def _write(rules: Rules, header: list[str], rows: list[list[Any]], title_rows: int = 0, sheet: str = "Перечень",
           extra_sheets: int = 0) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    for k in range(extra_sheets):
        wb.add_worksheet(f"Лист{k + 1}").write_string(0, 0, "Справка")
    ws = wb.add_worksheet(sheet)
    datef = wb.add_format({"num_format": "dd.mm.yyyy"})
    for t in range(title_rows):
        ws.write_string(t, 0, f"Заголовок документа {t}")
    for j, h in enumerate(header):
        ws.write_string(title_rows, j, h)
    for i, row in enumerate(rows, start=title_rows + 1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            elif isinstance(v, dt.datetime):
                ws.write_datetime(i, j, v, datef)
            else:
                ws.write_string(i, j, v)
    wb.close()
    return buf.getvalue()


@st.composite
def registers(draw: st.DrawFn, rules: Rules, wild: bool = True) -> tuple[list[str], list[str], list[list[Any]]]:
    """(fields in column order, header texts, rows) with random order, aliases and blank rows."""
    cols = list(rules.schema.columns)
    fields = draw(st.permutations([c.field for c in cols]))
    keep = draw(st.integers(min_value=max(7, len(fields) - 6), max_value=len(fields)))
    fields = list(fields[:keep])
    by = {c.field: c for c in cols}
    header = []
    for f in fields:
        c = by[f]
        h = draw(st.sampled_from([c.header, *c.aliases]))
        h = draw(st.sampled_from([h, h.upper(), h.lower(), f" {h}\u00a0", h.replace("е", "ё"), h.replace(" ", "\n")]))
        header.append(h)
    n = draw(st.integers(min_value=0, max_value=12))
    rows = []
    for _ in range(n):
        if draw(st.integers(0, 5)) == 0:
            rows.append([None] * len(fields))  # a blank row
            continue
        row = [draw(VALUE if wild else st.one_of(st.none(), TEXT)) for _ in fields]
        rows.append(row)
    return fields, header, rows


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return Config(base_dir=tmp_path_factory.mktemp("cfg"))


@SETTINGS
@given(data=st.data())
def test_any_register_reads_and_checks_or_fails_cleanly(data: st.DataObject, rules: Rules, tmp_path: Path,
                                                        config: Config) -> None:
    fields, header, rows = data.draw(registers(rules))
    title_rows = data.draw(st.integers(0, 3))
    extra = data.draw(st.integers(0, 2))
    p = tmp_path / "перечень.xlsx"
    p.write_bytes(_write(rules, header, rows, title_rows=title_rows, extra_sheets=extra))
    try:
        reg = read_register(p, rules)
    except PerechenError as e:
        assert e.code != "reader_bug", e.message
        return
    assert reg.header_row == title_rows + 1
    try:
        report = check_workbook(p, config, rules=rules, register=reg, write_reports=False, today=dt.date(2026, 11, 30))
    except PerechenError as e:
        assert e.code != "reader_bug", e.message
        return
    for f in report.findings:
        assert isinstance(f.message, str) and f.message
        assert f.cell is None or re.fullmatch(r"[A-Z]{1,3}\d+", f.cell)
    for r in reg.rows:
        assert set(r.values) == set(fields)
        for v in r.values.values():
            assert v is None or isinstance(v, (str, dt.date, int, float)), type(v)
            if isinstance(v, str):
                assert v == v.strip() and v


@SETTINGS
@given(data=st.data())
def test_column_order_does_not_change_what_is_read(data: st.DataObject, rules: Rules, tmp_path: Path) -> None:
    fields, header, rows = data.draw(registers(rules, wild=False))
    assume(rows)
    # Every written row has a code, so no row is blank.
    code_j = fields.index("code") if "code" in fields else None
    assume(code_j is not None)
    assert code_j is not None
    for k, row in enumerate(rows):
        row[code_j] = f"ТВ-{k:03d}"
    order = data.draw(st.permutations(range(len(fields))))
    p1, p2 = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    p1.write_bytes(_write(rules, header, rows))
    p2.write_bytes(_write(rules, [header[j] for j in order], [[row[j] for j in order] for row in rows]))
    r1, r2 = read_register(p1, rules), read_register(p2, rules)
    assert len(r1.rows) == len(rows)
    assert [r.values for r in r1.rows] == [r.values for r in r2.rows]
    assert sorted((f.code, f.row, f.field) for f in r1.findings if f.code != "unknown-column") == \
        sorted((f.code, f.row, f.field) for f in r2.findings if f.code != "unknown-column")


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 10**7), m=st.integers(0, 10**8), zeros=st.integers(0, 2))
def test_gt_digits_regex(n: int, m: int, zeros: int) -> None:
    assert (re.fullmatch(_gt_digits(n), b"0" * zeros + str(m).encode()) is not None) == (m > n)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 16_384), m=st.integers(1, 18_278))
def test_gt_letters_regex(n: int, m: int) -> None:
    assert (re.fullmatch(_gt_letters(n), col_letter(m - 1).encode()) is not None) == (m > n)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300), final=st.booleans())
def test_prolog_verdict_total(raw: bytes, final: bool) -> None:
    assert _prolog_verdict(raw, final) in {"ok", "dtd", None}


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from(["", "<?xml version='1.0'?>", "<!-- c -->", "\ufeff", "  \n"]),
       dtd=st.booleans(), utf16=st.booleans())
def test_prolog_verdict_finds_dtd(prefix: str, dtd: bool, utf16: bool) -> None:
    doc = prefix + ("<!DOCTYPE x [<!ENTITY a 'b'>]>" if dtd else "") + "<worksheet/>"
    raw = doc.encode("utf-16-le") if utf16 else doc.encode("utf-8")
    if utf16 and not doc.startswith("\ufeff"):
        raw = b"\xff\xfe" + raw
    assert _prolog_verdict(raw, True) == ("dtd" if dtd else "ok")


XML_BITS = st.sampled_from([
    b'<c r="A1"><v>1</v></c>', b'<c r="XFD1048576"><v>1</v></c>', b"<c><v>1</v></c>", b'<row r="5">', b"</row>",
    b"<row>", b'<c r="B2" t="e"><v>#N/A</v></c>', b'<c r="C3"><f>1+1</f></c>', b'<mergeCell ref="A1:B2"/>',
    b'<row r="9" hidden="1">', b'<c r="A1" s="1"/>', b'<x:c r="A2"><x:v>2</x:v></x:c>', b"<", b">", b'"', b't="e"',
    b"<f", b"<v>", b"</c>", b"<is><t>x</t></is>", b'r="', b"<autoFilter/>"])


@settings(max_examples=300, deadline=None)
@given(bits=st.lists(XML_BITS, max_size=40), junk=st.binary(max_size=40))
def test_raw_scans_never_crash(bits: list[bytes], junk: bytes, rules: Rules) -> None:
    xml = b"<worksheet><sheetData>" + b"".join(bits) + junk + b"</sheetData></worksheet>"
    scan_sheet_xml(xml)
    try:
        check_extent(xml, "Лист", Path("x.xlsx"), rules)
    except PerechenError as e:
        assert e.code == "sheet_too_large"


CELL_MARKUP = st.sampled_from([
    '<c r="{L}{n}"><v>1</v></c>', '<row r="{n}"><c r="{L}{n}"><v>1</v></c></row>', '<c r="{L}{n}" s="1"/>',
    "<row>", '<row r="{n}">', "</row>", '<row r="{n}"/>', "<row/>", "<c><v>1</v></c>", '<c r="{L}{n}"><v>1</v></c>',
    "<c/>", '<c r="{L}{n}"/>', "<c></c>", '<c t="inlineStr"><is><t>x</t></is></c>', "<c r='{L}{n}'><v>1</v></c>",
    '<c r="{L}{n}" r="{L}{n}"><v>1</v></c>', '<c r="{l}{n}"><v>1</v></c>', '<c r="{L}{n}"><v/></c>',
    '<c r="{L}{n}"><f>1</f></c>', '<c r="{L}{n}"><!-- --><v>1</v></c>', '<c r = "{L}{n}"><v> </v></c>'])


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.tuples(CELL_MARKUP, st.integers(1, 30), st.sampled_from("ABCDEFZ")), min_size=1,
                      max_size=16))
def test_exact_extent_never_below_calamine(parts: list[tuple[str, int, str]]) -> None:
    """The reader's model of where calamine puts cells (used for odd markup) is never smaller than
    what calamine really allocates: the guard in front of calamine cannot be bypassed this way."""
    import zipfile

    import python_calamine as pc

    from perechen.reader.extent import _positional_extent, _positional_extent_tokens

    sd = "".join(b.format(n=n, L=c, l=c.lower()) for b, n, c in parts)
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + sd + "</sheetData></worksheet>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                   '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    try:
        end = pc.CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0).end
    except Exception:
        return  # calamine refuses it: nothing is allocated
    if end is None:
        return
    for model in (_positional_extent, _positional_extent_tokens):  # expat (well-formed) and the tokenizer
        h, w, *_ = model(sd.encode())
        assert end[0] + 1 <= h and end[1] + 1 <= w, (model.__name__, sd, end, h, w)
    # And the guard as a whole, with small limits: whatever calamine would allocate beyond them is refused.
    small = _small_limits(rules_small())
    spec = small.schema
    max_row = spec.limits.max_rows + spec.register_spec.header_search_rows
    too_big = end[0] + 1 > max_row or end[1] + 1 > spec.limits.max_columns
    try:
        check_extent(sheet.encode(), "S", Path("x.xlsx"), small)
    except PerechenError:
        return
    assert not too_big, (sd, end)


def rules_small() -> Rules:
    return Rules.load(Path(__file__).resolve().parent.parent / "rules")


def _small_limits(rules: Rules) -> Rules:
    lim = rules.schema.limits.model_copy(update={"max_rows": 3, "max_columns": 4})
    spec = rules.schema.register_spec.model_copy(update={"header_search_rows": 2})
    schema = rules.schema.model_copy(update={"limits": lim, "register_spec": spec})
    return Rules(rules.directory, schema, rules.lists, rules.checks, rules.file_errors)

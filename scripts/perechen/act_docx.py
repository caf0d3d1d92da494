"""The draft of the act that approves the Перечень (п. 5.1) as a Word document (.docx, python-docx).

Laid out as Russian administrative documents are (ГОСТ Р 7.0.97-2016), see shared notes «approval-act»:

* requisites top to bottom: «ПРОЕКТ» (upper right), the issuing body's full name (from «Сведения»),
  «ПРИКАЗ», blanks for the date and the number, «г. Калининград», the title — «Об утверждении перечня
  точек взаимодействия с клиентом» for the first act, «О внесении изменений в перечень точек
  взаимодействия с клиентом» afterwards;
* a preamble citing п. 5.1 of the Порядок (приказ от 26.02.2024 № 25-о) ending «п р и к а з ы в а ю:»;
* numbered items: approve the Перечень in the appendix / make the changes listed in the appendix; place it
  on the official site (first placement: п. 5.2, no term; changes: within 10 working days, п. 5.4);
  control; then the signature block (post, space for the signature, initials and surname left blank);
* the appendix on a new landscape section, «Приложение к приказу от ___ № ___» in the upper right corner:
  the full Перечень as a table whose header row repeats on every page, or, for an amending act, the
  changes by case of п. 5.3 with the new wording of each changed row.

Typography: Times New Roman 14 pt (12 pt in tables), single spacing, first-line indent 1.25 cm, margins
30/10/20/20 mm (left/right/top/bottom), page numbers centred at the top from the second page.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from .text import ru_date

FONT = "Times New Roman"
TEXT_PT = 14
TABLE_PT = 12
PLACE = "г. Калининград"
ORDER_CITATION = ("Порядка ведения перечня точек взаимодействия с клиентом в рамках рассмотрения обращений и "
                  "запросов, утверждённого приказом от 26.02.2024 № 25-о (далее — Порядок)")
TITLE_APPROVE = "Об утверждении перечня точек взаимодействия с клиентом"
TITLE_AMEND = "О внесении изменений в перечень точек взаимодействия с клиентом"
SIGNATORY_POST = "Руководитель (директор)"
BLANK_DATE = "«___» ____________ 20___ г."
BLANK_NUMBER = "№ ______"
DEMO_MARK = "ДЕМОНСТРАЦИОННЫЙ ПРОЕКТ: составлен по учебному перечню, документом не является"

# The appendix table: (fields joined in one column, header). Headers of single fields come from the schema.
APPENDIX_COLUMNS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("code",), None),
    (("area",), None),
    (("process",), None),
    (("name",), None),
    (("channel", "kind"), "Канал, вид точки"),
    (("clients",), None),
    (("needs", "other_needs"), "Удовлетворяемые потребности"),
    (("key",), None),
    (("basis",), None),
)
_WIDTHS_CM = (1.0, 2.0, 2.8, 3.4, 3.6, 2.6, 2.4, 4.0, 1.7, 3.7)  # № + the columns; sums to ~27 cm

CASE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("added", "Включить в перечень точки взаимодействия (подпункт 5.3.1 Порядка — появление новой точки "
              "взаимодействия):"),
    ("kind_changed", "Изложить в новой редакции сведения о точках взаимодействия, вид которых изменился "
                     "(подпункт 5.3.2 Порядка):"),
    ("needs_changed", "Изложить в новой редакции сведения о точках взаимодействия, удовлетворяемые потребности "
                      "которых изменились (подпункт 5.3.3 Порядка):"),
    ("edited", "Изложить в новой редакции уточнённые сведения о точках взаимодействия (изменения, не относящиеся "
               "к случаям пункта 5.3 Порядка):"),
    ("excluded", "Исключить из перечня точки взаимодействия (подпункт 5.3.4 Порядка):"),
)


@dataclass
class ActContent:
    """What the act says. ``rows`` are canonical rows (:mod:`perechen.store`); ``changes`` maps a case of
    п. 5.3 (``added`` … ``excluded``, ``edited``) to the rows concerned in their new wording (for
    ``excluded``: the row as it was published)."""

    kind: str  # "approve" (first act) or "amend"
    agency: str
    headers: Mapping[str, str]  # field -> column header (rules.schema)
    rows: Sequence[Mapping[str, Any]] = ()
    changes: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    previous_act: str | None = None  # «приказом от 08.12.2026 № 31-о» — the act being amended
    site: str = ""
    keeper: str = ""
    demo: bool = False

    @property
    def title(self) -> str:
        return TITLE_APPROVE if self.kind == "approve" else TITLE_AMEND

    def items(self) -> list[str]:
        """The numbered items of the text (without numbers)."""
        site = f" ({self.site})" if self.site else ""
        who = f" Ответственный — {self.keeper}." if self.keeper else ""
        if self.kind == "approve":
            first = "Утвердить перечень точек взаимодействия с клиентом согласно приложению к настоящему приказу."
            place = ("Разместить утверждённый перечень в электронной форме на официальном сайте" + site
                     + " (пункт 5.2 Порядка)." + who)
        else:
            approved = f", утверждённый {self.previous_act}," if self.previous_act else ""
            first = (f"Внести в перечень точек взаимодействия с клиентом{approved} изменения согласно приложению к "
                     "настоящему приказу.")
            place = ("Разместить актуальную версию перечня в электронной форме на официальном сайте" + site
                     + " в течение 10 рабочих дней со дня внесения изменений (пункт 5.4 Порядка)." + who)
        return [first, place, "Контроль за исполнением настоящего приказа оставляю за собой."]


def cell_text(value: Any) -> str:
    """A canonical value as printed in the act: lists joined with «; », ISO dates as ДД.ММ.ГГГГ."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v not in (None, ""))
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return ru_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def row_cells(row: Mapping[str, Any]) -> list[str]:
    """The appendix columns of one row (fields joined in one column are joined with «, » / «; »)."""
    out = []
    for fields, _ in APPENDIX_COLUMNS:
        parts = [cell_text(row.get(f)) for f in fields]
        sep = "; " if "needs" in fields else ", "
        out.append(sep.join(p for p in parts if p))
    return out


def column_headers(headers: Mapping[str, str]) -> list[str]:
    return ["№ п/п"] + [h or headers.get(fs[0], fs[0]) for fs, h in APPENDIX_COLUMNS]


# ------------------------------------------------------------------------------------------------------------
# Building


def build_act(content: ActContent) -> bytes:
    """The .docx bytes of the draft act."""
    doc = Document()
    _base_style(doc)
    sec = doc.sections[0]
    _portrait(sec)
    sec.different_first_page_header_footer = True
    _page_number(sec.header.paragraphs[0])

    if content.demo:
        p = _para(doc, DEMO_MARK, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=12)
        p.paragraph_format.space_after = Pt(6)
    _para(doc, "ПРОЕКТ", align=WD_ALIGN_PARAGRAPH.RIGHT, size=12)
    _para(doc, content.agency.upper() if content.agency else "________________________________",
          align=WD_ALIGN_PARAGRAPH.CENTER, bold=True).paragraph_format.space_after = Pt(12)
    _para(doc, "ПРИКАЗ", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=16).paragraph_format.space_after = Pt(12)
    _blank_line(doc)
    _para(doc, PLACE, align=WD_ALIGN_PARAGRAPH.CENTER).paragraph_format.space_after = Pt(12)
    _para(doc, content.title, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True).paragraph_format.space_after = Pt(12)

    pre = _para(doc, f"В соответствии с пунктом 5.1 {ORDER_CITATION}, ", align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                indent=True)
    run = pre.add_run("п р и к а з ы в а ю:")
    run.bold = True
    for n, item in enumerate(content.items(), start=1):
        _para(doc, f"{n}. {item}", align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)
    _signature(doc)

    app = doc.add_section(WD_SECTION.NEW_PAGE)
    _landscape(app)
    app.different_first_page_header_footer = False
    ap = _para(doc, "Приложение\nк приказу от ____________ № ______", align=WD_ALIGN_PARAGRAPH.LEFT, size=TEXT_PT)
    ap.paragraph_format.left_indent = Cm(18.5)
    ap.paragraph_format.space_after = Pt(12)
    if content.kind == "approve":
        _para(doc, "Перечень точек взаимодействия с клиентом", align=WD_ALIGN_PARAGRAPH.CENTER,
              bold=True).paragraph_format.space_after = Pt(12)
        _table(doc, content.headers, content.rows)
    else:
        _para(doc, "Изменения, которые вносятся в перечень точек взаимодействия с клиентом",
              align=WD_ALIGN_PARAGRAPH.CENTER, bold=True).paragraph_format.space_after = Pt(12)
        n = 0
        for case, heading in CASE_SECTIONS:
            rows = list(content.changes.get(case) or [])
            if not rows:
                continue
            n += 1
            _para(doc, f"{n}. {heading}", align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True).paragraph_format.\
                space_before = Pt(6)
            _table(doc, content.headers, rows)
        if n == 0:
            _para(doc, "Изменений нет.", align=WD_ALIGN_PARAGRAPH.LEFT, indent=True)

    core = doc.core_properties
    core.title = content.title
    core.author = "perechen"
    core.language = "ru-RU"
    stamp = dt.datetime(2000, 1, 1)
    core.created = stamp
    core.modified = stamp
    core.last_modified_by = "perechen"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _base_style(doc: Any) -> None:
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(TEXT_PT)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "ru-RU")
    rpr.append(lang)
    pf = style.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing = 1.0


def _margins(sec: Any) -> None:
    sec.left_margin = Mm(30)
    sec.right_margin = Mm(10)
    sec.top_margin = Mm(20)
    sec.bottom_margin = Mm(20)
    sec.header_distance = Mm(10)


def _portrait(sec: Any) -> None:
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    _margins(sec)


def _landscape(sec: Any) -> None:
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Mm(297), Mm(210)
    _margins(sec)
    sec.left_margin = Mm(20)


def _para(doc: Any, text: str, *, align: Any, bold: bool = False, size: int | None = None,
          indent: bool = False) -> Any:
    p = doc.add_paragraph()
    p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Cm(1.25)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = p.add_run(xml_safe(line))
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if i < len(lines) - 1:
            run.add_break(WD_BREAK.LINE)
    return p


def _no_borders(table: Any) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _blank_line(doc: Any) -> None:
    """The date and number blanks: date on the left, number on the right (no borders)."""
    t = doc.add_table(rows=1, cols=2)
    _no_borders(t)
    left, right = t.rows[0].cells
    left.paragraphs[0].add_run(BLANK_DATE)
    right.paragraphs[0].add_run(BLANK_NUMBER)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()


def _signature(doc: Any) -> None:
    doc.add_paragraph()
    doc.add_paragraph()
    t = doc.add_table(rows=1, cols=2)
    _no_borders(t)
    left, right = t.rows[0].cells
    left.paragraphs[0].add_run(SIGNATORY_POST)
    right.paragraphs[0].add_run("И.О. Фамилия")
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _page_number(p: Any) -> None:
    """A PAGE field, centred (the first page of the first section has its own empty header)."""
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        if kind is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    run.font.size = Pt(12)


def _table(doc: Any, headers: Mapping[str, str], rows: Sequence[Mapping[str, Any]]) -> None:
    """The appendix table: the header row through python-docx, the data rows as WordprocessingML built in one
    pass (python-docx's per-cell API takes minutes for 10,000 rows; this takes seconds)."""
    heads = column_headers(headers)
    table = doc.add_table(rows=1, cols=len(heads))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    head_row = table.rows[0]
    tr_pr = head_row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    widths = [round(w * 567) for w in _WIDTHS_CM]  # cm → twentieths of a point (dxa)
    for cell, text, width in zip(head_row.cells, heads, widths, strict=True):
        _cell(cell, text, bold=True, center=True)
        cell.width = Cm(width / 567)
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.w = Cm(width / 567)
    tbl = table._tbl
    chunk: list[str] = []
    for n, row in enumerate(rows, start=1):
        chunk.append(_row_xml([str(n), *row_cells(row)], widths))
        if len(chunk) == 500:
            _append_rows(tbl, chunk)
            chunk = []
    if chunk:
        _append_rows(tbl, chunk)


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RUN_PR = f'<w:rPr><w:sz w:val="{TABLE_PT * 2}"/><w:szCs w:val="{TABLE_PT * 2}"/></w:rPr>'


def _row_xml(texts: Sequence[str], widths: Sequence[int]) -> str:
    cells = []
    for text, width in zip(texts, widths, strict=True):
        t = escape(xml_safe(text)).replace("\n", '</w:t><w:br/><w:t xml:space="preserve">')
        cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p><w:r>{_RUN_PR}'
                     f'<w:t xml:space="preserve">{t}</w:t></w:r></w:p></w:tc>')
    return "<w:tr><w:trPr><w:cantSplit/></w:trPr>" + "".join(cells) + "</w:tr>"


def _append_rows(tbl: Any, rows_xml: list[str]) -> None:
    wrapper = parse_xml(f'<w:tbl xmlns:w="{_W_NS}">' + "".join(rows_xml) + "</w:tbl>")
    for tr in list(wrapper):
        tbl.append(tr)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text without the control characters XML cannot hold (a stray one in a cell must not break the act)."""
    return _NOT_XML.sub("", text)


def _cell(cell: Any, text: str, *, bold: bool = False, center: bool = False) -> None:
    p = cell.paragraphs[0]
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(xml_safe(text))
    run.font.size = Pt(TABLE_PT)
    run.bold = bold

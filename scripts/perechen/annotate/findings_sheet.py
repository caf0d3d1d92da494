"""The «Замечания» sheet: the first sheet of the annotated copy, every finding with a link to its cell."""

from __future__ import annotations

from collections.abc import Sequence

from ..cells import CELL_REF, col_letter, quote_sheet
from ..models import Finding, Severity
from ..presentation import Responsible, finding_value, more_text
from ..printing import PAGE_SETUP, SHEET_PR_FIT_TO_PAGE, print_title_rows
from .ooxml import NS_MAIN, NS_R, XML_DECL, xml_text
from .package import Package
from .parts import Book
from .styles import Styles

FINDINGS_SHEET = "Замечания"
MAX_LIST_ROWS = 1_048_575  # data rows of an Excel sheet below the header
LABELS = {sev: sev.label for sev in Severity}


FINDINGS_COLUMNS: list[tuple[str, float]] = [
    ("Уровень", 16), ("Правило", 22), ("Источник правила", 22), ("Ячейка", 18), ("Текущее значение", 40),
    ("Замечание", 90), ("Ответственный", 30),
]


def add_findings_sheet(pkg: Package, book: Book, styles: Styles, findings: Sequence[Finding],
                        default_sheet: str | None, responsible: Responsible) -> None:
    name = book.free_sheet_name(FINDINGS_SHEET)
    known = {s.name for s in book.sheets}
    header_s = styles.named("header")
    text_s = styles.named("text")
    link_s = styles.named("link")
    sev_s = {sev: styles.named(f"sev-{sev.value}") for sev in Severity}
    ncols = len(FINDINGS_COLUMNS)
    last_col = col_letter(ncols - 1)

    def cell(ref: str, s: int, text: str) -> str:
        if not text:
            return f'<c r="{ref}" s="{s}"/>'
        return f'<c r="{ref}" s="{s}" t="inlineStr"><is><t xml:space="preserve">{xml_text(text)}</t></is></c>'

    rows: list[bytes] = []
    links: list[bytes] = []
    hdr = "".join(cell(f"{col_letter(j)}1", header_s, h) for j, (h, _) in enumerate(FINDINGS_COLUMNS))
    rows.append(f'<row r="1">{hdr}</row>'.encode())
    sev_cells = {sev: f' s="{sev_s[sev]}" t="inlineStr"><is><t xml:space="preserve">{LABELS[sev]}</t></is></c>'
                 for sev in Severity}
    text_open = f' s="{text_s}" t="inlineStr"><is><t xml:space="preserve">'
    link_open = f' s="{link_s}" t="inlineStr"><is><t xml:space="preserve">'
    close = "</t></is></c>"
    empty = f' s="{text_s}"/>'
    rn = 1
    listed = findings if len(findings) <= MAX_LIST_ROWS else findings[:MAX_LIST_ROWS - 1]
    quoted = {name: quote_sheet(name) for name in known}
    x = xml_text
    short: dict[str, str] = {}  # codes, clauses, names: few distinct values

    def xs(text: str) -> str:
        e = short.get(text)
        if e is None:
            e = short[text] = x(text)
        return e

    for f in listed:
        rn += 1
        cell_ref = f.cell
        sheet = f.sheet or (default_sheet if cell_ref else None)
        if sheet and cell_ref:
            where = f"{sheet}!{cell_ref}"
        elif sheet and f.row:
            where = f"{sheet}!{f.row}:{f.row}"
        else:
            where = f.location or ""
        xw = x(where)
        target = cell_ref if cell_ref and CELL_REF.match(cell_ref) else (f"A{f.row}" if f.row else None)
        if sheet in quoted and target:
            links.append(f'<hyperlink ref="D{rn}" location="{x(quoted[sheet] + "!" + target)}" display="{xw}"/>'
                         .encode())
            where_open = link_open
        else:
            where_open = text_open
        value = finding_value(f)
        who = responsible.of(f)
        clause = f.citation
        rows.append((
            f'<row r="{rn}"><c r="A{rn}"{sev_cells[f.severity]}<c r="B{rn}"{text_open}{xs(f.rule)}{close}'
            + (f'<c r="C{rn}"{text_open}{xs(clause)}{close}' if clause else f'<c r="C{rn}"{empty}')
            + (f'<c r="D{rn}"{where_open}{xw}{close}' if where else f'<c r="D{rn}"{empty}')
            + (f'<c r="E{rn}"{text_open}{x(value)}{close}' if value else f'<c r="E{rn}"{empty}')
            + f'<c r="F{rn}"{text_open}{x(f.message)}{close}'
            + (f'<c r="G{rn}"{text_open}{xs(who)}{close}</row>' if who else f'<c r="G{rn}"{empty}</row>')
        ).encode())
    if not findings:
        rn += 1
        rows.append(f'<row r="2">{cell("A2", text_s, "Замечаний нет.")}</row>'.encode())
    elif len(listed) < len(findings):
        rn += 1
        rest = f"{more_text(len(findings) - len(listed))}: полный список — в report.json."
        rows.append(f'<row r="{rn}">{cell(f"F{rn}", text_s, rest)}</row>'.encode())
    cols = "".join(f'<col min="{j + 1}" max="{j + 1}" width="{w}" customWidth="1"/>'
                   for j, (_, w) in enumerate(FINDINGS_COLUMNS))
    ref = f"A1:{last_col}{rn}"
    head = "".join([
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">',
        f'<sheetPr><tabColor rgb="FFC00000"/>{SHEET_PR_FIT_TO_PAGE}</sheetPr>',
        f'<dimension ref="{ref}"/>',
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols}</cols>",
        "<sheetData>",
    ]).encode()
    tail = (f'</sheetData><autoFilter ref="{ref}"/>'.encode()
            + (b"<hyperlinks>" + b"".join(links) + b"</hyperlinks>" if links else b"")
            + b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            + PAGE_SETUP.encode() + b"</worksheet>")
    xml = b"".join([XML_DECL, head, *rows, tail])
    book.add_first_sheet(name, xml, f"{quote_sheet(name)}!$A$1:${last_col}${rn}",
                         print_titles=print_title_rows(quote_sheet(name)))

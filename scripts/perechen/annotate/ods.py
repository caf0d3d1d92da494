"""The annotated copy of an OpenDocument register (.ods): the same marks as the .xlsx copy (see the package doc).

Only content.xml and styles.xml change; every other part of the clerk's file is copied byte for byte. In content.xml:

- each flagged cell of the register gets the severity's background (a new automatic cell style that copies
  the cell's own style — borders, wrapping, date format stay) and an ``office:annotation`` with the
  findings, the way LibreOffice stores a comment; a cell inside a run of repeated rows/cells
  (``number-rows-repeated`` / ``number-columns-repeated``) is first split out of the run;
- a first table «Замечания» lists every finding (level, rule, clause, cell as a link to it, current value,
  message, responsible person), its header row repeated on every printed page; it prints on A4 landscape,
  fitted to the page width (issue 13 §5): its table style names a master page perechen adds to styles.xml
  (a page layout A4 landscape, ``style:scale-to-X="1"``, ``style:scale-to-Y="0"``); the clerk's own tables
  keep their page styles.

content.xml is parsed with defusedxml (no DTD, no entities) and written back with its own namespace
prefixes, so LibreOffice, Р7-Офис, МойОфис and the reader's own guard (which matches literal prefixes)
read it as before.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from ..cells import parse_ref
from ..errors import describe
from ..models import SEVERITY_ORDER, CodedError, Finding, Severity

ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xlink": "http://www.w3.org/1999/xlink",
    "loext": "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0",
}
FILL = {Severity.ERROR: "#ff9c9c", Severity.WARNING: "#ffeb84", Severity.INFO: "#bdd7ee"}
AUTHOR = "perechen"
FINDINGS_TABLE = "Замечания"
PRINT_STYLE = "perechen-a4-landscape"
#: A4 landscape, 1 cm margins, fitted to one page wide and as many pages tall as needed (ODF 1.3 scale-to-X/Y;
#: LibreOffice also reads its own loext: spelling of them).
PAGE_PROPS = {"fo:page-width": "29.7cm", "fo:page-height": "21cm", "style:print-orientation": "landscape",
              "fo:margin-top": "1cm", "fo:margin-bottom": "1cm", "fo:margin-left": "1cm", "fo:margin-right": "1cm",
              "style:scale-to-X": "1", "style:scale-to-Y": "0", "loext:scale-to-X": "1", "loext:scale-to-Y": "0"}
COLUMNS: list[tuple[str, str]] = [("Уровень", "3cm"), ("Правило", "4.5cm"), ("Источник правила", "3.5cm"),
                                  ("Ячейка", "3.5cm"), ("Текущее значение", "8cm"), ("Замечание", "16cm"),
                                  ("Ответственный", "6cm")]
MAX_LIST_ROWS = 100_000
_XMLNS = re.compile(rb"""\sxmlns:([A-Za-z_][\w.-]*)\s*=\s*["']([^"']*)["']""")


class OdsAnnotateError(CodedError):
    """The .ods package cannot be annotated (the message is Russian, for the report)."""

    default_code = "annotate_failed"


def is_ods(data: bytes | None) -> bool:
    """Whether the bytes are an OpenDocument spreadsheet (a zip whose mimetype says so)."""
    if not data or data[:4] != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read("mimetype")[:len(ODS_MIME)] == ODS_MIME
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return False


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


T_TABLE, T_ROW, T_CELL, T_COVERED = _q("table:table"), _q("table:table-row"), _q("table:table-cell"), \
    _q("table:covered-table-cell")
A_NAME, A_STYLE = _q("table:name"), _q("table:style-name")
A_ROWS_REP, A_COLS_REP = _q("table:number-rows-repeated"), _q("table:number-columns-repeated")
_ROW_CONTAINERS = {_q("table:table-row-group"), _q("table:table-header-rows"), _q("table:table-rows")}


def _reps(el: ET.Element, attr: str) -> int:
    v = el.get(attr)
    return int(v) if v is not None and v.isdigit() and 0 < int(v) < 10**7 else 1


def _split(parent: ET.Element, el: ET.Element, attr: str, offset: int) -> ET.Element:
    """Cut the element at ``offset`` (0-based) out of a run of ``attr`` repeats; return that single element."""
    n = _reps(el, attr)
    if n == 1:
        return el
    idx = list(parent).index(el)
    pieces: list[ET.Element] = []
    if offset > 0:
        before = copy.deepcopy(el)
        before.set(attr, str(offset))
        pieces.append(before)
    single = copy.deepcopy(el)
    single.attrib.pop(attr, None)
    pieces.append(single)
    if n - offset - 1 > 0:
        after = copy.deepcopy(el)
        after.set(attr, str(n - offset - 1))
        pieces.append(after)
    parent.remove(el)
    for k, p in enumerate(pieces):
        parent.insert(idx + k, p)
    return single


def _rows(container: ET.Element) -> list[tuple[ET.Element, ET.Element]]:
    """(parent, row) in document order, through row groups and header rows."""
    out: list[tuple[ET.Element, ET.Element]] = []
    for child in list(container):
        if child.tag == T_ROW:
            out.append((container, child))
        elif child.tag in _ROW_CONTAINERS:
            out.extend(_rows(child))
    return out


def _cell_at(table: ET.Element, row: int, col: int) -> ET.Element | None:
    """The cell element at 1-based (row, col), split out of repeated runs; None beyond the written area."""
    r = 1
    for parent, row_el in _rows(table):
        n = _reps(row_el, A_ROWS_REP)
        if r <= row < r + n:
            row_el = _split(parent, row_el, A_ROWS_REP, row - r)
            c = 1
            for cell in list(row_el):
                if cell.tag not in (T_CELL, T_COVERED):
                    continue
                m = _reps(cell, A_COLS_REP)
                if c <= col < c + m:
                    return _split(row_el, cell, A_COLS_REP, col - c)
                c += m
            return None
        r += n
    return None


class _Styles:
    """Automatic cell styles with a severity background, copied from the cell's own style."""

    def __init__(self, root: ET.Element) -> None:
        auto = root.find(_q("office:automatic-styles"))
        if auto is None:
            auto = ET.Element(_q("office:automatic-styles"))
            body_at = [i for i, el in enumerate(root) if el.tag == _q("office:body")]
            root.insert(body_at[0] if body_at else len(root), auto)
        self.auto = auto
        self.by_name = {el.get(_q("style:name")): el for el in auto if el.tag == _q("style:style")}
        self.made: dict[tuple[str, str], str] = {}
        self.n = 0

    def _name(self, base: str) -> str:
        while True:
            self.n += 1
            name = f"{base}{self.n}"
            if name not in self.by_name:
                return name

    def marked(self, original: str | None, colour: str) -> str:
        key = (original or "", colour)
        got = self.made.get(key)
        if got:
            return got
        src = self.by_name.get(original) if original else None
        if src is not None:
            st = copy.deepcopy(src)
        else:  # a common style (styles.xml) or none: inherit from it
            st = ET.Element(_q("style:style"), {_q("style:family"): "table-cell",
                                                _q("style:parent-style-name"): original or "Default"})
        name = self._name("perechen-")
        st.set(_q("style:name"), name)
        props = st.find(_q("style:table-cell-properties"))
        if props is None:
            props = ET.Element(_q("style:table-cell-properties"))
            st.insert(0, props)
        props.set(_q("fo:background-color"), colour)
        self.auto.append(st)
        self.by_name[name] = st
        self.made[key] = name
        return name

    def plain(self, name: str, family: str, props_tag: str, props: dict[str, str]) -> str:
        key = (name, family)
        got = self.made.get(key)
        if got:
            return got
        st = ET.SubElement(self.auto, _q("style:style"), {_q("style:name"): self._name(f"perechen-{name}-"),
                                                          _q("style:family"): family})
        ET.SubElement(st, _q(props_tag), {_q(k): v for k, v in props.items()})
        self.by_name[st.get(_q("style:name"))] = st
        self.made[key] = st.get(_q("style:name"), "")
        return self.made[key]


def _paragraphs(parent: ET.Element, text: str) -> None:
    for line in text.split("\n") or [""]:
        ET.SubElement(parent, _q("text:p")).text = line


def _annotate_cell(cell: ET.Element, styles: _Styles, fs: list[Finding], comment: str) -> None:
    sev = min((f.severity for f in fs), key=lambda s: SEVERITY_ORDER[s])
    cell.set(A_STYLE, styles.marked(cell.get(A_STYLE), FILL[sev]))
    ann = ET.Element(_q("office:annotation"))
    ET.SubElement(ann, _q("dc:creator")).text = AUTHOR
    _paragraphs(ann, comment)
    cell.insert(len(cell.findall(_q("office:annotation"))), ann)  # after the clerk's own comment, before text


def _quote_table(name: str) -> str:
    return "'" + name.replace("'", "''") + "'" if re.search(r"[^\w]", name) else name


def _text_cell(row: ET.Element, text: str, style: str | None = None, link: str | None = None) -> None:
    attrs = {_q("office:value-type"): "string"} if text else {}
    if style:
        attrs[A_STYLE] = style
    cell = ET.SubElement(row, T_CELL, attrs)
    if not text:
        return
    lines = text.split("\n")
    for k, line in enumerate(lines):
        p = ET.SubElement(cell, _q("text:p"))
        if link and k == 0:
            a = ET.SubElement(p, _q("text:a"), {_q("xlink:href"): link, _q("xlink:type"): "simple"})
            a.text = line
        else:
            p.text = line


def _findings_table(root: ET.Element, spreadsheet: ET.Element, styles: _Styles, findings: Sequence[Finding],
                    default_sheet: str | None, known: set[str], responsible: Callable[[Finding], str],
                    value_text: Callable[[Finding], str]) -> ET.Element:
    name = FINDINGS_TABLE
    k = 1
    while name in known:
        k += 1
        name = f"{FINDINGS_TABLE} ({k})"
    table = ET.Element(T_TABLE, {A_NAME: name})
    for _, width in COLUMNS:
        ET.SubElement(table, _q("table:table-column"), {A_STYLE: styles.plain(
            f"col{width}", "table-column", "style:table-column-properties", {"style:column-width": width})})
    header_style = styles.plain("header", "table-cell", "style:table-cell-properties",
                                {"fo:background-color": "#d9d9d9", "fo:wrap-option": "wrap"})
    wrap = styles.plain("wrap", "table-cell", "style:table-cell-properties", {"fo:wrap-option": "wrap"})
    sev_style = {sev: styles.plain(f"sev-{sev.value}", "table-cell", "style:table-cell-properties",
                                   {"fo:background-color": FILL[sev], "fo:wrap-option": "wrap"}) for sev in Severity}
    head_rows = ET.SubElement(table, _q("table:table-header-rows"))
    hr = ET.SubElement(head_rows, T_ROW)
    for title, _ in COLUMNS:
        _text_cell(hr, title, header_style)
    listed = list(findings[:MAX_LIST_ROWS])
    for f in listed:
        row = ET.SubElement(table, T_ROW)
        sheet = f.sheet or (default_sheet if f.cell else None)
        where = f"{sheet}!{f.cell}" if sheet and f.cell else (f"{sheet}!{f.row}:{f.row}" if sheet and f.row
                                                                else (f.location or ""))
        target = f.cell if f.cell and parse_ref(f.cell) else (f"A{f.row}" if f.row else None)
        link = f"#{_quote_table(sheet)}.{target}" if sheet in known and target else None
        _text_cell(row, f.severity.label, sev_style[f.severity])
        _text_cell(row, f.rule, wrap)
        _text_cell(row, f.citation, wrap)
        _text_cell(row, where, wrap, link)
        _text_cell(row, value_text(f), wrap)
        _text_cell(row, f.message, wrap)
        _text_cell(row, responsible(f), wrap)
    if len(findings) > len(listed):
        row = ET.SubElement(table, T_ROW)
        _text_cell(row, f"… и ещё {len(findings) - len(listed)} замечаний (полный список — в report.html)", wrap)
    first = next((i for i, el in enumerate(spreadsheet) if el.tag == T_TABLE), 0)
    spreadsheet.insert(first, table)
    return table


def _print_on_a4_landscape(table: ET.Element, styles: _Styles, master: str) -> None:
    """Give the findings table a table style that names the A4-landscape master page."""
    name = styles._name(f"{PRINT_STYLE}-table-")
    st = ET.SubElement(styles.auto, _q("style:style"), {_q("style:name"): name, _q("style:family"): "table",
                                                        _q("style:master-page-name"): master})
    ET.SubElement(st, _q("style:table-properties"), {_q("table:display"): "true", _q("style:writing-mode"): "lr-tb"})
    styles.by_name[name] = st
    table.set(_q("table:style-name"), name)


def _prefixes(data: bytes, root_tag: bytes) -> dict[str, str]:
    """The namespace prefixes the part's root element declares (URI → prefix), with ours for the rest."""
    head = data[:data.find(b">", data.find(root_tag)) + 1]
    prefixes = {uri.decode("utf-8", "replace"): p.decode() for p, uri in _XMLNS.findall(head)}
    for prefix, uri in NS.items():
        prefixes.setdefault(uri, prefix)
    return prefixes


def _styles_with_print_page(data: bytes) -> tuple[bytes, str] | None:
    """styles.xml with an A4-landscape page layout and master page added, and the master page's name.

    None when styles.xml cannot be read (the copy is then made without the page style, as before).
    """
    from defusedxml import ElementTree as DET

    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception:  # ParseError, DefusedXmlException: the clerk's part stays as it is
        return None
    if root.tag != _q("office:document-styles"):
        return None
    auto = root.find(_q("office:automatic-styles"))
    masters = root.find(_q("office:master-styles"))
    if masters is None:
        masters = ET.SubElement(root, _q("office:master-styles"))
    if auto is None:
        auto = ET.Element(_q("office:automatic-styles"))
        root.insert(list(root).index(masters), auto)
    taken = {el.get(_q("style:name")) for el in root.iter() if el.get(_q("style:name"))}
    name, k = PRINT_STYLE, 1
    while name in taken:
        k += 1
        name = f"{PRINT_STYLE}-{k}"
    layout = ET.SubElement(auto, _q("style:page-layout"), {_q("style:name"): name})
    ET.SubElement(layout, _q("style:page-layout-properties"), {_q(k_): v for k_, v in PAGE_PROPS.items()})
    ET.SubElement(masters, _q("style:master-page"), {_q("style:name"): name, _q("style:page-layout-name"): name})
    return _serialize(root, _prefixes(data, b"<office:document-styles")), name


def annotate(data: bytes, findings: Sequence[Finding], *, sheet: str | None,
             comment_text: Callable[[list[Finding]], str], responsible: Callable[[Finding], str],
             value_text: Callable[[Finding], str]) -> tuple[bytes, list[str]]:
    """The annotated .ods copy of ``data`` and notes about cells that could not be marked."""
    from defusedxml import ElementTree as DET

    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        content = src.read("content.xml")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError) as e:
        raise OdsAnnotateError(f"книга не распаковывается ({describe(e)})") from None
    try:
        root = DET.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as e:  # ParseError, DefusedXmlException
        raise OdsAnnotateError(f"часть content.xml повреждена ({describe(e)})") from None
    prefixes = _prefixes(content, b"<office:document-content")
    spreadsheet = root.find(f"{_q('office:body')}/{_q('office:spreadsheet')}")
    if spreadsheet is None:
        raise OdsAnnotateError("в content.xml нет электронной таблицы")
    tables = {t.get(A_NAME, ""): t for t in spreadsheet.iter(T_TABLE)}
    styles = _Styles(root)
    notes: list[str] = []
    per_sheet: dict[str, dict[tuple[int, int], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        pos = parse_ref(f.cell) if f.cell else None
        name = f.sheet or sheet
        if pos is not None and name:
            per_sheet[name][pos].append(f)
    for name, cells in per_sheet.items():
        table = tables.get(name)
        if table is None:
            notes.append(f"Лист «{name}» не найден в книге: ячейки не отмечены.")
            continue
        missed = 0
        for (row, c0), fs in sorted(cells.items()):
            cell = _cell_at(table, row, c0 + 1)
            if cell is None:
                missed += 1
                continue
            _annotate_cell(cell, styles, fs, comment_text(fs))
        if missed:
            notes.append(f"Лист «{name}»: {missed} ячеек вне заполненной области не отмечены; замечания есть "
                         f"на листе «{FINDINGS_TABLE}».")
    table = _findings_table(root, spreadsheet, styles, findings, sheet, set(tables), responsible, value_text)
    parts: dict[str, bytes] = {}
    try:
        styles_xml: bytes | None = src.read("styles.xml")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        styles_xml = None
    printed = _styles_with_print_page(styles_xml) if styles_xml is not None else None
    if printed is not None:
        parts["styles.xml"], master = printed
        _print_on_a4_landscape(table, styles, master)
    parts["content.xml"] = _serialize(root, prefixes)
    return _write(src, parts), notes


def _serialize(root: ET.Element, prefixes: dict[str, str]) -> bytes:
    """content.xml with its own prefixes (ElementTree's registry is process-wide: restore it after)."""
    saved: dict[str, Any] = dict(ET._namespace_map)  # type: ignore[attr-defined]
    try:
        for uri, prefix in prefixes.items():
            if re.fullmatch(r"ns\d+", prefix) or not re.fullmatch(r"[A-Za-z_][\w.-]*", prefix):
                continue
            ET._namespace_map[uri] = prefix  # type: ignore[attr-defined]
        out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    finally:
        ET._namespace_map.clear()  # type: ignore[attr-defined]
        ET._namespace_map.update(saved)  # type: ignore[attr-defined]
    # Declarations used only inside attribute values (formulas «of:=…», «oooc:…») are dropped by ElementTree:
    # put back every one the original root had.
    start = out.find(b"<", out.find(b"?>") + 2)
    end = out.find(b">", start)
    tag = out[start:end]
    have = {p.decode() for p, _ in _XMLNS.findall(tag)}
    extra = "".join(f' xmlns:{p}="{escape(u, {chr(34): "&quot;"})}"' for u, p in prefixes.items() if p not in have)
    return out[:end] + extra.encode() + out[end:]


def _write(src: zipfile.ZipFile, parts: dict[str, bytes]) -> bytes:
    """The package again: ``parts`` (content.xml, styles.xml) replaced, everything else copied as it was."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = parts[info.filename] if info.filename in parts else src.read(info)
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            # mimetype first and stored, as ODF requires; the rest deflated
            zi.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            out.writestr(zi, body)
    return buf.getvalue()

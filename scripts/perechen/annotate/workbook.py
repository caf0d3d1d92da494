"""Making the annotated copy: which cells of which sheet get a fill and a note, and the «Замечания» sheet."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path

from ..cells import parse_ref
from ..errors import describe
from ..models import Finding, Register, Severity
from ..presentation import Responsible, worst
from . import ods as annotate_ods
from .comments import Entry, comment_text, merge_comments, merge_vml, new_comments, new_vml
from .findings_sheet import FINDINGS_SHEET, add_findings_sheet
from .ooxml import CT_COMMENTS, CT_MACRO_WB, CT_VML, RT_COMMENTS, RT_VML, AnnotateError, SheetSkip, parse_small
from .package import Package, workers
from .parts import Book, Rels, SheetRef
from .sheet import SheetXml
from .styles import Styles

ANNOTATED_PREFIX = "замечания-"


def annotate_workbook(data: bytes, findings: Sequence[Finding], *, register: Register | None = None
                      ) -> tuple[bytes, list[str]]:
    """Return the annotated copy's bytes and notes about anything that could not be annotated.

    Raises :class:`AnnotateError` when the package itself cannot be patched.
    """
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        pkg, notes = prepare_annotation(data, findings, register=register, pool=pool)
        return pkg.start_output()(), notes


def prepare_annotation(data: bytes, findings: Sequence[Finding], *, register: Register | None,
                        pool: Executor | None, responsible: Responsible | None = None
                        ) -> tuple[Package, list[str]]:
    pkg = Package(data, pool)
    book = Book(pkg)
    styles = Styles(pkg, book)
    notes: list[str] = []
    default_sheet = register.sheet if register is not None else None
    responsible = responsible or Responsible(register, findings)

    # Cells to paint, per sheet.
    per_sheet: dict[str, dict[tuple[int, int], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        pos = parse_ref(f.cell)
        if pos is None:
            continue
        sheet = f.sheet or default_sheet
        if sheet is None:
            continue
        per_sheet[sheet][pos].append(f)
    refs = {name: book.sheet_by_name(name) for name in per_sheet}
    pkg.prefetch(ref.part for ref in refs.values() if ref is not None)  # inflating while the list is built
    add_findings_sheet(pkg, book, styles, findings, default_sheet, responsible)
    for sheet_name, cells in per_sheet.items():
        ref = refs[sheet_name]
        if ref is None:
            notes.append(f"Лист «{sheet_name}» не найден в книге: ячейки не отмечены.")
            continue
        try:
            annotate_sheet(pkg, book, styles, ref, cells)
        except (SheetSkip, AnnotateError) as e:
            notes.append(f"Лист «{sheet_name}»: ячейки не отмечены ({describe(e)}); замечания есть на листе "
                         f"«{FINDINGS_SHEET}».")
    styles.save()
    book.save()
    return pkg, notes


def annotate_sheet(pkg: Package, book: Book, styles: Styles, ref: SheetRef,
                    cells: dict[tuple[int, int], list[Finding]]) -> None:
    """Paint and comment the flagged cells of one sheet (all parts are written only when all succeed)."""
    xml = pkg.read(ref.part)
    sx = SheetXml(xml, ref.part)
    by_row: dict[int, dict[int, Severity]] = defaultdict(dict)
    for (r, c), fs in cells.items():
        by_row[r][c] = worst(fs)
    sx.paint(by_row, styles.flagged)
    sx.fix_dimension()

    rels = Rels(pkg, ref.part)
    writes: dict[str, bytes] = {}
    overrides: list[tuple[str, str]] = []  # content types, registered only when everything succeeded
    entries: list[Entry] = [(pos, comment_text(cells[pos])) for pos in sorted(cells)]
    # Comments part: merge with the sheet's own comments when it has some.
    existing = rels.by_type(RT_COMMENTS)
    comments_part = existing[0].target if existing and existing[0].target and pkg.has(existing[0].target) else None
    merged_refs: set[tuple[int, int]] = set()
    if comments_part is not None:
        cxml = pkg.read(comments_part)
        parse_small(comments_part, cxml)
        writes[comments_part], merged_refs = merge_comments(cxml, comments_part, entries)
    else:
        comments_part = pkg.unique_name("xl/comments{}.xml")
        writes[comments_part] = new_comments(entries)
        overrides.append((comments_part, CT_COMMENTS))
        rels.add(RT_COMMENTS, comments_part)
    # VML drawing: the sheet's legacy drawing, or a new one.
    new_shapes = [e for e in entries if e[0] not in merged_refs]
    rid = sx.legacy_drawing_rid()
    vml_rel = rels.by_id(rid) if rid else None
    if rid is not None and (vml_rel is None or not vml_rel.target or not pkg.has(vml_rel.target)):
        raise SheetSkip("рисунок примечаний листа не найден")
    if vml_rel is not None:
        vxml = pkg.read(vml_rel.target)
        writes[vml_rel.target] = merge_vml(vxml, new_shapes, book.vml_blocks_in_use() + 1)
    else:
        vml_part = pkg.unique_name("xl/drawings/vmlDrawing{}.vml")
        writes[vml_part] = new_vml(new_shapes, book.vml_blocks_in_use() + 1)
        overrides.append((vml_part, CT_VML))
        sx.add_legacy_drawing(rels.add(RT_VML, vml_part))
    writes[ref.part] = sx.result()
    rels_xml = rels.render()
    if rels_xml is not None:
        writes[rels.name] = rels_xml
    # Commit: nothing above touched the package.
    for name, data in writes.items():
        pkg.write(name, data)
    for part, ctype in overrides:
        if ctype == CT_VML:
            book.ct.default("vml", CT_VML)
            if book.ct.type_of(part) == CT_VML:
                continue
        book.ct.override(part, ctype)


def annotated_name(workbook: Path, data: bytes | None = None) -> str:
    """``замечания-<stem>.xlsx`` (``.xlsm`` when the workbook carries macros, so Excel opens it)."""
    suffix = ".xlsx"
    if annotate_ods.is_ods(data):
        suffix = ".ods"
    elif data is not None and CT_MACRO_WB.encode() in _content_types_head(data):
        suffix = ".xlsm"
    stem = workbook.stem or "книга"
    return f"{ANNOTATED_PREFIX}{stem}{suffix}"


def _content_types_head(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read("[Content_Types].xml")[:200_000]
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, ValueError):
        return b""

"""Minimal recipes for crashes found so far (see README.md). Each builds a workbook from the corpus base."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.corpus import make_corpus as mc


@dataclass(frozen=True)
class Regression:
    name: str
    origin: str
    build: Callable[[], bytes]
    expect: str  # FileError code, or "N rows"


def _with_cells(cells: str, sheet: str = "xl/worksheets/sheet3.xml") -> Callable[[], bytes]:
    def build() -> bytes:
        return mc.edit_part(mc.base(), sheet, lambda b: b.replace(b"</sheetData>", cells.encode() + b"</sheetData>"))
    return build


FAR = '<row r="199000"><c r="A199000"><v>1</v></c></row>'
MERGE_ALL = b'</sheetData><mergeCells count="1"><mergeCell ref="A2:XFD1048576"/></mergeCells>'

REGRESSIONS: list[Regression] = [
    Regression("calamine_abort_xfd1048576",
               "probing python-calamine 0.9.1: one value in XFD1048576 makes it allocate 550 GB and abort the "
               "process (uncatchable); fixed in 8b80a02 by the extent guard",
               _with_cells('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', mc.SHEET1), "sheet_too_large"),
    Regression("calamine_854mb_s1048576",
               "probing: a value in S1048576 of a 19-column register took 854 MB; fixed in 8b80a02",
               _with_cells('<row r="1048576"><c r="S1048576"><v>1</v></c></row>', mc.SHEET1), "sheet_too_large"),
    Regression("bypass_lowercase_ref",
               "mutation fuzzer (x_far_cell, seed 99) against 3c00418: r=\"xfd3\" is XFD3 for calamine but not for "
               "the guard -> 16,384 × 199,000 cells, abort; fixed in f83dbce",
               _with_cells('<row r="3"><c r="xfd3"><v>1</v></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_empty_inline_string",
               "same campaign: <is/> is a value for calamine, not for the guard; fixed in f83dbce",
               _with_cells('<row r="3"><c r="XFD3" t="inlineStr"><is/></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_prefixed_value",
               "same campaign: <x:v> inside <c> is a value for calamine; fixed in f83dbce",
               _with_cells('<row r="3"><c r="XFD3"><x:v xmlns:x="urn:x">1</x:v></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_single_quoted_ref",
               "same campaign: r='XFD3' in single quotes; fixed in f83dbce",
               _with_cells("<row r=\"3\"><c r='XFD3'><v>1</v></c></row>" + FAR), "sheet_too_large"),
    Regression("bypass_repeated_r",
               "same campaign: <c r=\"A3\" r='XFD3'>: calamine takes the last r; fixed in f83dbce",
               _with_cells("<row r=\"3\"><c r=\"A3\" r='XFD3'><v>1</v></c></row>" + FAR), "sheet_too_large"),
    Regression("bypass_gt_in_attribute",
               "same campaign: '>' inside an attribute value before r= cut the tag short; fixed in f83dbce",
               _with_cells('<row r="3"><c foo="a>b" r="XFD3"><v>1</v></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_comment_hides_close",
               "mutation fuzzer campaign 4 against f83dbce: <!-- </c> --> before <v> ended the cell early for the "
               "guard; comments, CDATA and PIs are now removed before the scans",
               _with_cells('<row r="3"><c r="XFD3"><!-- </c> --><v>1</v></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_row_number_overflow",
               "mutation fuzzer campaign 4 (seed 4, inputs 4835, 11897, 26933, 35017, 35206, 49582, 51284, 53310, "
               "60045; all abort) against f83dbce: calamine wraps r=\"A99999999999\" to row 1,215,752,191; the "
               "exact path (taken here because of r='…') capped numbers at 9 digits and skipped the cell",
               _with_cells('<row r=\'3\'><c r="A99999999999" t="inlineStr"><is><t>x</t></is></c></row>'),
               "sheet_too_large"),
    Regression("calamine_abort_sst_unique_count",
               "probing calamine after campaign 4: <sst uniqueCount=\"4000000000\"> makes it reserve 96 GB for "
               "shared strings and abort; the root tag of every part is now checked",
               lambda: mc.edit_part(mc._shared_strings_variant('<?xml version="1.0"?>\n', "x"), "xl/sharedStrings.xml",
                                    lambda b: b.replace(b'uniqueCount="1"', b"uniqueCount = '4000000000'")),
               "xml_broken"),
    Regression("bypass_slash_gt_in_attribute",
               "review after campaign 4: foo=\"a/>b\" looked like a self-closing empty cell; tags are now parsed "
               "with their quoted attributes",
               _with_cells('<row r="3"><c r="XFD3" foo="a/>b"><v>1</v></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_junk_comment_inside_tag",
               "mutation fuzzer campaign 5 (seed 5, inputs 41908 and 70372; abort) against 5937a6f: a stray «<!--» "
               "inside a row tag made the comment stripper swallow the far cell, which quick-xml still reads; "
               "the guard now tokenizes like quick-xml (quotes, comments) instead of stripping",
               _with_cells('<row r="3" customH<!--eight="1"><c r="A3"><v>1</v></c></row>'
                           '<row r="4"><c r="XFD4"><!-- --><v>1</v></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_lt_in_attribute_value",
               "review after campaign 5: x=\"<\" before a second r= hid the cell tag from a backwards search",
               _with_cells('<row r="3"><c r="A3" x="<" r="XFD3"><v>1</v></c></row>' + FAR), "sheet_too_large"),
    Regression("bypass_fake_close_in_child_attribute",
               "review after campaign 5: <f x=\"</c>\"> ended the cell early for a text search",
               _with_cells('<row r="3"><c r="XFD3"><f x="</c>">1</f><v>1</v></c></row>' + FAR), "sheet_too_large"),
    Regression("merged_whole_sheet",
               "review of the merged-cells loop: <mergeCell ref=\"A1:XFD1048576\"/> iterated 1,048,576 rows × all "
               "columns; bounded to the data rows in 8b80a02",
               lambda: mc.edit_part(mc.base(), mc.SHEET1, lambda b: b.replace(b"</sheetData>", MERGE_ALL)),
               "8 rows"),
]

"""The annotated copy ``замечания-<книга>.xlsx``: the clerk's own workbook with every flagged cell filled
(red — error, yellow — warning, light blue — info) and carrying a note, plus a first sheet «Замечания»
listing every finding with a hyperlink to its cell.

The copy is made by patching the copied zip (the private copy's bytes, never the master), not by loading
and saving it with openpyxl, which would drop x14 drop-down lists, sparklines, form controls and more (see
shared/notes/excel-pitfalls.md). Only these parts change: the sheets that get fills (only the ``<row>``
elements that hold flagged cells, found by binary search over the sheet's bytes; everything else is copied
through), ``xl/styles.xml`` (appended fills and cell formats), comments + VML drawing parts and
relationships of those sheets, ``xl/workbook.xml`` (+ rels), ``[Content_Types].xml`` and
``docProps/app.xml``; the new sheet is added; ``xl/calcChain.xml`` is dropped (a cache Excel rebuilds).
Unchanged zip members are copied as their compressed bytes.

XML is touched by string surgery on bytes that were checked first (no DTD, no entity declarations; the
small parts are also parsed with defusedxml to prove they are well-formed); everything written is escaped
and every text cell of the new sheet is an inline string, so text starting with "=" stays text.

Modules, bottom up: :mod:`.ooxml` (namespaces, escaping, tag helpers), :mod:`.package` (zip members),
:mod:`.parts` (relationships, content types, the workbook part), :mod:`.styles`, :mod:`.sheet` (painting
cells), :mod:`.comments` (notes and their VML drawing), :mod:`.findings_sheet` («Замечания»),
:mod:`.workbook` (the whole copy); :mod:`.ods` makes the copy of an OpenDocument (.ods) register.
"""

from .findings_sheet import FINDINGS_SHEET
from .ooxml import FILL_RGB, AnnotateError
from .package import workers
from .workbook import ANNOTATED_PREFIX, annotate_workbook, annotated_name, prepare_annotation

__all__ = ["ANNOTATED_PREFIX", "FILL_RGB", "FINDINGS_SHEET", "AnnotateError", "annotate_workbook", "annotated_name",
           "prepare_annotation", "workers"]

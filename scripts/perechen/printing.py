"""How perechen's spreadsheets print: A4 landscape, fitted to the page width, the header row repeated.

Every sheet a person may print («Замечания» of the annotated copy, the published table, diff.xlsx, and any
xlsx written later) takes its print setup from here: :func:`a4_landscape` for a worksheet written with
openpyxl, the XML pieces below for a sheet written as raw XML.
"""

from __future__ import annotations

from typing import Any

A4 = 9  # paperSize of OOXML (ECMA-376, 18.3.1.63)

#: ``<sheetPr>`` child that makes fitToWidth / fitToHeight count (after ``<tabColor>``, ``<outlinePr>``).
SHEET_PR_FIT_TO_PAGE = '<pageSetUpPr fitToPage="1"/>'
#: ``<pageSetup>``: A4 landscape, one page wide, as many pages long as the rows need.
PAGE_SETUP = f'<pageSetup paperSize="{A4}" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
PRINT_TITLES_NAME = "_xlnm.Print_Titles"


def print_title_rows(quoted_sheet: str, title_rows: int = 1) -> str:
    """The value of a sheet's ``_xlnm.Print_Titles`` defined name: rows 1..title_rows repeated on every page."""
    return f"{quoted_sheet}!$1:${title_rows}"


def a4_landscape(ws: Any, *, title_rows: int = 1) -> None:
    """Print ``ws`` (an openpyxl worksheet, write-only too) on A4 landscape, fitted to the page width, with
    rows 1..title_rows repeated at the top of every page (none when 0)."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = f"1:{title_rows}"

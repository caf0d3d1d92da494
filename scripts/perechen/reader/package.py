"""The reader's shared types: the opened workbook as the reader knows it before calamine reads a value (the zip,
its sheets and their parts), and the progress callback."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from .scan import RawScan

Progress = Callable[[str, int, int], None]


@dataclass
class SheetPart:
    name: str
    part: str
    state: str = "visible"
    kind: str = "worksheet"  # worksheet | chartsheet | other
    scan: RawScan | None = None


@dataclass
class Package:
    """The opened, checked .xlsx zip."""

    zf: zipfile.ZipFile
    sheets: list[tuple[str, str, str]] = field(default_factory=list)  # (name, part path, state)
    parts: list[SheetPart] = field(default_factory=list)
    date1904: bool = False
    strict: bool = False
    stale_formulas: bool = False  # calcPr fullCalcOnLoad: cached values were not computed by the writer
    kind: str = "xlsx"  # xlsx | ods (OpenDocument: sheets and scans come from content.xml, see _open_ods)

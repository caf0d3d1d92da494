"""Stage 1: read the clerks' workbook safely.

The master file is opened once, read-only, into memory (a private copy); nothing here ever writes to
it. The bytes are identified before any Excel library sees them, the zip directory and every XML
part's prolog are checked (sizes, DTDs), and only then python-calamine reads the values. A light scan
of the sheet's raw XML adds what calamine does not expose: formulas without a cached value, error
cells, merged ranges and hidden rows.

Anything that makes the file unreadable raises :class:`~perechen.models.FileError` with a Russian
message naming the file (and the sheet or part); everything else becomes a
:class:`~perechen.models.Finding` at its cell.

The package, one module per step (each imports only the ones after it):

- ``register``  — find the register sheet and build the :class:`~perechen.models.Register` (calamine reads here)
- ``values``    — a cell's value as the checks see it: text normalised, dates, numbers, errors
- ``owner``     — who has the workbook open (Excel's «~$» file, LibreOffice's «.~lock…#»)
- ``files``     — load the bytes (retrying while the file is being saved) and say what they are
- ``guards``    — the zip and XML prolog guards against hostile input (zip bombs, DTDs, forged counts)
- ``extent``    — the size calamine would allocate for a sheet, refused before it tries
- ``package``   — the opened file as the reader knows it (Package, SheetPart); the Progress callback type
- ``scan``      — the raw sheet scan: formulas, error cells, hidden rows, merges
"""

from __future__ import annotations

import gc
import hashlib
import time
from pathlib import Path

from ..models import FileError, PerechenError, Register
from ..rules import Rules
from .extent import MAX_SHEET_CELLS, check_extent
from .files import identify, load_bytes
from .guards import _short, read_part
from .owner import lock_owner, parse_excel_lock
from .package import Package, Progress, SheetPart
from .register import _SheetReader
from .scan import RawScan, scan_sheet_xml, sheet_prefix
from .values import EXCEL_ERRORS

__all__ = ["EXCEL_ERRORS", "MAX_SHEET_CELLS", "Package", "Progress", "RawScan", "SheetPart", "check_extent",
           "identify", "load_bytes", "lock_owner", "parse_excel_lock", "read_part", "read_register",
           "scan_sheet_xml", "sheet_prefix"]


def read_register(path: str | Path, rules: Rules | None = None, *, progress: Progress | None = None) -> Register:
    """Read the register sheet of a workbook. Raises FileError when the file cannot be read.

    Nothing but :class:`~perechen.models.PerechenError` leaves this function: an unexpected exception
    becomes a FileError «reader_bug» (the fuzzers treat that code as a crash).
    """
    rules = rules or Rules.load()
    path = Path(path)
    started = time.monotonic()
    gc_was_on = gc.isenabled()
    gc.disable()  # bulk loading: the collector would rescan every row list many times over
    try:
        data = load_bytes(path, rules)
        pkg = identify(data, path, rules)
        reader = _SheetReader(path, rules, pkg, data, started, progress)
        reg = reader.read()
    except (PerechenError, KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        raise FileError("sheet_too_large", rules.file_error(
            "sheet_too_large", path, "не хватило памяти при чтении книги"), path) from None
    except BaseException as e:  # incl. pyo3's PanicException, which is not an Exception
        raise FileError("reader_bug", rules.file_error(
            "reader_bug", path, _short(e)), path) from e
    finally:
        if gc_was_on:
            gc.enable()
    reg.sha256 = hashlib.sha256(data).hexdigest()
    reg.data = data
    return reg

"""Stage 2: run the Порядок's checks (declared in rules/checks.toml) over a read register.

Each check ``kind`` is one small function registered with :func:`check_kind`; it receives a
:class:`Context` and the check's declaration, and yields findings. Which checks run, their severity,
clause, message and parameters come from rules/, never from here.

Speed: every check is one pass over the rows (plus a pass over groups). Anything computed from a
cell's text (a reference-list match, a split multi-valued cell, a parsed basis) is cached by the text,
since registers repeat the same few values on thousands of rows.

The package: ``runner`` (the registry of kinds and :func:`run_checks`) over ``context`` (what a check gets,
shared helpers); the kinds, one module per family — ``fields`` (one row's cells), ``basis`` (the «Основание»
text), ``dates`` (dates and the review term), ``cross`` (across rows). Importing the package registers every
kind.
"""

from __future__ import annotations

from . import basis, cross, dates, fields
from .basis import has_date, has_number, names_one_of
from .context import Context, ListScan, MultiMatch
from .runner import CHECK_KINDS, CheckFn, check_kind, run_checks

__all__ = ["CHECK_KINDS", "CheckFn", "Context", "ListScan", "MultiMatch", "basis", "check_kind", "cross", "dates",
           "fields", "has_date", "has_number", "names_one_of", "run_checks"]

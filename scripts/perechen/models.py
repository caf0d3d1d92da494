"""Data the pipeline passes between stages: findings, file errors, rows and the register."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from .text import ru_date


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return {"error": "ошибка", "warning": "предупреждение", "info": "справочно"}[self.value]


# How a finding of the agency's own convention (no clause of the Порядок requires it) is named.
AGENCY_RULE = "правило ведения перечня в Службе"

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(slots=True)
class Finding:
    """One thing a clerk should know about, located at a cell (or a row, a sheet, the file)."""

    code: str
    severity: Severity
    clause: str | None
    message: str
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: Any = None
    title: str = ""  # the rule's Russian title (rules/checks.toml), shown wherever its code is

    @property
    def rule(self) -> str:
        """The rule as a clerk reads it: «Объединённые ячейки (merged-cells)»."""
        return f"{self.title} ({self.code})" if self.title else self.code

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "clause": self.clause,
            "sheet": self.sheet,
            "cell": self.cell,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }

    @property
    def citation(self) -> str:
        """What requires it: «п. 2.7 Порядка», or the agency's own rule (a finding without a clause)."""
        return f"п. {self.clause} Порядка" if self.clause else AGENCY_RULE

    @property
    def location(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.sheet and self.row:
            return f"{self.sheet}!{self.row}:{self.row}"
        return self.sheet or ""

    def sort_key(self) -> tuple[int, int, str, str]:
        return (self.row or 0, SEVERITY_ORDER[self.severity], self.column or "", self.code)


class PerechenError(Exception):
    """Base of every error the tool raises: the tool cannot do what was asked (exit code 2).

    ``code`` is stable and snake_case (the file-error codes of rules/file_errors.toml are part of the JSON
    contract); ``message`` is Russian, for a person; ``path`` names the file concerned, when there is one.
    Findings about the register's content are not errors but :class:`Finding` (kebab-case codes).
    """

    code = "error"

    def __init__(self, code: str, message: str, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = str(path) if path is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Notice:
    """A reason or remark of a run that is not about a cell: a stable snake_case code and a Russian message."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class CodedError(PerechenError):
    """A :class:`PerechenError` whose class names its code: ``raise MailError("…")``; ``code=`` refines it."""

    default_code: ClassVar[str] = "error"

    def __init__(self, message: str, path: str | Path | None = None, *, code: str | None = None) -> None:
        super().__init__(code or self.default_code, message, path)


class FileError(PerechenError):
    """A workbook that cannot be read."""


class RulesError(PerechenError):
    """A broken rules/ file or perechen.toml."""


def value_text(v: Any) -> str:
    """A cell's normalised value as text (:meth:`Row.text`): "" for empty, a date as «дд.мм.гггг», 5.0 as «5»."""
    if v is None:
        return ""
    if isinstance(v, dt.date):  # a datetime too: its date
        return ru_date(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass(slots=True)
class Row:
    """One data row of the register sheet.

    ``values`` maps a field name to its normalised value (``str``, ``datetime.date``, number or None);
    ``original`` keeps the cell's text as typed where normalisation changed it.
    """

    number: int
    values: dict[str, Any]
    original: dict[str, Any] = field(default_factory=dict)
    hidden: bool = False

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str:
        return value_text(self.values.get(name))

    def raw(self, name: str) -> Any:
        return self.original.get(name, self.values.get(name))


@dataclass(slots=True)
class Table:
    """The data rows column by column, as the reader builds them.

    ``numbers[i]`` is the sheet row of data row i; ``cols[f][i]`` its normalised value of field ``f`` (None where
    empty); ``originals[i]`` the cells of row i as typed where normalisation changed them; ``hidden`` the sheet rows
    that are hidden. The checks work on these lists; Row objects are built only when something asks for them.
    """

    fields: list[str]
    numbers: list[int]
    cols: dict[str, list[Any]]
    originals: dict[int, dict[str, Any]] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.numbers)

    def row(self, i: int) -> Row:
        rn = self.numbers[i]
        return Row(rn, {f: self.cols[f][i] for f in self.fields}, dict(self.originals.get(i) or {}),
                   rn in self.hidden)

    def rows(self) -> list[Row]:
        fields, originals, hidden = self.fields, self.originals, self.hidden
        if not fields:
            return [Row(rn, {}, {}, rn in hidden) for rn in self.numbers]
        cols = [self.cols[f] for f in fields]
        return [Row(rn, dict(zip(fields, vals, strict=True)), dict(originals.get(k) or {}), rn in hidden)
                for k, (rn, vals) in enumerate(zip(self.numbers, zip(*cols, strict=True), strict=True))]

    def extend(self, other: Table) -> None:
        """Append ``other``'s rows (the same fields)."""
        at = len(self.numbers)
        self.numbers.extend(other.numbers)
        for f in self.fields:
            self.cols[f].extend(other.cols[f])
        for k, orig in other.originals.items():
            self.originals[at + k] = orig
        self.hidden |= other.hidden


class Register:
    """What the reader found in a workbook.

    The data rows are kept as the reader built them, column by column (:class:`Table`): :meth:`column` and
    :meth:`row` read them without building every Row. ``rows`` builds the Row objects on first use; from then on the
    rows are what counts (code may change a Row's values) and the columns are taken from them.
    """

    def __init__(self, path: Path, sheet: str, header_row: int, columns: dict[str, str], headers: dict[str, str],
                 rows: list[Row] | None = None, info: dict[str, str] | None = None, info_sheet: str | None = None,
                 findings: list[Finding] | None = None, sheet_names: list[str] | None = None,
                 lock_owner: str | None = None, sha256: str = "", data: bytes = b"",
                 problem_cells: set[str] | None = None, formula_cells: set[str] | None = None, *,
                 table: Table | None = None) -> None:
        self.path = path
        self.sheet = sheet
        self.header_row = header_row
        self.columns = columns  # field -> column letter
        self.headers = headers  # field -> header text as in the file
        self._rows: list[Row] | None = rows
        self._table: Table | None = table if rows is None else None
        self._built: dict[int, Row] = {}
        self.info: dict[str, str] = info if info is not None else {}
        self.info_sheet = info_sheet
        self.findings: list[Finding] = findings if findings is not None else []
        self.sheet_names: list[str] = sheet_names if sheet_names is not None else []
        self.lock_owner = lock_owner
        self.sha256 = sha256
        self.data = data  # the private copy's bytes
        self.problem_cells: set[str] = problem_cells if problem_cells is not None else set()  # reported by the reader
        self.formula_cells: set[str] = formula_cells if formula_cells is not None else set()

    def __repr__(self) -> str:
        return f"Register(path={self.path!r}, sheet={self.sheet!r}, header_row={self.header_row}, rows={self.n_rows})"

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            table = self._table
            self._rows = table.rows() if table is not None else []
            for i, r in self._built.items():  # a row already handed out stays the same object
                self._rows[i] = r
            self._table = None
            self._built = {}
        return self._rows

    @rows.setter
    def rows(self, rows: list[Row]) -> None:
        self._rows = rows
        self._table = None
        self._built = {}

    def _columns(self) -> Table | None:
        """The reader's columns while they are what counts (no Row objects built yet)."""
        return self._table if self._rows is None else None

    @property
    def n_rows(self) -> int:
        """How many data rows (without building them)."""
        table = self._columns()
        return len(table) if table is not None else len(self.rows)

    @property
    def numbers(self) -> list[int]:
        """Each data row's sheet row number (read-only)."""
        table = self._columns()
        return table.numbers if table is not None else [r.number for r in self.rows]

    def row(self, i: int) -> Row:
        """Data row i (0-based), built alone when the rows are still columns."""
        table = self._columns()
        if table is None:
            return self.rows[i]
        r = self._built.get(i)
        if r is None:
            r = self._built[i] = table.row(i)
        return r

    def column(self, field_name: str) -> list[Any] | None:
        """The reader's own column of ``field_name`` (read-only: shared, not a copy; all None for a field not on
        the sheet), or None once the rows are Row objects (take the values from them)."""
        table = self._columns()
        if table is None:
            return None
        col = table.cols.get(field_name)
        return col if col is not None else [None] * len(table.numbers)

    def cell(self, field_name: str, row: int) -> str | None:
        col = self.columns.get(field_name)
        return f"{col}{row}" if col else None

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
        v = self.values.get(name)
        if v is None:
            return ""
        if isinstance(v, dt.date):  # a datetime too: its date
            return ru_date(v)
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    def raw(self, name: str) -> Any:
        return self.original.get(name, self.values.get(name))


@dataclass
class Register:
    """What the reader found in a workbook."""

    path: Path
    sheet: str
    header_row: int
    columns: dict[str, str]  # field -> column letter
    headers: dict[str, str]  # field -> header text as in the file
    rows: list[Row]
    info: dict[str, str] = field(default_factory=dict)
    info_sheet: str | None = None
    findings: list[Finding] = field(default_factory=list)
    sheet_names: list[str] = field(default_factory=list)
    lock_owner: str | None = None
    sha256: str = ""
    data: bytes = b""  # the private copy's bytes
    problem_cells: set[str] = field(default_factory=set)  # cells the reader already reported
    formula_cells: set[str] = field(default_factory=set)

    def cell(self, field_name: str, row: int) -> str | None:
        col = self.columns.get(field_name)
        return f"{col}{row}" if col else None

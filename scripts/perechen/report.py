"""The result of a check as one object, rendered as text (terminal) or JSON."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .models import Finding, Register, Severity


@dataclass
class CheckReport:
    workbook: str
    rows: int
    findings: list[Finding]
    register: Register | None = None
    report_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    @property
    def infos(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.INFO)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "workbook": self.workbook,
            "rows": self.rows,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.report_dir is not None:
            d["report_dir"] = str(self.report_dir)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def summary(self) -> str:
        state = "ошибок нет" if not self.errors else f"ошибок: {self.errors}"
        return (f"{self.workbook}: строк {self.rows}, {state}, предупреждений: {self.warnings}"
                f"{f', справочно: {self.infos}' if self.infos else ''}.")


_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_RESET = "\033[0m"


def use_color(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def render_text(report: CheckReport, *, color: bool = False, quiet: bool = False) -> str:
    """Findings grouped by row, then a one-line summary."""
    if quiet:
        return report.summary()
    lines: list[str] = []
    # Rows of different sheets share numbers: group by (sheet, row).
    groups: dict[tuple[str, int | None], list[Finding]] = defaultdict(list)
    for f in report.findings:
        groups[(f.sheet or "" if f.row is not None else "", f.row)].append(f)

    def paint(sev: Severity, text: str) -> str:
        return f"{_COLORS[sev]}{text}{_RESET}" if color else text

    for key in sorted(groups, key=lambda k: (k[1] is not None, k[1] or 0, k[0])):
        sheet, row = key
        items = groups[key]
        title = f"Строка {row}" + (f" (лист «{sheet}»)" if sheet else "") if row is not None else "Книга в целом"
        lines.append(title)
        for f in items:
            where = f.cell or ""
            # The source is named once: an agency rule's message already says «правило ведения перечня в Службе».
            meta = f.rule if f.citation in f.message else f"{f.citation}; {f.rule}"
            lines.append(f"  {paint(f.severity, f.severity.label):s} {where:>6} {f.message} [{meta}]")
        lines.append("")
    if report.report_dir is not None:
        lines.append(f"Отчёты: {report.report_dir}")
    lines.append(report.summary())
    return "\n".join(lines)

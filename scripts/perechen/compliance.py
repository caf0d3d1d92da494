"""The compliance report for the regional project office: was every change of a year placed within п. 5.4?

Computed from the journal (:mod:`perechen.journal`) and the working-day calendar (:mod:`perechen.workdays`):
every change of the year — one line per code and day made (its cases of п. 5.3 together) — with the day it
was made in the Перечень, the act that approved it, the day it was placed, the working days taken and
whether that was within 10 working days (the deadline is the 10th working day after the day made, ГК РФ
ст. 191). Totals: on time, late, pending (not placed yet).

Which changes count (decisions):

* only changes the authorised person included or excluded (п. 2.1.3) — a change still under review has
  not been made in the Перечень yet;
* not the first placement of the approved Перечень (п. 5.2 has no term, see issue 11 A3);
* not a change reverted before it was placed (nothing to place);
* the day made: in ``"inclusion"`` mode the journal's ``made_on`` (the day the change was first seen
  included, or the typed «Дата изменения» on the very first run); in ``"act"`` mode the date of the act
  that approved it — a change without an act is not made yet and is counted apart (``waiting_for_act``);
* the year of a change is the year of its day made.

JSON (issue 12 item 7): ``{"year", "changes": [{"code", "cases", "made_on", "act", "placed_on",
"working_days", "on_time"}], "on_time", "late", "pending"}`` — dates ISO, ``placed_on``,
``working_days`` and ``on_time`` null while pending; ``cases`` are the case keys of ``perechen diff``
(``added``, ``kind_changed``, ``needs_changed``, ``excluded``, ``edited``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fsutil import atomic_write, make_dir
from .jinja import TemplateSet, get_template
from .journal import CASE_KEYS, ActRecord, Journal
from .models import PerechenError
from .printing import a4_landscape
from .text import plural, ru_date
from .workdays import DEFAULT_WORKING_DAYS, CalendarError, WorkCalendar

MODES = ("inclusion", "act")
CASE_TITLES = {
    "added": "5.3.1 — новая точка",
    "kind_changed": "5.3.2 — изменение вида точки",
    "needs_changed": "5.3.3 — изменение потребностей",
    "excluded": "5.3.4 — исключение точки",
    "edited": "уточнение сведений (не случай п. 5.3)",
}
JSON_NAME = "compliance.json"
HTML_NAME = "compliance.html"
XLSX_NAME = "compliance.xlsx"


class ComplianceError(PerechenError):
    """The report cannot be computed (a year the calendar does not know …)."""


@dataclass(frozen=True)
class ComplianceChange:
    code: str
    cases: tuple[str, ...]
    made_on: dt.date
    deadline: dt.date
    act: str | None = None
    placed_on: dt.date | None = None
    working_days: int | None = None
    on_time: bool | None = None
    overdue: bool = False  # pending and past the deadline on the report's day

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "cases": list(self.cases), "made_on": self.made_on.isoformat(), "act": self.act,
                "placed_on": self.placed_on.isoformat() if self.placed_on else None,
                "working_days": self.working_days, "on_time": self.on_time}


@dataclass
class ComplianceReport:
    year: int
    today: dt.date
    mode: str
    changes: list[ComplianceChange] = field(default_factory=list)
    waiting_for_act: int = 0
    provisional_years: tuple[int, ...] = ()
    agency: str = ""
    files: dict[str, Path] = field(default_factory=dict)
    # False: no nightly observation and no placement in the year — nothing to report, not «all on time»
    observed: bool = True
    journal_exists: bool = True

    @property
    def on_time(self) -> int:
        return sum(1 for c in self.changes if c.on_time is True)

    @property
    def late(self) -> int:
        return sum(1 for c in self.changes if c.on_time is False)

    @property
    def pending(self) -> int:
        return sum(1 for c in self.changes if c.placed_on is None)

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.changes if c.overdue)

    @property
    def exit_code(self) -> int:
        """0: nothing late or overdue; 1: a late placement or an overdue pending change (like a rule error);
        2: nothing observed in the year — the report cannot say whether the term was kept."""
        if not self.observed:
            return 2
        return 1 if self.late or self.overdue else 0

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "changes": [c.to_dict() for c in self.changes], "on_time": self.on_time,
                "late": self.late, "pending": self.pending}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def compute(journal: Journal, calendar: WorkCalendar, year: int, *, today: dt.date, mode: str = "inclusion",
            agency: str = "") -> ComplianceReport:
    """The report of ``year`` as seen on ``today`` (see the module docstring for what counts)."""
    if mode not in MODES:
        raise ComplianceError("approval_mode", f"Неизвестный режим утверждения «{mode}»: ожидается "
                                               f"{' или '.join(MODES)}.")
    acts: dict[int, ActRecord] = {a.id: a for a in journal.acts()}
    placed_on = {p.id: p.placed_at.date() for p in journal.placements()}
    groups: dict[tuple[str, dt.date, int | None, int | None], set[str]] = {}
    waiting: set[tuple[str, str]] = set()
    for c in journal.changes():
        if c.state == "reverted" or c.initial or not c.included:
            continue
        if mode == "act":
            act = acts.get(c.act_id) if c.act_id is not None else None
            if act is None:
                if c.state == "open":
                    waiting.add((c.code, c.case))
                    continue
                made = c.made_on  # placed without an act (before the mode was switched): its own day
            else:
                made = act.signed_on
        else:
            made = c.made_on
        if made is None or made.year != year:
            continue
        groups.setdefault((c.code, made, c.act_id, c.placement_id), set()).add(c.case)
    report = ComplianceReport(year=year, today=today, mode=mode, waiting_for_act=len(waiting), agency=agency)
    provisional: set[int] = set()
    try:
        for (code, made, act_id, pid), cases in groups.items():
            st = calendar.status(made, today, DEFAULT_WORKING_DAYS)
            provisional.update(st.provisional_years)
            act = acts.get(act_id) if act_id is not None else None
            ordered = tuple(k for k in CASE_KEYS if k in cases)
            placed = placed_on.get(pid) if pid is not None else None
            cited = act.citation() if act else None
            if placed is not None:
                days = calendar.working_days_between(made, placed)
                report.changes.append(ComplianceChange(code, ordered, made, st.deadline, cited, placed, days,
                                                       placed <= st.deadline))
            else:
                report.changes.append(ComplianceChange(code, ordered, made, st.deadline, cited, overdue=st.overdue))
    except CalendarError as e:
        raise ComplianceError("calendar", f"Не удалось посчитать рабочие дни (п. 5.4): {e}") from None
    report.changes.sort(key=lambda c: (c.made_on, c.code, c.cases))
    report.provisional_years = tuple(sorted(provisional))
    return report


# ------------------------------------------------------------------------------------------------------------
# Presentation


def _d(d: dt.date | None) -> str:
    return ru_date(d, "—")


def cases_text(cases: tuple[str, ...]) -> str:
    return "; ".join(CASE_TITLES.get(k, k) for k in cases)


def verdict(c: ComplianceChange) -> str:
    if c.on_time is True:
        return "в срок"
    if c.on_time is False:
        return "с опозданием"
    return f"не размещено, срок истёк {_d(c.deadline)}" if c.overdue else f"не размещено, срок до {_d(c.deadline)}"


def notes(report: ComplianceReport) -> list[str]:
    out = []
    if report.waiting_for_act:
        n = report.waiting_for_act
        what = plural(n, "включённое изменение ожидает", "включённых изменения ожидают", "включённых изменений ожидают")
        out.append(f"{n} {what} приказа (изменения утверждаются приказом): срок п. 5.4 начнётся с даты приказа.")
    if report.provisional_years:
        years = ", ".join(str(y) for y in report.provisional_years)
        out.append(f"Производственный календарь на {years} год предварительный: число рабочих дней может измениться.")
    return out


def nothing_observed(report: ComplianceReport) -> str:
    """Why a report of a year without any observation says nothing about п. 5.4 (exit code 2)."""
    where = ("журнала изменений ещё нет: ночная проверка (perechen nightly) не запускалась" if not report.journal_exists
             else "в журнале изменений за этот год нет ни одного запуска ночной проверки (perechen nightly)")
    return (f"Отчёт за {report.year} год не построен: perechen ещё ничего не наблюдал — {where}, размещение "
            "на официальном сайте не записано. Были ли изменения перечня и размещены ли они в срок (п. 5.4 "
            "Порядка), по этим данным сказать нельзя. Настройте ежедневный запуск perechen nightly; отчёт "
            "строится по тому, что он увидел.")


def render_text(report: ComplianceReport) -> str:
    if not report.observed:
        return nothing_observed(report) + "\n"
    lines = [f"Размещение изменений перечня в {report.year} году (п. 5.4: 10 рабочих дней со дня внесения).",
             f"В срок: {report.on_time}; с опозданием: {report.late}; ещё не размещены: {report.pending}"
             + (f" (из них просрочено: {report.overdue})" if report.overdue else "") + "."]
    lines.extend(notes(report))
    for c in report.changes:
        act = f", {c.act}" if c.act else ""
        placed = (f", размещено {_d(c.placed_on)} за {c.working_days} раб. дн." if c.placed_on else "")
        lines.append(f"  {c.code}: {cases_text(c.cases)}; внесено {_d(c.made_on)}{act}{placed} — {verdict(c)}")
    if not report.changes:
        lines.append(f"Изменений перечня в {report.year} году нет.")
    return "\n".join(lines) + "\n"


_PAGES = TemplateSet("compliance")


def render_html(report: ComplianceReport) -> str:
    rows = [{"code": c.code, "cases": cases_text(c.cases), "made_on": _d(c.made_on), "act": c.act or "—",
             "deadline": _d(c.deadline), "placed_on": _d(c.placed_on),
             "working_days": "—" if c.working_days is None else str(c.working_days), "verdict": verdict(c),
             "css": "ok" if c.on_time else "late" if (c.on_time is False or c.overdue) else "pending"}
            for c in report.changes]
    return str(get_template("compliance.html", _PAGES).render(
        year=report.year, today=_d(report.today), agency=report.agency, on_time=report.on_time, late=report.late,
        pending=report.pending, overdue=report.overdue, waiting_for_act=report.waiting_for_act,
        notes=notes(report), rows=rows))


def render_xlsx(report: ComplianceReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"Изменения {report.year}"
    heads = ["Код", "Случай п. 5.3", "Изменение внесено", "Приказ", "Срок размещения", "Размещено", "Рабочих дней",
             "Итог"]
    widths = [12, 40, 16, 30, 16, 14, 14, 30]
    for i, (h, w) in enumerate(zip(heads, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=i, value=h)
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = w
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, c in enumerate(report.changes, start=2):
        values: list[Any] = [c.code, cases_text(c.cases), c.made_on, c.act or "", c.deadline, c.placed_on,
                             c.working_days, verdict(c)]
        for i, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=i)
            if isinstance(v, dt.date):
                cell.value = v
                cell.number_format = "DD.MM.YYYY"
            elif isinstance(v, int):
                cell.value = v
            elif v:
                cell.value = str(v)
                cell.data_type = "s"  # text is never a formula
            cell.alignment = wrap
    ws.freeze_panes = "A2"
    a4_landscape(ws)
    tot = wb.create_sheet("Итоги")
    for r, (k, v) in enumerate([("Год", report.year), ("Размещены в срок", report.on_time),
                                ("Размещены с опозданием", report.late), ("Ещё не размещены", report.pending),
                                ("Из них просрочено", report.overdue),
                                ("Ожидают приказа", report.waiting_for_act)], start=1):
        tot.cell(row=r, column=1, value=k).font = Font(bold=True)
        tot.cell(row=r, column=2, value=v)
    tot.column_dimensions["A"].width = 28
    a4_landscape(tot, title_rows=0)
    wb.properties.title = f"Соблюдение п. 5.4 — {report.year}"
    wb.properties.creator = "perechen"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_reports(report: ComplianceReport, out: Path) -> dict[str, Path]:
    """compliance.json, compliance.html and compliance.xlsx into ``out`` (a run folder of output/reports/)."""
    make_dir(out)
    report.files["json"] = atomic_write(out / JSON_NAME, report.to_json())
    report.files["html"] = atomic_write(out / HTML_NAME, render_html(report))
    report.files["xlsx"] = atomic_write(out / XLSX_NAME, render_xlsx(report))
    return report.files

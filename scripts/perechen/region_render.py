"""The region's dashboard: one static page per sort order, no script (issue 14 §2).

``index.html`` lists the agencies by name; every column header links to the same table sorted by that column
(``sort-<column>-<asc|desc>.html``, pre-rendered), the current order marked with ``aria-sort``. An inline SVG
chart shows errors, warnings and changes waiting for placement per agency. Each agency's name links to its
check report under ``agencies/<id>/report/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fsutil import atomic_write_all
from .jinja import TemplateSet, get_template
from .text import plural, ru_date, work_days

# perechen.region's AgencyResult and RegionResult (duck-typed: region imports this module, not the other way).
AgencyResult = Any
RegionResult = Any

INDEX = "index.html"
TEMPLATE = "region.html"
PARTS = "region-parts.html"  # the macros of a table row and of the chart
_SET = TemplateSet("region")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    numeric: bool
    first: str  # the direction a click on an unsorted column gives


COLUMNS: tuple[Column, ...] = (
    Column("name", "Орган", False, "asc"),
    Column("rows", "Точек", True, "desc"),
    Column("errors", "Ошибок", True, "desc"),
    Column("warnings", "Предупреждений", True, "desc"),
    Column("pending", "Ждут размещения", True, "desc"),
    Column("days", "Срок размещения (п. 5.4)", False, "asc"),
)


def view_name(key: str, direction: str) -> str:
    return INDEX if (key, direction) == ("name", "asc") else f"sort-{key}-{direction}.html"


def _days(a: AgencyResult) -> int | None:
    """Working days left (negative: overdue); None when nothing waits or the state is unknown."""
    if a.file_error or not a.pending or not a.deadline:
        return None
    return -a.overdue if a.overdue else (a.working_days_left or 0)


def _sort_key(key: str) -> Callable[[AgencyResult], Any]:
    if key == "name":
        return lambda a: a.name.casefold()
    if key == "days":
        return lambda a: _days(a)
    return lambda a: getattr(a, key)


def sorted_agencies(agencies: list[AgencyResult], key: str, direction: str) -> list[AgencyResult]:
    """Sorted by ``key``; an agency without a value (unread workbook, nothing pending) always goes last."""
    fn = _sort_key(key)
    known = [a for a in agencies if fn(a) is not None and not (a.file_error and key != "name")]
    placed = {id(a) for a in known}  # by identity: comparing the results field by field cost n² dataclass __eq__
    unknown = [a for a in agencies if id(a) not in placed]
    known.sort(key=lambda a: (fn(a), a.name.casefold()), reverse=direction == "desc")
    return known + sorted(unknown, key=lambda a: a.name.casefold())


def _days_cell(a: AgencyResult) -> dict[str, str]:
    if a.file_error:
        return {"text": "—", "cls": ""}
    if not a.tracked:
        return {"text": "не отслеживается", "cls": "muted"}
    if not a.pending:
        return {"text": "нечего размещать", "cls": "muted"}
    if not a.deadline and a.waiting_for_act:
        return {"text": "ждут приказа: срок — со дня приказа", "cls": "muted"}
    if not a.deadline:
        return {"text": "срок не исчисляется" + ("" if a.placed_version else " (ещё не размещался)"), "cls": "muted"}
    deadline = ru_date(dt.date.fromisoformat(a.deadline))
    if a.overdue:
        return {"text": f"просрочено на {work_days(a.overdue)} (срок {deadline})", "cls": "late"}
    left = a.working_days_left or 0
    return {"text": f"осталось {work_days(left)} (до {deadline})" if left else f"сегодня последний день ({deadline})",
            "cls": "soon" if left <= 2 else ""}


def _row(a: AgencyResult) -> dict[str, Any]:
    return {"a": a, "days": _days_cell(a),
            "status": "failed" if a.file_error else ("errors" if a.errors or a.overdue else
                                                     ("warnings" if a.warnings else "ok"))}


def chart(agencies: list[AgencyResult]) -> dict[str, Any]:
    """Horizontal bars per agency: errors, warnings, changes waiting for placement (an inline SVG)."""
    label_w, bar_w, row_h, bar_h = 260, 420, 54, 14
    series = (("errors", "Ошибки", "#b3261e"), ("warnings", "Предупреждения", "#8a5a00"),
              ("pending", "Ждут размещения", "#0b4f9c"))
    vmax = max([1, *(getattr(a, k) for a in agencies for k, _, _ in series)])
    rows = []
    for i, a in enumerate(sorted(agencies, key=lambda a: a.name.casefold())):
        y = 30 + i * row_h
        bars = []
        for j, (k, title, color) in enumerate(series):
            v = getattr(a, k)
            w = round(bar_w * v / vmax, 1)
            bars.append({"x": label_w, "y": y + j * (bar_h + 2), "w": max(w, 0.5 if v else 0), "h": bar_h,
                         "color": color, "value": v, "title": f"{a.name}: {title.lower()} — {v}",
                         "tx": label_w + w + 6, "ty": y + j * (bar_h + 2) + bar_h - 3})
        name = a.name if len(a.name) <= 34 else a.name[:33] + "…"
        rows.append({"name": name, "full": a.name, "y": y + 20, "bars": bars, "failed": bool(a.file_error)})
    height = 30 + len(agencies) * row_h + 10
    legend = [{"title": t, "color": c, "x": label_w + i * 150} for i, (_, t, c) in enumerate(series)]
    desc = "; ".join(f"{a.name}: ошибок {a.errors}, предупреждений {a.warnings}, ждут размещения {a.pending}"
                     + (" (книга не прочитана)" if a.file_error else "") for a in agencies)
    return {"width": label_w + bar_w + 60, "height": height, "rows": rows, "legend": legend, "desc": desc}


@dataclass(frozen=True)
class _Parts:
    """What every view of one run shares: each agency's table row and the chart (rendered once, not once per view),
    the totals and the lists of the banner."""

    rows: dict[int, Any]  # id(agency) → its <tr>…</tr> (Markup)
    common: dict[str, Any]


def _parts(result: RegionResult) -> _Parts:
    agencies = result.agencies
    macros = get_template(PARTS, _SET).module
    rows = {id(a): macros.row(_row(a)) for a in agencies}  # type: ignore[attr-defined]
    common = dict(
        region=result.name, today=ru_date(result.today), total_rows=result.rows, total_errors=result.errors,
        total_warnings=sum(a.warnings for a in agencies), total_pending=sum(a.pending for a in agencies),
        agencies_word=plural(len(agencies), "орган", "органа", "органов"), count=len(agencies),
        overdue=[a for a in agencies if a.overdue], failed=[a for a in agencies if a.file_error],
        with_errors=[a for a in agencies if a.errors],
        chart_svg=macros.chart_svg(chart(agencies)),  # type: ignore[attr-defined]
        opendata=[(p.name, f"opendata/{p.name}") for k, p in sorted(result.files.items())
                  if k.startswith("opendata_")])
    return _Parts(rows=rows, common=common)


def render(result: RegionResult, key: str, direction: str, parts: _Parts | None = None) -> str:
    """One view: the table sorted by ``key`` in ``direction`` (``parts``: :func:`_parts` of the run, made once for
    all views)."""
    parts = parts or _parts(result)
    headers = []
    for c in COLUMNS:
        current = c.key == key
        nxt = ("desc" if direction == "asc" else "asc") if current else c.first
        headers.append({"col": c, "current": current,
                        "aria": ("ascending" if direction == "asc" else "descending") if current else None,
                        "href": view_name(c.key, nxt),
                        "hint": "по возрастанию" if nxt == "asc" else "по убыванию"})
    order_title = next(c.title for c in COLUMNS if c.key == key)
    return get_template(TEMPLATE, _SET).render(
        rows=[parts.rows[id(a)] for a in sorted_agencies(result.agencies, key, direction)],
        headers=headers, order_title=order_title, direction="по возрастанию" if direction == "asc" else "по убыванию",
        **parts.common)


def write_dashboard(result: RegionResult, out: Path) -> dict[str, Path]:
    """index.html and every pre-sorted view; returns {"html": index.html}."""
    parts = _parts(result)
    views = [(out / view_name(c.key, d), render(result, c.key, d, parts)) for c in COLUMNS for d in ("asc", "desc")]
    atomic_write_all(views)
    return {"html": out / INDEX}


def warm() -> None:
    """Compile the dashboard's templates now (a region run does it while its workers read the agencies)."""
    get_template(TEMPLATE, _SET)
    get_template(PARTS, _SET)

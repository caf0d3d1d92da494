"""``output/reports/index.html``: one page a clerk opens to see the state of the register.

Built only from files, so it can always be rebuilt: ``output/reports/history.jsonl`` (one JSON line per
nightly run, appended under the nightly lock, :class:`~perechen.summary.HistoryEntry`) and the latest runs'
``nightly.json`` (:class:`~perechen.summary.NightlySummary`); files of earlier versions load too. The page is written
atomically (temporary file + rename). Self-contained: inline CSS, the chart as inline SVG, no scripts, no
external resources; the chart has a text description and a data table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .fsutil import atomic_write, stamp
from .jinja import TemplateSet, get_template
from .locks import LockInfo
from .retention import disk_usage
from .summary import DiskUsage, HistoryEntry, NightlySummary
from .text import ru_date_text, ru_datetime, ru_datetime_text, ru_day_month

HISTORY_FILE = "history.jsonl"
INDEX_FILE = "index.html"
RUNS_LISTED = 100

STATUS_TEXT = {
    "ok": "замечаний нет",
    "warnings": "только предупреждения",
    "errors": "есть ошибки",
    "overdue": "срок размещения на официальном сайте прошёл",
    "failed": "запуск не выполнен",
    "interrupted": "запуск прерван",
}

FILE_LABELS = [
    ("summary", "итоги"),
    ("html", "отчёт проверки"),
    ("xlsx", "книга с пометками"),
    ("json", "отчёт проверки (JSON)"),
]


# --------------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------------

def load_history(reports_root: Path) -> list[HistoryEntry]:
    """Every readable line of history.jsonl (a torn last line from a killed run is skipped)."""
    path = reports_root / HISTORY_FILE
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return []
    out: list[HistoryEntry] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        entry = HistoryEntry.parse(d)
        if entry is not None:
            out.append(entry)
    return out


def append_history(reports_root: Path, entry: HistoryEntry, *, keep: int = 1000) -> None:
    """Append one line; when the file holds more than ``keep`` lines, rewrite it atomically with the last ones."""
    reports_root.mkdir(parents=True, exist_ok=True)
    path = reports_root / HISTORY_FILE
    line = entry.to_line()
    history = load_history(reports_root)
    raw_ok = True
    try:
        raw = path.read_bytes()
        raw_ok = not raw or raw.endswith(b"\n")
    except FileNotFoundError:
        raw = b""
    if len(history) + 1 > keep or not raw_ok:
        kept = [*history, entry][-max(1, keep):]
        atomic_write(path, "".join(e.to_line() for e in kept))
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def note_interrupted(reports_root: Path, held: LockInfo, *, keep: int = 1000) -> None:
    """Record a run that was killed while holding the lock (its folder, if it got one, stays as it is)."""
    name = Path(held.run_dir).name if held.run_dir else stamp(held.started)
    if any(e.run == name for e in load_history(reports_root)):
        return
    files: dict[str, str] = {}
    if held.run_dir:
        d = reports_root / name
        for key, fname in (("html", "report.html"), ("json", "report.json")):
            if (d / fname).is_file():
                files[key] = f"{name}/{fname}"
    append_history(reports_root, HistoryEntry.interrupted(name, held.started, held.pid, held.host, files),
                   keep=keep)


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------

def _date_ru(s: Any) -> str:
    return ru_date_text(s or None, "—")


def _datetime_ru(s: Any, *, seconds: bool = False) -> str:
    return ru_datetime_text(s or None, seconds=seconds, empty="—")


def _plural_days(n: Any) -> str:
    try:
        k = int(n)
    except (TypeError, ValueError):
        return ""
    from .text import plural

    return plural(k, "рабочий день", "рабочих дня", "рабочих дней")


def _plural_changes(n: Any) -> str:
    from .text import plural

    try:
        return plural(int(n), "включённое изменение", "включённых изменения", "включённых изменений")
    except (TypeError, ValueError):
        return ""


TEMPLATES = TemplateSet(
    "dashboard",
    filters={"ddmm": _date_ru, "dt": _datetime_ru, "dts": lambda v: _datetime_ru(v, seconds=True),
             "plural_days": _plural_days, "plural_changes": _plural_changes},
    globals={"STATUS_TEXT": STATUS_TEXT, "FILE_LABELS": FILE_LABELS},
)


def _load_summary(reports_root: Path, entry: HistoryEntry) -> NightlySummary | None:
    return NightlySummary.load(reports_root / entry.run / "nightly.json")


def chart(history: Sequence[HistoryEntry], *, runs: int = 30) -> dict[str, Any]:
    """Geometry of the SVG chart: bars for errors and warnings, a line for pending changes.

    A point has ``err_bar`` / ``warn_bar`` / ``pend_y`` only when the run has that number.
    """
    pts = [e for e in history if e.status != "interrupted"][-max(1, runs):]
    w, h = 760, 260
    left, right, top, bottom = 48, 16, 16, 48
    pw, ph = w - left - right, h - top - bottom
    values = [v for e in pts for v in (e.errors, e.warnings, e.pending_changes) if isinstance(v, int)]
    vmax = max([1, *values])
    step = _nice_step(vmax)
    ymax = step * -(-vmax // step)
    n = max(1, len(pts))
    slot = pw / n
    bw = max(2.0, min(18.0, slot * 0.3))

    def y(v: float) -> float:
        return round(top + ph - (v / ymax) * ph, 1)

    ticks = [{"value": t, "y": y(t)} for t in range(0, ymax + 1, step)]
    label_every = max(1, -(-len(pts) // 12))
    items: list[dict[str, Any]] = []
    line: list[str] = []
    for i, e in enumerate(pts):
        cx = left + slot * i + slot / 2
        err, warn, pend = e.errors, e.warnings, e.pending_changes
        item: dict[str, Any] = {"run": e.run, "started": e.started, "label": _short_label(e), "x": round(cx, 1),
                                "show_label": i % label_every == 0 or i == len(pts) - 1,
                                "failed": not isinstance(err, int), "errors": err, "warnings": warn,
                                "pending": pend, "status": e.status}
        if isinstance(err, int):
            item["err_bar"] = {"x": round(cx - bw, 1), "y": y(err), "h": round(top + ph - y(err), 1), "w": bw}
        if isinstance(warn, int):
            item["warn_bar"] = {"x": round(cx, 1), "y": y(warn), "h": round(top + ph - y(warn), 1), "w": bw}
        if isinstance(pend, int):
            item["pend_y"] = y(pend)
            line.append(f"{round(cx, 1)},{y(pend)}")
        items.append(item)
    desc = _chart_desc(pts)
    return {"w": w, "h": h, "left": left, "right": w - right, "top": top, "base": top + ph, "ticks": ticks,
            "points": items, "line": " ".join(line), "desc": desc, "label_y": h - bottom + 18}


def _nice_step(vmax: int) -> int:
    for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if vmax / s <= 5:
            return s
    return int(10 ** len(str(vmax // 5)))


def _short_label(e: HistoryEntry) -> str:
    try:
        return ru_day_month(dt.datetime.fromisoformat(str(e.started)))
    except ValueError:
        return e.run[:10]


def _chart_desc(pts: list[HistoryEntry]) -> str:
    if not pts:
        return "Запусков пока не было."
    first, last = pts[0], pts[-1]
    good = [e for e in pts if isinstance(e.errors, int)]
    parts = [f"Запусков на графике: {len(pts)}, с {_datetime_ru(first.started)} "
             f"по {_datetime_ru(last.started)}."]
    if good:
        g = good[-1]
        parts.append(f"В последнем прочитанном запуске ошибок {g.errors}, предупреждений "
                     f"{g.warnings}" + (f", изменений ждут размещения {g.pending_changes}"
                                        if isinstance(g.pending_changes, int) else "") + ".")
        parts.append(f"Наибольшее число ошибок: {max(int(e.errors or 0) for e in good)}.")
    failed = len(pts) - len(good)
    if failed:
        parts.append(f"Запусков, в которых книгу не удалось прочитать: {failed}.")
    return " ".join(parts)


def _run_links(entry: HistoryEntry) -> list[tuple[str, str]]:
    """(label, href) of a run's files for the list of runs."""
    files = entry.files
    links = [(label, files[key]) for key, label in FILE_LABELS if key in files]
    extra = [(k, v) for k, v in files.items() if k not in {key for key, _ in FILE_LABELS} and k != "nightly"]
    return links + [(_extra_label(k, v), v) for k, v in sorted(extra)]


def render_dashboard(reports_root: Path, history: Sequence[HistoryEntry], *, chart_runs: int = 30,
                     now: dt.datetime | None = None, disk: DiskUsage | None = None) -> str:
    latest = history[-1] if history else None
    latest_summary = _load_summary(reports_root, latest) if latest else None
    state_entry: HistoryEntry | None = None
    state: NightlySummary | None = None
    for e in reversed(history):
        if e.status in ("failed", "interrupted"):
            continue
        st = _load_summary(reports_root, e)
        if st is not None and st.check is not None:
            state_entry, state = e, st
            break
    runs = [(r, _run_links(r)) for r in list(reversed(history))[:RUNS_LISTED]]
    return get_template("index.html", TEMPLATES).render(
        generated=ru_datetime(now or dt.datetime.now()),
        latest=latest, latest_summary=latest_summary, state=state, state_entry=state_entry,
        stale_state=bool(latest and state_entry and state_entry is not latest),
        runs=runs, latest_links=runs[0][1] if runs else [], total_runs=len(history),
        chart=chart(history, runs=chart_runs), disk=disk,
    )


def _extra_label(key: str, path: str) -> str:
    if key == "nightly":
        return "итоги (JSON)"
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if key.startswith("diff"):
        return {"html": "сравнение", "xlsx": "сравнение (Excel)", "json": "сравнение (JSON)"}.get(ext, key)
    return {"html": "страница", "xlsx": "Excel", "json": "JSON", "csv": "CSV"}.get(ext, key)


def measure_disk(output_dir: Path) -> DiskUsage | None:
    """The disk used by output/ (None when it cannot be measured: the dashboard is still written)."""
    try:
        return DiskUsage.from_bytes(disk_usage(output_dir))
    except OSError:
        return None


def write_dashboard(reports_root: Path, *, chart_runs: int = 30, now: dt.datetime | None = None,
                    output_dir: Path | None = None) -> Path:
    """Rewrite ``index.html``; the disk used is measured in ``output_dir`` (by default the folder above reports/)."""
    disk = measure_disk(output_dir if output_dir is not None else reports_root.parent)
    html = render_dashboard(reports_root, load_history(reports_root), chart_runs=chart_runs, now=now, disk=disk)
    return atomic_write(reports_root / INDEX_FILE, html)


def render_run_page(summary: NightlySummary, findings: list[dict[str, Any]]) -> str:
    """The page of one run (``summary.html`` in its folder); for an unreadable workbook, its HTML report."""
    files = summary.files
    links = [(label, files[key]) for key, label in FILE_LABELS if key in files and key != "summary"]
    links += [(_extra_label(k, v), v) for k, v in sorted(files.items())
              if k not in {key for key, _ in FILE_LABELS}]
    serious = [f for f in findings if f.get("severity") in ("error", "warning")]
    return get_template("index_run.html", TEMPLATES).render(s=summary, links=links, findings=serious[:500],
                                                        more=max(0, len(serious) - 500))

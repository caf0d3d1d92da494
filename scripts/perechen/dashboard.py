"""``output/reports/index.html``: one page a clerk opens to see the state of the register.

Built only from files, so it can always be rebuilt: ``output/reports/history.jsonl`` (one JSON line per
nightly run, appended under the nightly lock) and the latest runs' ``nightly.json``. The page is written
atomically (temporary file + rename). Self-contained: inline CSS, the chart as inline SVG, no scripts, no
external resources; the chart has a text description and a data table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from .fsutil import atomic_write
from .lock import LockInfo

HISTORY_FILE = "history.jsonl"
INDEX_FILE = "index.html"
RUNS_LISTED = 100

STATUS_TEXT = {
    "ok": "замечаний нет",
    "warnings": "только предупреждения",
    "errors": "есть ошибки",
    "overdue": "срок публикации прошёл",
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

def load_history(reports_root: Path) -> list[dict[str, Any]]:
    """Every readable line of history.jsonl (a torn last line from a killed run is skipped)."""
    path = reports_root / HISTORY_FILE
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if isinstance(d, dict) and d.get("run"):
            out.append(d)
    return out


def append_history(reports_root: Path, entry: dict[str, Any], *, keep: int = 1000) -> None:
    """Append one line; when the file holds more than ``keep`` lines, rewrite it atomically with the last ones."""
    reports_root.mkdir(parents=True, exist_ok=True)
    path = reports_root / HISTORY_FILE
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    history = load_history(reports_root)
    raw_ok = True
    try:
        raw = path.read_bytes()
        raw_ok = not raw or raw.endswith(b"\n")
    except FileNotFoundError:
        raw = b""
    if len(history) + 1 > keep or not raw_ok:
        kept = [*history, entry][-max(1, keep):]
        atomic_write(path, "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in kept))
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def history_entry(s: dict[str, Any], reports_root: Path) -> dict[str, Any]:
    chk = s.get("check") or {}
    diff = s.get("diff") or {}
    pub = s.get("publish") or {}
    mail_results = (s.get("mail") or {}).get("results") or []
    run = str(s.get("run"))
    files = {k: f"{run}/{v}" for k, v in (s.get("files") or {}).items()}
    return {
        "run": run,
        "started": s.get("started"),
        "finished": s.get("finished"),
        "status": s.get("status"),
        "exit_code": s.get("exit_code"),
        "demo": bool(s.get("demo")),
        "workbook": s.get("workbook"),
        "rows": chk.get("rows"),
        "errors": chk.get("errors"),
        "warnings": chk.get("warnings"),
        "pending_changes": None if not s.get("diff") else (0 if diff.get("published_now")
                                                          else diff.get("pending_changes")),
        "pending_review": diff.get("pending_review"),
        "deadline": diff.get("deadline"),
        "working_days_left": diff.get("working_days_left"),
        "overdue": bool(s.get("overdue")),
        "published": pub.get("ok") if pub.get("attempted") else None,
        "publish_text": pub.get("text"),
        "mail_sent": sum(1 for r in mail_results if r.get("ok")),
        "mail_failed": sum(1 for r in mail_results if not r.get("ok")),
        "file_error": (s.get("file_error") or {}).get("message"),
        "keeper_email": s.get("keeper_email"),
        "files": files,
    }


def note_interrupted(reports_root: Path, held: LockInfo, *, keep: int = 1000) -> None:
    """Record a run that was killed while holding the lock (its folder, if it got one, stays as it is)."""
    name = Path(held.run_dir).name if held.run_dir else f"{held.started:%Y-%m-%d_%H%M%S}"
    if any(e.get("run") == name for e in load_history(reports_root)):
        return
    files: dict[str, str] = {}
    if held.run_dir:
        d = reports_root / name
        for key, fname in (("html", "report.html"), ("json", "report.json")):
            if (d / fname).is_file():
                files[key] = f"{name}/{fname}"
    append_history(reports_root, {
        "run": name, "started": held.started.isoformat(timespec="seconds"), "finished": None,
        "status": "interrupted", "exit_code": None, "demo": False, "rows": None, "errors": None, "warnings": None,
        "pending_changes": None, "pending_review": None, "deadline": None, "working_days_left": None,
        "overdue": False, "published": None, "publish_text": None, "mail_sent": 0, "mail_failed": 0,
        "file_error": f"Запуск прерван (процесс {held.pid} на компьютере {held.host}).", "files": files,
    }, keep=keep)


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------

def _env() -> Any:
    from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("perechen", "templates"),
                      autoescape=select_autoescape(["html"], default_for_string=True, default=True),
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["ddmm"] = _date_ru
    env.filters["dt"] = _datetime_ru
    env.filters["dts"] = lambda v: _datetime_ru(v, seconds=True)
    env.filters["plural_days"] = _plural_days
    env.globals["STATUS_TEXT"] = STATUS_TEXT
    env.globals["FILE_LABELS"] = FILE_LABELS
    return env


def _date_ru(s: Any) -> str:
    if not s:
        return "—"
    try:
        return dt.date.fromisoformat(str(s)[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return str(s)


def _datetime_ru(s: Any, *, seconds: bool = False) -> str:
    if not s:
        return "—"
    try:
        return dt.datetime.fromisoformat(str(s)).strftime("%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M")
    except ValueError:
        return str(s)


def _plural_days(n: Any) -> str:
    try:
        k = int(n)
    except (TypeError, ValueError):
        return ""
    from .text import plural

    return plural(k, "рабочий день", "рабочих дня", "рабочих дней")


def _load_summary(reports_root: Path, entry: dict[str, Any]) -> dict[str, Any] | None:
    try:
        raw = (reports_root / str(entry["run"]) / "nightly.json").read_text("utf-8")
        d = json.loads(raw)
    except (OSError, ValueError, KeyError):
        return None
    return d if isinstance(d, dict) else None


def chart(history: list[dict[str, Any]], *, runs: int = 30) -> dict[str, Any]:
    """Geometry of the SVG chart: bars for errors and warnings, a line for pending changes."""
    pts = [e for e in history if e.get("status") != "interrupted"][-max(1, runs):]
    w, h = 760, 260
    left, right, top, bottom = 48, 16, 16, 48
    pw, ph = w - left - right, h - top - bottom
    values = [v for e in pts for v in (e.get("errors"), e.get("warnings"), e.get("pending_changes"))
              if isinstance(v, int)]
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
        err, warn, pend = e.get("errors"), e.get("warnings"), e.get("pending_changes")
        item: dict[str, Any] = {"run": e.get("run"), "label": _short_label(e), "x": round(cx, 1),
                                "show_label": i % label_every == 0 or i == len(pts) - 1,
                                "failed": not isinstance(err, int), "errors": err, "warnings": warn,
                                "pending": pend, "status": e.get("status")}
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
    return 10 ** len(str(vmax // 5))


def _short_label(e: dict[str, Any]) -> str:
    try:
        return dt.datetime.fromisoformat(str(e.get("started"))).strftime("%d.%m")
    except ValueError:
        return str(e.get("run", ""))[:10]


def _chart_desc(pts: list[dict[str, Any]]) -> str:
    if not pts:
        return "Запусков пока не было."
    first, last = pts[0], pts[-1]
    good = [e for e in pts if isinstance(e.get("errors"), int)]
    parts = [f"Запусков на графике: {len(pts)}, с {_datetime_ru(first.get('started'))} "
             f"по {_datetime_ru(last.get('started'))}."]
    if good:
        g = good[-1]
        parts.append(f"В последнем прочитанном запуске ошибок {g.get('errors')}, предупреждений "
                     f"{g.get('warnings')}" + (f", изменений ждут публикации {g.get('pending_changes')}"
                                               if isinstance(g.get("pending_changes"), int) else "") + ".")
        parts.append(f"Наибольшее число ошибок: {max(int(e.get('errors') or 0) for e in good)}.")
    failed = len(pts) - len(good)
    if failed:
        parts.append(f"Запусков, в которых книгу не удалось прочитать: {failed}.")
    return " ".join(parts)


def render_dashboard(reports_root: Path, history: list[dict[str, Any]], *, chart_runs: int = 30,
                     now: dt.datetime | None = None) -> str:
    latest = history[-1] if history else None
    latest_summary = _load_summary(reports_root, latest) if latest else None
    state_entry, state = None, None
    for e in reversed(history):
        if e.get("status") in ("failed", "interrupted"):
            continue
        st = _load_summary(reports_root, e)
        if st is not None and st.get("check"):
            state_entry, state = e, st
            break
    runs = list(reversed(history))[:RUNS_LISTED]
    for r in runs:
        r["links"] = [(label, r["files"][key]) for key, label in FILE_LABELS if key in (r.get("files") or {})]
        extra = [(k, v) for k, v in (r.get("files") or {}).items()
                 if k not in {key for key, _ in FILE_LABELS} and k not in {"nightly"}]
        r["links"] += [(_extra_label(k, v), v) for k, v in sorted(extra)]
    return _env().get_template("index.html").render(
        generated=(now or dt.datetime.now()).strftime("%d.%m.%Y %H:%M"),
        latest=latest, latest_summary=latest_summary, state=state, state_entry=state_entry,
        stale_state=bool(latest and state_entry and state_entry is not latest),
        runs=runs, total_runs=len(history), chart=chart(history, runs=chart_runs),
    )


def _extra_label(key: str, path: str) -> str:
    if key == "nightly":
        return "итоги (JSON)"
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if key.startswith("diff"):
        return {"html": "сравнение", "xlsx": "сравнение (Excel)", "json": "сравнение (JSON)"}.get(ext, key)
    return {"html": "страница", "xlsx": "Excel", "json": "JSON", "csv": "CSV"}.get(ext, key)


def write_dashboard(reports_root: Path, *, chart_runs: int = 30, now: dt.datetime | None = None) -> Path:
    html = render_dashboard(reports_root, load_history(reports_root), chart_runs=chart_runs, now=now)
    return atomic_write(reports_root / INDEX_FILE, html)


def render_run_page(summary: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    """The page of one run (``summary.html`` in its folder); for an unreadable workbook, its HTML report."""
    files = summary.get("files") or {}
    links = [(label, files[key]) for key, label in FILE_LABELS if key in files and key != "summary"]
    links += [(_extra_label(k, v), v) for k, v in sorted(files.items())
              if k not in {key for key, _ in FILE_LABELS}]
    serious = [f for f in findings if f.get("severity") in ("error", "warning")]
    return _env().get_template("index_run.html").render(s=summary, links=links, findings=serious[:500],
                                                        more=max(0, len(serious) - 500))

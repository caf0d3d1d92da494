"""How a comparison reads in Russian: the terminal text of ``perechen diff`` and the lines the HTML and XLSX
renderers, the mail and the nightly text share (deadline, baseline, summary, changes waiting for an act). The
comparison itself is :mod:`perechen.diff`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .canonical import gc_paused
from .diff import (
    AWAITS_ACT,
    CASES,
    DiffReport,
    DiffWarning,
    _date_of,
    info_labels,
    is_empty,
)
from .rules import Rules
from .text import plural, ru_date, ru_datetime, work_days

# Presentation helpers (shared by the text, HTML and XLSX renderers)



def show_value(field_name: str, value: Any) -> str:
    """A canonical value as a clerk reads it: lists joined with «; », dates as ДД.ММ.ГГГГ, empty as «—»."""
    if is_empty(value):
        return "—"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if field_name == "changed_on" or isinstance(value, dt.date):
        d = _date_of(value)
        if d is not None:
            return ru_date(d)
    return str(value)


FIRST_PLACEMENT = ("Первое размещение утверждённого перечня на официальном сайте (п. 5.2): срок п. 5.4 к нему не "
                   "применяется — он относится к изменениям уже размещённого перечня.")
INFO_ONLY = ("Точки взаимодействия не изменились; изменились сведения на листе «Сведения» — это не случай "
             "п. 5.3, срок п. 5.4 по нему не считается. Разместите перечень на официальном сайте повторно, "
             "чтобы страница показывала актуальные сведения.")


def deadline_line(report: DiffReport, *, with_state: bool = True) -> str:
    if report.baseline is None and (report.changes or report.info_changes):
        return FIRST_PLACEMENT
    if not report.changes:
        if report.info_changes:
            return INFO_ONLY
        return "Неопубликованных изменений нет — размещать на официальном сайте нечего."
    waiting = len(report.awaiting_act)
    if report.earliest_change is None or report.deadline is None:
        if waiting:
            return f"Изменения ждут приказа: {awaiting_act_text(waiting, of=None)}."
        return "Срок размещения на официальном сайте (п. 5.4) не рассчитан."
    head = (f"Срок размещения на официальном сайте (п. 5.4): 10 рабочих дней со дня самого раннего "
            f"неразмещённого изменения ({ru_date(report.earliest_change)}) — не позднее "
            f"{ru_date(report.deadline)}.")
    if not with_state:
        return head
    if report.overdue:
        state = f"ПРОСРОЧЕНО на {work_days(report.overdue_working_days)}."
    elif not report.working_days_left:
        state = "Сегодня последний день срока."
    else:
        state = f"Осталось {work_days(report.working_days_left)}."
    if waiting:  # after the state: the HTML report shows the head and the rest apart
        some = awaiting_act_text(waiting, of=len({c.code for c in report.changes}))
        state += f" {some[:1].upper()}{some[1:]}."
    return f"{head} {state}"




def awaiting_act_text(waiting: int, *, of: int | None) -> str:
    """``"act"`` mode, the changes (codes) no act approved yet, in the words of ``perechen region``: all of them
    (``of`` None or not more) — «ни одно ещё не утверждено приказом — срок по п. 5.4 исчисляется со дня приказа»;
    some — «из них ещё не утверждены приказом: N — срок по ним исчисляется со дня приказа». No capital, no stop."""
    if of is None or waiting >= of:
        return f"ни одно ещё не утверждено приказом — {AWAITS_ACT}"
    return f"из них ещё не утверждены приказом: {waiting} — срок по ним исчисляется со дня приказа"


def act_waiting_line(waiting: dict[str, Any]) -> str:
    """``"act"`` mode: how many included changes still wait for an act, since when."""
    n = int(waiting.get("count") or 0)
    if not n:
        return "Режим утверждения приказом: все включённые изменения утверждены приказом."
    since = _date_of(waiting.get("since"))
    codes = list(waiting.get("codes") or [])
    what = plural(n, "включённое изменение", "включённых изменения", "включённых изменений")
    return (f"Режим утверждения приказом: ждут приказа {n} {what}"
            + (f" (с {ru_date(since)})" if since else "") + f": {', '.join(codes[:20])}"
            + (" …" if len(codes) > 20 else "") + ". На официальном сайте они появятся после приказа.")


def baseline_line(report: DiffReport) -> str:
    b = report.baseline
    if b is None:
        return ("Опубликованной версии нет: все включённые точки войдут в первое размещение перечня на "
                "официальном сайте (п. 5.2).")
    if b.manifest.get("source") == "xlsx":
        return f"Сравнение с перечнем, опубликованным до perechen: {b.path}."
    when = b.published_at
    parts = [f"Сравнение с опубликованной версией {b.name}"]
    extra = []
    if when is not None:
        extra.append(f"опубликована {ru_datetime(when)}")
    if b.manifest.get("user"):
        extra.append(f"пользователь {b.manifest['user']}")
    if b.manifest.get("target"):
        extra.append(f"цель {b.manifest['target']}")
    if extra:
        parts.append(" (" + ", ".join(extra) + ")")
    return "".join(parts) + "."


def summary_line(report: DiffReport, rules: Rules | None = None) -> str:
    counts = report.counts()
    info = ""
    if report.info_changes:
        labels = info_labels(report, rules) if rules is not None else sorted(report.info_changes)
        info = "; на листе «Сведения» изменено: " + ", ".join(f"«{x}»" for x in labels)
    if not report.changes:
        if info:
            return "Изменений точек взаимодействия нет" + info + "."
        return "Изменений по сравнению с опубликованной версией нет."
    bits = [f"{CASES[k][1].split(' (')[0].lower()}: {n}" for k, n in counts.items() if n]
    points = len({c.code for c in report.changes})
    return (f"Изменений: {len(report.changes)} у {points} {plural(points, 'точки', 'точек', 'точек')} "
            f"({'; '.join(bits)}){info}.")


TEXT_LIMIT = 50


def printed_warnings(report: DiffReport) -> list[DiffWarning]:
    """Warnings shown to a clerk: a change on «Сведения» has its own section (it is reported once)."""
    return [w for w in report.warnings if w.type != "info-changed"]


def under_review_published(report: DiffReport) -> list[str]:
    """Codes under review that are on the site in their last published form."""
    base = report.baseline.rows_by_code if report.baseline is not None else {}
    return [c for c in report.pending_review if c in base]


def pending_review_lines(report: DiffReport, *, limit: int = TEXT_LIMIT) -> list[str]:
    kept = under_review_published(report)
    new = [c for c in report.pending_review if c not in set(kept)]
    out = []
    for codes, text in ((new, "Ждут проверки («черновик», «на проверке»), пока не размещаются"),
                        (kept, "На проверке, на официальном сайте остаётся последняя опубликованная редакция")):
        if codes:
            more = f" и ещё {len(codes) - limit}" if len(codes) > limit else ""
            out.append(f"{text}: {', '.join(codes[:limit])}{more}")
    return out


@gc_paused()  # see DiffReport.to_json
def render_text(report: DiffReport, rules: Rules, *, limit: int = TEXT_LIMIT) -> str:
    header = {c.field: c.header for c in rules.schema.columns}
    lines = [baseline_line(report), ""]
    for kind, items in report.by_case().items():
        if not items:
            continue
        clause, title = CASES[kind]
        lines.append(f"{title}{f' (п. {clause})' if clause else ''}: {len(items)}")
        for ch in items[:limit]:
            where = f"строка {ch.row}" if ch.row is not None else "строка удалена из книги"
            when = f", изменено {ru_date(ch.change_date)}" if ch.change_date and not ch.date_from_run else ""
            if ch.awaits_act:
                when = ", ждёт приказа"
            lines.append(f"  {ch.code} «{ch.name or '—'}» ({where}{when})")
            if kind == "added":
                continue
            if ch.gone:
                lines.append("      строка удалена из книги (на сайте точка опубликована как «включено»)")
                continue
            for f, v in ch.fields.items():
                lines.append(f"      {header.get(f, f)}: «{show_value(f, v['old'])}» → «{show_value(f, v['new'])}»")
        if len(items) > limit:
            lines.append(f"  … и ещё {len(items) - limit} (полный список — в отчётах diff.xlsx, diff.html "
                         "или --format json)")
        lines.append("")
    if report.info_changes:
        lines.append(f"Изменения на листе «Сведения»: {len(report.info_changes)}")
        labels = {f.key: f.label for f in rules.schema.info.fields}
        for key, v in report.info_changes.items():
            lines.append(f"  {labels.get(key, key)}: «{v['old'] or 'не указано'}» → «{v['new'] or 'не указано'}»")
        lines.append("")
    if report.pending_review:
        lines.extend(pending_review_lines(report, limit=limit))
        lines.append("")
    shown_warnings = printed_warnings(report)
    if shown_warnings:
        lines.append(f"Предупреждения: {len(shown_warnings)}")
        for w in shown_warnings[:limit]:
            lines.append(f"  ! {w.message}")
        if len(shown_warnings) > limit:
            lines.append(f"  … и ещё {len(shown_warnings) - limit}")
        lines.append("")
    lines.append(summary_line(report, rules))
    lines.append(deadline_line(report))
    if report.act_waiting is not None:
        lines.append(act_waiting_line(report.act_waiting))
    if report.report_dir is not None:
        lines.append(f"Отчёты: {report.report_dir}")
    return "\n".join(lines)

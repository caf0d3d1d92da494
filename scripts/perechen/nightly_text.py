"""The lines ``perechen nightly`` prints (its terminal text), from the run's summary: one renderer, apart from the
run itself (:mod:`perechen.nightly`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .summary import NightlySummary


@dataclass(frozen=True)
class OutputLine:
    field: str  # a field of NightlySummary (or "dashboard", "report_dir", "log_file")
    text: str


def output_lines(s: NightlySummary, *, run_dir: Path | None, log_file: Path | None,
                 dashboard: Path | None) -> list[OutputLine]:
    """What ``perechen nightly`` prints, each line tagged with the summary field it reports."""
    from .diff_text import act_waiting_line
    from .mail import deadline_lines

    out: list[OutputLine] = []

    def add(field_name: str, text: str) -> None:
        out.append(OutputLine(field_name, text))

    if s.recovered_lock:
        add("recovered_lock", "Снята блокировка прерванного запуска"
            + (f" (процесс {s.recovered_lock.pid})." if s.recovered_lock.pid else "."))
    if s.file_error:
        add("file_error", f"{s.failure_title or 'Запуск не выполнен'}: {s.file_error.message}")
    elif s.check:
        c = s.check
        add("check", f"Проверка: строк {c.rows}, ошибок {c.errors}, предупреждений {c.warnings}.")
    if s.lock_owner and not s.file_error:
        add("lock_owner", f"Книга была открыта пользователем {s.lock_owner}; проверена сохранённая версия.")
    if s.diff:
        if s.diff.published_now and s.diff.first_placement:
            add("diff", "Перечень впервые размещён на официальном сайте в этом запуске (п. 5.2).")
        elif s.diff.published_now:
            add("diff", f"Изменения ({s.diff.pending_changes}) размещены на официальном сайте в этом запуске.")
        else:
            for ln in deadline_lines(s.diff):
                add("overdue" if s.overdue else "diff", ln)
    if s.publish and s.publish.text:
        add("publish", f"Публикация: {s.publish.text}")
    if s.approval is not None:
        a = s.approval
        for w in a.warnings:
            add("approval", f"Журнал изменений: {w}")
        if a.demo_act:
            add("approval", f"Демонстрация: {a.demo_act}")
        add("approval", a.act or "Приказ об утверждении перечня не записан: страница не ссылается на "
                                 "утверждающий документ.")
        if a.waiting_for_act is not None:
            add("approval", act_waiting_line({"count": a.waiting_for_act, "since": a.waiting_since,
                                              "codes": a.waiting_codes}))
    for err in s.errors:
        if err.stage == "publish":
            continue  # already in the «Публикация:» line
        if err.message and (not s.file_error or err.message != s.file_error.message):
            add("errors", f"Ошибка: {err.message}")
    add("mail", f"Письма: {s.mail.text}")
    if run_dir is not None:
        add("report_dir", f"Отчёты: {run_dir}")
    if log_file is not None:
        add("log_file", f"Журнал: {log_file}")
    if dashboard is not None:
        add("dashboard", f"Сводка: {dashboard.resolve()}")
    return out

"""The report files of `perechen diff` besides diff.json: ``diff.html`` and ``diff.xlsx``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import xlsx_plain
from ..canonical import gc_paused
from ..diff import AWAITS_ACT, CASES, Change, DiffReport, is_empty
from ..diff_text import (
    baseline_line,
    deadline_line,
    printed_warnings,
    show_value,
    summary_line,
    under_review_published,
)
from ..fsutil import atomic_write, make_dir
from ..jinja import TemplateSet, get_template
from ..rules import Rules
from ..text import ru_date, work_days

HTML_LIMIT = 1000
_FILL_CHANGED = "FFF2CC"
_FILL_OLD = "FDE2E1"
_FILL_NEW = "DCF2DF"


@gc_paused()  # see DiffReport.to_json: a collection here would walk the whole comparison
def write_diff_reports(report: DiffReport, rules: Rules, out: Path) -> dict[str, Path]:
    """Write diff.json, diff.html and diff.xlsx into ``out``; return their paths (also kept in report.files)."""
    make_dir(out)
    report.report_dir = out
    report.files["json"] = atomic_write(out / "diff.json", report.to_json())
    report.files["html"] = atomic_write(out / "diff.html", render_html(report, rules))
    report.files["xlsx"] = atomic_write(out / "diff.xlsx", render_xlsx(report, rules))
    return report.files


_PAGES = TemplateSet("diff", trim_blocks=False)


def render_html(report: DiffReport, rules: Rules, *, limit: int = HTML_LIMIT) -> str:
    header = {c.field: c.header for c in rules.schema.columns}
    cases = []
    counts = []
    for kind, items in report.by_case().items():
        if not items:
            continue
        clause, title = CASES[kind]
        counts.append({"title": title, "clause": clause, "n": len(items)})
        shown = []
        for ch in items[:limit]:
            cur = report.current_rows.get(ch.code, {})
            summary = "; ".join(x for x in (show_value("channel", cur.get("channel")),
                                            show_value("kind", cur.get("kind"))) if x != "—")
            shown.append({
                "code": ch.code, "name": ch.name or "—",
                "row": ch.row if ch.row is not None else "удалена",
                "date": ("ждёт приказа" if ch.awaits_act else ru_date(ch.change_date)
                         if ch.change_date and not ch.date_from_run else "не указана"),
                "summary": summary or "—",
                "gone": ch.gone,
                "fields": [{"header": header.get(f, f), "old": show_value(f, v["old"]), "new": show_value(f, v["new"])}
                           for f, v in ch.fields.items()],
            })
        cases.append({"kind": kind, "title": title, "clause": clause, "rows": shown, "total": len(items),
                      "truncated": len(items) > limit})
    labels = {f.key: f.label for f in rules.schema.info.fields}
    kept = under_review_published(report)
    tpl = get_template("diff.html", _PAGES)
    return tpl.render(
        workbook=report.workbook, today=ru_date(report.today),
        baseline_line=baseline_line(report), deadline_line=deadline_line(report, with_state=False),
        deadline_state=deadline_line(report)[len(deadline_line(report, with_state=False)):].strip(),
        summary_line=summary_line(report, rules), overdue=report.overdue,
        counts=counts, cases=cases, info_changes=[
            {"label": labels.get(k, k), "old": v["old"] or "не указано", "new": v["new"] or "не указано"}
            for k, v in report.info_changes.items()],
        pending=[c for c in report.pending_review if c not in set(kept)], kept=kept,
        warnings=[w.message for w in printed_warnings(report)],
    )


_STYLES = [xlsx_plain.Style(bold=True), xlsx_plain.Style(), xlsx_plain.Style(fill=_FILL_OLD),
           xlsx_plain.Style(fill=_FILL_NEW), xlsx_plain.Style(fill=_FILL_CHANGED)]
_BOLD, _PLAIN, _OLD, _NEW, _CHANGED = 1, 2, 3, 4, 5  # indexes of the cell styles above (0: none)


def render_xlsx(report: DiffReport, rules: Rules) -> bytes:
    """Old and new values side by side, one line per code; the cells of changed fields highlighted.

    Written as SpreadsheetML directly (:mod:`perechen.xlsx_plain`): every text an inline string, so a value
    starting with «=» stays text; printed on A4 landscape fitted to the width, the header row repeated.
    """
    cols = list(rules.schema.columns)
    have_old = report.baseline is not None
    head = ["Код", "Случаи", "Пункты", "Строка книги", "Изменение внесено"]
    for col in cols:
        if have_old:
            head.append(f"{col.header}: было")
        head.append(f"{col.header}: стало" if have_old else col.header)
    widths = [12, 34, 14, 10, 14]
    for col in cols:
        widths.extend([max(12, min(col.width, 40))] * (2 if have_old else 1))
    changes_sheet = xlsx_plain.Sheet("Изменения", widths, [[(h, _BOLD) for h in head]], freeze=(1, 1),
                                     autofilter=len(head))

    grouped: dict[str, list[Change]] = {}
    for ch in report.changes:
        grouped.setdefault(ch.code, []).append(ch)
    base_rows = report.baseline.rows_by_code if report.baseline is not None else {}
    for code, chs in grouped.items():
        old = base_rows.get(code, {})
        new = report.current_rows.get(code, {}) if not any(c.gone for c in chs) else {}
        changed = {f for c in chs for f in c.fields}
        first = chs[0]
        when = ("ждёт приказа" if first.awaits_act else
                ru_date(first.change_date) if first.change_date and not first.date_from_run else "")
        line: list[tuple[Any, int]] = [
            (code, _BOLD),
            ("; ".join(CASES[c.kind][1].split(" (")[0] for c in chs), _PLAIN),
            ("; ".join(c.clause for c in chs if c.clause) or "—", _PLAIN),
            (first.row if first.row is not None else "удалена", _PLAIN),
            (when, _PLAIN)]
        added = any(c.kind == "added" for c in chs)
        for col in cols:
            f = col.field
            hit = f in changed and not added
            if have_old:
                ov = old.get(f)
                line.append(("" if is_empty(ov) else show_value(f, ov), _OLD if hit else _PLAIN))
            nv = new.get(f)
            line.append(("" if is_empty(nv) else show_value(f, nv),
                         _NEW if hit else (_CHANGED if added and not is_empty(nv) else _PLAIN)))
        changes_sheet.rows.append(line)

    summary: list[tuple[str, Any]] = [
        ("Книга", report.workbook),
        ("Базовая версия", report.baseline_name or "нет (ничего не опубликовано)"),
        ("Дата сравнения", ru_date(report.today)),
        ("Изменений", len(report.changes)),
    ]
    for kind, n in report.counts().items():
        clause, title = CASES[kind]
        summary.append((f"{title.split(' (')[0]}{f' (п. {clause})' if clause else ''}", n))
    summary += [
        ("Самое раннее изменение", ru_date(report.earliest_change, "—")),
        ("Срок размещения (п. 5.4)", ru_date(report.deadline, "—")),
        *([("Ждут приказа", f"{len(report.awaiting_act)}: {AWAITS_ACT}")] if report.awaiting_act else []),
        ("Осталось рабочих дней", report.working_days_left if report.working_days_left is not None else "—"),
        ("Просрочено", f"ПРОСРОЧЕНО на {work_days(report.overdue_working_days)}" if report.overdue else "нет"),
        ("Ждут проверки", ", ".join(report.pending_review) or "—"),
    ]
    summary_rows = [[(k, _BOLD), (v, _PLAIN)] for k, v in summary]
    summary_rows += [[("Предупреждение", _BOLD), (warn.message, _PLAIN)] for warn in report.warnings]
    summary_sheet = xlsx_plain.Sheet("Сводка", [34, 90], summary_rows, title_rows=0)
    return xlsx_plain.write([changes_sheet, summary_sheet], _STYLES, title="Изменения перечня точек взаимодействия")

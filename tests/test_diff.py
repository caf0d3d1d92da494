"""perechen diff: each case of п. 5.3 with workbooks built by the tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from perechen import canonical, diff, diff_text, store
from perechen.diff import compare
from perechen.reader import read_register
from perechen.rules import Rules

TODAY = dt.date(2026, 3, 2)  # Monday
D = dt.date(2026, 2, 25)  # a Wednesday: date of the changes below


def _run(rules: Rules, make_workbook: Any, base_rows: list[dict[str, Any]] | None,
         new_rows: list[dict[str, Any]], *, today: dt.date = TODAY, info: dict[str, str] | None = None,
         base_info: dict[str, str] | None = None) -> diff.DiffReport:
    base = store.load_baseline(make_workbook(base_rows, base_info), rules) if base_rows is not None else None
    reg = read_register(make_workbook(new_rows, info), rules)
    return compare(reg, rules, base, today=today)


def _kinds(report: diff.DiffReport) -> list[tuple[str, str]]:
    return [(c.code, c.kind) for c in report.changes]


def _by(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(r for r in rows if r["code"] == code)


def _copy(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]


def test_same_register_has_no_changes(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    r = _run(rules, make_workbook, good_rows, good_rows)
    assert r.changes == [] and r.pending_review == [] and r.warnings == []
    d = r.to_dict()
    assert d == {"baseline": r.baseline_name, "changes": [], "pending_review": [], "warnings": [],
                 "publication_required": False, "earliest_change": None, "deadline": None,
                 "working_days_left": None, "overdue": False}
    assert "Неопубликованных изменений нет" in diff_text.deadline_line(r)


def test_added_row_is_5_3_1(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    extra = dict(_by(good_rows, "ТВ-02"), code="ТВ-09", name="Официальный сайт Службы", kind="официальный сайт",
                 changed_on=D, written_features=None)
    new.append(extra)
    r = _run(rules, make_workbook, good_rows, new)
    assert _kinds(r) == [("ТВ-09", "added")]
    ch = r.changes[0].to_dict()
    assert ch["clause"] == "5.3.1"
    assert ch["fields"]["name"] == {"old": None, "new": "Официальный сайт Службы"}
    assert ch["fields"]["changed_on"] == {"old": None, "new": "2026-02-25"}
    assert r.publication_required
    # 25.02.2026 (Wed) + 10 working days: 26, 27 Feb; 2, 3, 4, 5, 6 Mar; 9 Mar is a day off (8 March on a
    # Sunday moves to Monday, ст. 112); 10, 11, 12 Mar -> 12.03.2026.
    assert r.earliest_change == D and r.deadline == dt.date(2026, 3, 12)
    # Seen on Mon 02.03.2026: working days in (02.03, 12.03] = 3, 4, 5, 6, 10, 11, 12 March = 7.
    assert r.working_days_left == 7 and not r.overdue


@pytest.mark.parametrize("changes", [{"kind": "система электронного документооборота (СЭД)"},
                                     {"channel": "офлайн", "kind": "почтовое отправление"}])
def test_kind_or_channel_change_is_5_3_2(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]],
                                         changes: dict[str, str]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-02").update(changes, changed_on=D)
    r = _run(rules, make_workbook, good_rows, new)
    kinds = [k for k in _kinds(r) if k[1] != "edited"]
    assert kinds == [("ТВ-02", "kind_changed")]
    kc = next(c for c in r.changes if c.kind == "kind_changed")
    assert kc.clause == "5.3.2"
    old = _by(good_rows, "ТВ-02")
    assert kc.fields == {f: {"old": old[f], "new": v} for f, v in changes.items()}
    # The date changed too, but the date says when a change was made, it is no change itself (issue 11 item 4;
    # this test listed it as an editorial change before).
    assert [c.fields for c in r.changes if c.kind == "edited"] == []


def test_needs_change_is_5_3_3_and_compared_as_sets(rules: Rules, make_workbook: Any,
                                                    good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    # ТВ-03: one need added -> 5.3.3
    _by(new, "ТВ-03")["needs"] = ["получение форм документов", "получение результата, ответа, разъяснения",
                                  "получение консультации"]
    # ТВ-05: same needs, other order, alias spellings and spacing -> no change
    _by(new, "ТВ-05")["needs"] = "обратная связь ;  получение консультации\nРезультат, ответ, разъяснение"
    r = _run(rules, make_workbook, good_rows, new)
    assert _kinds(r) == [("ТВ-03", "needs_changed")]
    ch = r.changes[0]
    assert ch.clause == "5.3.3"
    assert ch.fields == {"needs": {"old": ["получение форм документов", "получение результата, ответа, разъяснения"],
                                   "new": ["получение консультации", "получение форм документов",
                                           "получение результата, ответа, разъяснения"]}}


def test_other_needs_compared_as_sets(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    base = _copy(good_rows)
    _by(base, "ТВ-06").update(needs=["консультация", "другое"], other_needs="Запись на приём; Выдача справок")
    same = _copy(base)
    _by(same, "ТВ-06")["other_needs"] = "выдача  справок\nзапись на приём"
    assert _run(rules, make_workbook, base, same).changes == []
    changed = _copy(base)
    _by(changed, "ТВ-06")["other_needs"] = "Запись на приём; Выдача копий"
    r = _run(rules, make_workbook, base, changed)
    assert _kinds(r) == [("ТВ-06", "needs_changed")]
    assert set(r.changes[0].fields) == {"other_needs"}


def test_status_excluded_is_5_3_4(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-04").update(status="исключено", changed_on=D)
    r = _run(rules, make_workbook, good_rows, new)
    assert _kinds(r) == [("ТВ-04", "excluded")]
    ch = r.changes[0]
    assert ch.clause == "5.3.4" and ch.row == 5 and ch.change_date == D
    assert ch.fields == {"status": {"old": "включено", "new": "исключено"}}
    assert r.warnings == []


def test_deleted_row_is_5_3_4_with_warning_and_run_date(rules: Rules, make_workbook: Any,
                                                        good_rows: list[dict[str, Any]]) -> None:
    new = [r for r in good_rows if r["code"] != "ТВ-08"]
    r = _run(rules, make_workbook, good_rows, new)
    assert _kinds(r) == [("ТВ-08", "excluded")]
    ch = r.changes[0]
    assert ch.gone and ch.row is None and ch.fields == {"status": {"old": "включено", "new": None}}
    # The deleted row has no date: the comparison date counts (documented decision).
    assert r.earliest_change == TODAY
    # 02.03.2026 + 10 working days: 3, 4, 5, 6, 10, 11, 12, 13, 16, 17 March (9 March off) -> 17.03.2026.
    assert r.deadline == dt.date(2026, 3, 17) and r.working_days_left == 10
    w = [x for x in r.warnings if x.type == "row-deleted"]
    assert len(w) == 1 and "исключено" in w[0].message and w[0].code == "ТВ-08"


def test_other_field_is_editorial(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-07").update(process="Приём заявителей по новому регламенту", changed_on=D)
    r = _run(rules, make_workbook, good_rows, new)
    assert _kinds(r) == [("ТВ-07", "edited")]
    assert r.changes[0].clause is None
    assert r.changes[0].fields == {"process": {"old": _by(good_rows, "ТВ-07")["process"],
                                               "new": "Приём заявителей по новому регламенту"}}
    assert r.publication_required and r.deadline == dt.date(2026, 3, 12)
    # «Ответственный» is never published: changing it is no change to place (issue 11 item 4; this test took it
    # for an editorial change before).
    new = _copy(good_rows)
    _by(new, "ТВ-07").update(responsible="Новый ответственный", changed_on=D)
    r = _run(rules, make_workbook, good_rows, new)
    assert r.changes == [] and not r.publication_required and r.deadline is None


def test_one_row_under_several_cases(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-02").update(kind="СЭД", needs=["консультация"], note="перевели на СЭД", process="Переписка",
                             changed_on=D)
    r = _run(rules, make_workbook, good_rows, new)
    assert _kinds(r) == [("ТВ-02", "kind_changed"), ("ТВ-02", "needs_changed"), ("ТВ-02", "edited")]
    assert set(r.changes[2].fields) == {"process"}  # the note and the date are not published content
    assert [w.type for w in r.warnings] == []  # the name did not change: no reuse warning


def test_code_reused_for_another_touchpoint_warns(rules: Rules, make_workbook: Any,
                                                  good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-06").update(name="Мессенджер Службы", channel="цифровая", kind="мессенджер", changed_on=D)
    r = _run(rules, make_workbook, good_rows, new)
    assert ("ТВ-06", "kind_changed") in _kinds(r) and ("ТВ-06", "edited") in _kinds(r)
    reused = [w for w in r.warnings if w.type == "code-reused"]
    assert len(reused) == 1 and reused[0].code == "ТВ-06"


def test_pending_review_listed_apart(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-03").update(status="на проверке", name="АРМ ГС (новая редакция)")
    new.append(dict(_by(good_rows, "ТВ-01"), code="ТВ-10", status="черновик", checked_by=None))
    new.append(dict(_by(good_rows, "ТВ-01"), code="ТВ-11", status="исключено"))  # never published: nothing
    r = _run(rules, make_workbook, good_rows, new)
    assert r.changes == []
    assert r.pending_review == ["ТВ-03", "ТВ-10"]
    assert [w.type for w in r.warnings] == ["published-under-review"]
    assert not r.publication_required


def test_no_baseline_every_included_row_is_new(rules: Rules, make_workbook: Any,
                                               good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-08")["status"] = "черновик"
    _by(new, "ТВ-07")["status"] = "исключено"
    r = _run(rules, make_workbook, None, new, today=dt.date(2024, 3, 1))
    assert r.baseline is None and r.to_dict()["baseline"] is None
    assert [c for c, _ in _kinds(r)] == [f"ТВ-0{i}" for i in range(1, 7)]
    assert {k for _, k in _kinds(r)} == {"added"}
    assert r.pending_review == ["ТВ-08"]
    assert r.publication_required
    # The first publication is the placement of the approved Перечень (п. 5.2), which has no term (issue 11
    # item 3; this test expected a 5.4 deadline of 12.03.2024 before).
    assert r.deadline is None and not r.overdue and r.to_dict()["deadline"] is None
    assert "Опубликованной версии нет" in diff_text.baseline_line(r)
    assert "(п. 5.2)" in diff_text.deadline_line(r) and "ПРОСРОЧЕНО" not in diff_text.render_text(r, rules)


def test_info_change_requires_publication(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]],
                                          good_info: dict[str, str]) -> None:
    info = dict(good_info, phone="+7 (4012) 11-11-11")
    r = _run(rules, make_workbook, good_rows, good_rows, info=info, base_info=good_info)
    assert r.changes == [] and r.publication_required
    assert [w.type for w in r.warnings] == ["info-changed"]
    assert r.info_changes == {"phone": {"old": "+7 (4012) 00-00-00", "new": "+7 (4012) 11-11-11"}}


def test_row_order_only_is_not_a_change(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    r = _run(rules, make_workbook, good_rows, list(reversed(_copy(good_rows))))
    assert r.changes == [] and not r.publication_required
    assert [w.type for w in r.warnings] == ["order-only"]


def test_duplicate_included_code_warns(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    # The duplicate comes first (row 2); the published touchpoint (now row 3) is the one compared.
    new = [dict(_by(good_rows, "ТВ-01"), name="Другая СЭД"), *_copy(good_rows)]
    r = _run(rules, make_workbook, good_rows, new)
    assert r.changes == []
    assert [w.type for w in r.warnings] == ["duplicate-code"]
    assert "строки 2, 3" in r.warnings[0].message and "сравнивается строка 3" in r.warnings[0].message


def test_missing_or_stale_date(tmp_path: Path, rules: Rules, make_workbook: Any,
                               good_rows: list[dict[str, Any]]) -> None:
    base_reg = read_register(make_workbook(good_rows), rules)
    v = store.commit_version(tmp_path, canonical.canonical_register(base_reg, rules), {}, {},
                             now=dt.datetime(2026, 2, 27, 12, 0))
    new = _copy(good_rows)
    _by(new, "ТВ-01")["process"] = "правка без новой даты"  # changed_on stays 26.02.2024
    _by(new, "ТВ-02").update(process="дата стёрта", changed_on=None)
    r = compare(read_register(make_workbook(new), rules), rules, store.latest(tmp_path), today=TODAY)
    assert r.baseline_name == v.name
    types = [w.type for w in r.warnings]
    assert types == ["no-date", "stale-date"]
    # The stale date is used as written (the order counts from the change), so the deadline has passed.
    assert r.earliest_change == dt.date(2024, 2, 26) and r.overdue
    assert next(c for c in r.changes if c.code == "ТВ-02").date_from_run


def test_render_text_groups_by_case(rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    _by(new, "ТВ-02").update(kind="СЭД", changed_on=D)
    _by(new, "ТВ-04").update(status="исключено", changed_on=D)
    r = _run(rules, make_workbook, good_rows, new, today=dt.date(2026, 3, 20))
    text = diff_text.render_text(r, rules)
    assert "Изменение вида точки взаимодействия (п. 5.3.2): 1" in text
    assert "Исключение точки взаимодействия (п. 5.3.4): 1" in text
    assert "Вид точки: «электронная почта Службы» → «система электронного документооборота (СЭД)»" in text
    # deadline 12.03.2026; on Fri 20.03.2026 late by 13, 16, 17, 18, 19, 20 March = 6 working days
    assert "не позднее 12.03.2026" in text and "ПРОСРОЧЕНО на 6 рабочих дней" in text
    assert r.overdue and r.working_days_left == 0


def test_plural_forms() -> None:
    assert [diff_text.work_days(n) for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "1 рабочий день", "2 рабочих дня", "5 рабочих дней", "11 рабочих дней", "21 рабочий день",
        "22 рабочих дня", "112 рабочих дней"]


def test_excluded_row_wins_over_a_draft_with_the_same_code(rules: Rules, make_workbook: Any,
                                                           good_rows: list[dict[str, Any]]) -> None:
    new = _copy(good_rows)
    old = _by(new, "ТВ-05")
    old.update(status="исключено", changed_on=D)
    draft = dict(old, status="черновик", name="Телефонная линия (черновик)")
    new.insert(0, draft)
    r = _run(rules, make_workbook, good_rows, new)
    assert _kinds(r) == [("ТВ-05", "excluded")]
    assert r.changes[0].row == 7  # the «исключено» row, not the draft in row 2
    assert r.pending_review == ["ТВ-05"]


def test_a_version_published_under_the_old_short_forms_is_no_change(rules: Rules, make_workbook: Any,
                                                                    good_rows: list[dict[str, Any]]) -> None:
    """Issue 11 item 6: the order's wording became canonical; a version stored when «консультация» and
    «СЭД» were the canonical spellings compares equal to the same touchpoints in the order's words."""
    base = store.load_baseline(make_workbook(good_rows), rules)
    short = {"получение консультации": "консультация", "предоставление обратной связи": "обратная связь",
             "система электронного документооборота (СЭД)": "СЭД"}
    for row in base.rows:  # as written into register.json by an older perechen
        row["needs"] = [short.get(n, n) for n in row["needs"]]
        row["kind"] = short.get(row["kind"], row["kind"])
    assert base.rows_by_code["ТВ-01"]["kind"] == "СЭД"
    r = compare(read_register(make_workbook(good_rows), rules), rules, base, today=TODAY)
    assert r.changes == []

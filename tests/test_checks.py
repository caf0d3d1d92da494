"""Each rule of rules/checks.toml on rows that pass and rows that fail: code, severity, clause, cell.

Rows come from the bundled register (good_rows: sheet rows 2–9). Columns of a workbook written by
`perechen init`: A code, B area, C process, D name, E channel, F kind, G clients, H needs, I other_needs,
J key, K basis_kind, L basis, M accessibility, N written_features, O responsible, P status, Q checked_by,
R changed_on, S note.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from perechen.checks import CHECK_KINDS, has_date, has_number, run_checks
from perechen.models import Finding
from perechen.reader import read_register
from perechen.rules import Rules
from tests.conftest import BUNDLED, EXAMPLE, ROOT, TODAY

Rows = list[dict[str, Any]]


def check(make_workbook: Any, rules: Rules, rows: Rows, *, today: dt.date = TODAY, edit: Any = None,
          **kw: Any) -> list[Finding]:
    p = make_workbook(rows)
    if edit is not None:
        wb = load_workbook(p)
        edit(wb["Перечень"])
        wb.save(p)
    return run_checks(read_register(p, rules), rules, today=today, **kw)


def summary(findings: list[Finding]) -> list[tuple[str, str, str | None, str | None]]:
    return [(f.code, f.severity.value, f.clause, f.cell) for f in findings]


def one(findings: list[Finding], code: str) -> Finding:
    got = [f for f in findings if f.code == code]
    assert len(got) == 1, summary(findings)
    return got[0]


def add_row(rows: Rows, base: int, **changes: Any) -> Rows:
    r = copy.deepcopy(rows[base])
    r.update(changes)
    rows.append(r)
    return rows


# -- the bundled register ------------------------------------------------------------------------


def test_bundled_workbook_has_no_findings_but_the_agency_fields_to_fill(rules: Rules) -> None:
    """0 errors; one warning: «Сведения» leaves to the agency what the order does not give (issue 11 items 14, 18)."""
    found = run_checks(read_register(BUNDLED, rules), rules, today=TODAY)
    assert summary(found) == [("info-field-empty", "warning", None, None)]
    assert found[0].sheet == "Сведения"
    assert "«Документ, утверждающий перечень», «Телефон», «Электронная почта», «ИНН»" in found[0].message


def test_good_rows_have_no_findings_today(make_workbook, good_rows: Rows, rules: Rules) -> None:
    assert check(make_workbook, rules, good_rows, today=dt.date.today()) == []


# -- 1. completeness (2.1.2) ------------------------------------------------------------------------


def test_required_empty(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["process"] = None
    good_rows[3]["responsible"] = "   "  # spaces only count as empty
    good_rows[2]["note"] = None  # not required
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("required-empty", "error", None, "C2"),
                              ("required-empty", "error", None, "O5")]
    assert "«Процесс»" in found[0].message and "Заполните" in found[0].message


def test_required_not_repeated_for_cells_the_reader_reported(make_workbook, good_rows: Rows, rules: Rules) -> None:
    def edit(ws: Any) -> None:
        ws["O2"].value = "#N/A"
        ws["O2"].data_type = "e"  # an error value, not an empty cell
        ws["D3"].value = "=A1&B1"  # a formula without a cached value
        ws["C4"].value = None
        ws.merge_cells("O6:O7")  # the same responsible for two rows, merged

    found = check(make_workbook, rules, good_rows, edit=edit)
    # O2, D3 and O7 are the reader's findings only; the genuinely empty C4 is still reported.
    assert summary(found) == [("error-value", "error", None, "O2"), ("formula-no-value", "error", None, "D3"),
                              ("required-empty", "error", None, "C4"), ("merged-cells", "error", None, "O6")]


def test_other_needs_required_with_other(make_workbook, good_rows: Rows, rules: Rules) -> None:
    other = "другие удовлетворяемые потребности клиента в рамках осуществляемого взаимодействия"
    good_rows[0]["needs"] = ["получение консультации", other]
    good_rows[1]["needs"] = ["получение консультации", other]
    good_rows[1]["other_needs"] = "Запись на приём к руководителю"
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("other-needs-empty", "error", "2.5.6", "I2")]
    assert "«Иные потребности»" in found[0].message


def test_checked_by_required_for_included_only(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["checked_by"] = None  # включено
    # Excluding is the responsible person's (2.1, last paragraph): no «Проверил» needed (issue 11 item 8).
    add_row(good_rows, 1, code="ТВ-09", status="исключено", checked_by=None)
    good_rows[2]["checked_by"] = None
    good_rows[2]["status"] = "на проверке"  # not required yet
    good_rows[2]["changed_on"] = TODAY
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("checked-by-empty", "error", None, "Q2")]
    assert "«включено»" in found[0].message and "уполномоченное лицо" in found[0].message


# -- 2. reference lists ------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "code", "clause", "cell"), [
    ("channel", "интернет", "channel-value", "3.1", "E2"),
    ("kind", "факс", "kind-value", "4", "F2"),
    ("clients", "граждане", "clients-value", None, "G2"),
    ("needs", ["получение консультации", "справка о регистрации"], "needs-value", "2.5", "H2"),
    ("key", "может быть", "key-value", "2.2", "J2"),
    ("basis_kind", "устав", "basis-kind-value", None, "K2"),
    ("status", "готово", "status-value", None, "P2"),
    ("written_features", ["первичная обратная связь", "автоответчик"], "written-features-value", "3.2.1", "N2"),
])
def test_list_value_not_in_list(make_workbook, good_rows: Rows, rules: Rules, field: str, value: Any, code: str,
                                clause: str, cell: str) -> None:
    good_rows[0][field] = value
    if field == "written_features":
        good_rows[0][field] = [*value, "исчерпывающий ответ на обращение", "база знаний с шаблонами ответов",
                               "быстрая обратная связь"]
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [(code, "error", clause, cell)]
    msg = found[0].message
    bad = value[-1] if isinstance(value, list) else value
    assert f"«{bad}»" in msg
    first_allowed = rules.lists[rules.columns[field].ref_list or ""].values[0]
    assert f"«{first_allowed}»" in msg  # names the allowed values


@pytest.mark.parametrize(("field", "typed", "right", "cell"), [
    ("channel", "Цифровая", "цифровая", "E2"),
    ("channel", "цифровая точка", "цифровая", "E2"),
    ("kind", "Система электронного документооборота", "система электронного документооборота (СЭД)", "F2"),
    ("kind", "СЭД", "система электронного документооборота (СЭД)", "F2"),
    ("kind", "электронная почта", "электронная почта Службы", "F2"),
    ("clients", "внутренние клиенты", "внутренние", "G2"),
    ("key", "ДА", "да", "J2"),
    ("basis_kind", "Документ", "документ", "K2"),
    ("status", "включена", "включено", "P2"),
    ("needs", ["результат, ответ, разъяснение", "обратная связь"],
     "получение результата, ответа, разъяснения; предоставление обратной связи", "H2"),
    ("needs", ["консультация", "обратная связь"], "получение консультации; предоставление обратной связи", "H2"),
    ("written_features", ["уведомление о получении сообщения", "исчерпывающий ответ", "шаблоны ответов",
                          "быстрая обратная связь"],
     "первичная обратная связь; исчерпывающий ответ на обращение; база знаний с шаблонами ответов; "
     "быстрая обратная связь", "N2"),
])
def test_list_value_spelled_differently_is_a_warning(make_workbook, good_rows: Rows, rules: Rules, field: str,
                                                     typed: Any, right: str, cell: str) -> None:
    good_rows[0][field] = typed
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("list-spelling", "warning", None, cell)]
    assert f"Правильно: «{right}»" in found[0].message


def test_latin_lookalike_in_list_value_is_one_spelling_warning(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["channel"] = "цифpовая"  # Latin p
    found = check(make_workbook, rules, good_rows)
    # The reader's mixed-script warning is folded into the list one, which gives the right spelling.
    assert summary(found) == [("list-spelling", "warning", None, "E2")]
    assert "«цифровая»" in found[0].message


def test_exact_list_values_pass(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["needs"] = "получение консультации\nполучение форм документов;предоставление обратной связи"
    good_rows[1]["clients"] = "внешние"
    assert check(make_workbook, rules, good_rows) == []


def test_one_rules_object_for_many_registers_gives_each_its_own_findings(make_workbook, good_rows: Rows,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that checks workbook after workbook with one Rules object (the region's workers, the nightly run)
    shares what depends only on the rules and a cell's text between the runs; each register still gets exactly
    the findings it gets alone — also when a shared table outgrows its bound and is emptied."""
    from perechen.checks import context

    monkeypatch.setattr(context, "_SHARED_MAX", 2)
    a = copy.deepcopy(good_rows)
    a[0]["needs"] = ["консультация", "обратная связь"]
    a[1]["needs"] = "получение консультации\nполучение форм документов;предоставление обратной связи"
    a[2]["channel"] = "цифpовая"  # Latin p
    a[3]["written_features"] = "первичная обратная связь; чужое"
    b = copy.deepcopy(good_rows)
    b[0]["needs"] = "получение консультации; получение консультации"
    b[1]["kind"] = "телеграм-бот"
    b[2]["process"] = str(b[3]["process"]).upper()
    # The same functions in either order: each message names the conditions in its own cell's order.
    a[1]["written_features"] = "закреплённый ответственный сотрудник; простые и понятные ответы"
    b[3]["written_features"] = "простые и понятные ответы; закреплённый ответственный сотрудник"
    paths = [make_workbook(a), make_workbook(b), make_workbook(good_rows)]
    shared = Rules.load(ROOT / "rules")

    def facts(found: list[Finding]) -> list[tuple[str, str | None, str]]:
        return [(f.code, f.cell, f.message) for f in found]

    alone = [facts(run_checks(read_register(p, Rules.load(ROOT / "rules")), Rules.load(ROOT / "rules"),
                              today=TODAY)) for p in paths]
    assert alone[0] and alone[1] and alone[0] != alone[1]
    said = [f[2] for found, cell in zip(alone[:2], ("N3", "N5"), strict=True) for f in found
            if f[:2] == ("written-features-missing", cell)]
    assert "«закреплённый ответственный сотрудник», «простые и понятные ответы» —" in said[0]
    assert "«простые и понятные ответы», «закреплённый ответственный сотрудник» —" in said[1]
    for _ in range(2):
        assert [facts(run_checks(read_register(p, shared), shared, today=TODAY)) for p in paths] == alone


# -- 3. kind vs channel (3.1, 4) ---------------------------------------------------------------------


def test_kind_disagrees_with_channel(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["channel"] = "офлайн"  # СЭД is digital (4.1.1)
    good_rows[4]["channel"] = "цифровая"  # телефонная связь is offline (4.2.1)
    found = check(make_workbook, rules, good_rows)
    # No knock-on warnings (accessibility, process channels): the kind decides the row's channel.
    assert summary(found) == [("kind-channel", "error", "3.1", "F2"), ("kind-channel", "error", "3.1", "F6")]
    assert "«цифровая»" in found[0].message and "п. 4.1.1" in found[0].message
    assert "«офлайн»" in found[1].message and "п. 4.2.1" in found[1].message


def test_extra_kind_channel_from_rules(make_workbook, good_rows: Rows, rules: Rules) -> None:
    add_row(good_rows, 4, code="ТВ-09", name="Почтовый адрес Службы", kind="почтовое отправление", channel="цифровая",
            written_features=list(EXAMPLE.WRITTEN_ALL))
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("kind-channel", "error", "3.1", "F10")]
    assert "справочник видов точек" in found[0].message


# -- 4. duplicates within a process (2.7) ---------------------------------------------------------------


def test_duplicate_kind_in_process_on_both_rows(make_workbook, good_rows: Rows, rules: Rules) -> None:
    add_row(good_rows, 1, code="ТВ-09", name="Электронная почта приёмной", kind="e-mail")  # alias of электронная почта
    found = [f for f in check(make_workbook, rules, good_rows) if f.code != "list-spelling"]
    assert summary(found) == [("duplicate-kind", "error", "2.7", "F3"), ("duplicate-kind", "error", "2.7", "F10")]
    assert "стр. 10" in found[0].message and "стр. 3" in found[1].message
    assert "оставьте одну строку" in found[0].message and "потребности" in found[0].message


def test_duplicate_name_in_process_after_normalisation(make_workbook, good_rows: Rows, rules: Rules) -> None:
    add_row(good_rows, 4, code="ТВ-09", name="телефонная  связь.", kind="рабочее место клиентов")
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("duplicate-name", "error", "2.7", "D6"), ("duplicate-name", "error", "2.7", "D10")]
    assert "стр. 10" in found[0].message


def test_duplicates_ignore_excluded_rows_and_other_processes(make_workbook, good_rows: Rows, rules: Rules) -> None:
    add_row(good_rows, 1, code="ТВ-09", status="исключено")  # the same touchpoint, excluded
    add_row(good_rows, 0, code="ТВ-10", process="Рассмотрение обращений граждан (электронно)",
            name="СЭД")  # СЭД again, but in another process
    add_row(good_rows, 4, code="ТВ-11", process="Рассмотрение обращений граждан (электронно)",
            name="Телефон справочной службы")
    assert check(make_workbook, rules, good_rows) == []


def test_three_duplicates_each_names_the_others(make_workbook, good_rows: Rows, rules: Rules) -> None:
    add_row(good_rows, 1, code="ТВ-09", name="Почта 2")
    add_row(good_rows, 1, code="ТВ-10", name="Почта 3")
    found = check(make_workbook, rules, good_rows)
    assert [f.cell for f in found] == ["F3", "F10", "F11"]
    assert "стр. 10, 11" in found[0].message and "стр. 3, 11" in found[1].message


# -- 5. a key touchpoint per area (2.2) ---------------------------------------------------------------


def test_area_without_key_touchpoint(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["key"] = "нет"  # the only key touchpoint of «Внутриведомственное взаимодействие»…
    good_rows[0]["kind"] = "официальный сайт"  # … and not written interaction (3.2)
    good_rows[0]["written_features"] = None
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("area-no-key", "error", "2.2", "B2")]
    assert "«Внутриведомственное взаимодействие»" in found[0].message and "стр. 2, 4, 7" in found[0].message


def test_written_kind_is_key_by_3_2_and_not_key_is_a_warning(make_workbook, good_rows: Rows, rules: Rules) -> None:
    """Issue 11 item 9: СЭД (written) is the area's only key touchpoint; «нет» in «Ключевая» does not make the
    area lack one (2.2), but the clerk is told, citing 3.2."""
    good_rows[0]["key"] = "нет"
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("written-not-key", "warning", "3.2", "J2")]
    assert "ключевая точка" in found[0].message and "п. 3.2" in found[0].message


def test_area_key_only_on_excluded_row(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["status"] = "исключено"
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("area-no-key", "error", "2.2", "B4")]  # the area's first active row


def test_area_key_not_judged_when_key_cell_unreadable(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["key"] = "возможно"
    assert [f.code for f in check(make_workbook, rules, good_rows)] == ["key-value"]


# -- 6. basis (2.3, 2.4) ---------------------------------------------------------------------------


@pytest.mark.parametrize("basis", [
    "Приказ Службы гостехнадзора Калининградской области от 26.02.2024 № 25-о",
    "Постановление Правительства Калининградской области от 26 февраля 2024 г. № 25",
    "Регламент, утверждённый распоряжением от 01.03.2024 N 12",
    "Федеральный закон от 02.05.2006 № 59-ФЗ",
])
def test_basis_document_passes(make_workbook, good_rows: Rows, rules: Rules, basis: str) -> None:
    good_rows[0]["basis"] = basis
    assert check(make_workbook, rules, good_rows) == []


@pytest.mark.parametrize(("basis", "missing"), [
    ("Приказ Службы от 26.02.2024", ["номера"]),
    ("Приказ Службы № 25-о", ["даты"]),
    ("Приказ Службы от 31.02.2024 № 25-о", ["даты"]),  # not a real date
    ("от 26.02.2024 № 25-о", ["не назван документ"]),
    ("внутренний документ", ["не назван документ", "даты", "номера"]),
])
def test_basis_document_fails(make_workbook, good_rows: Rows, rules: Rules, basis: str, missing: list[str]) -> None:
    good_rows[0]["basis"] = basis
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("basis-document", "error", None, "L2")]
    for word in missing:
        assert word in found[0].message
    assert "№ 25-о" in found[0].message  # shows an example


@pytest.mark.parametrize(("basis", "ok"), [
    ("Поручение руководителя (директора) Службы от 15.03.2024", True),
    ("Резолюция директора на служебной записке, 15 марта 2024 г.", True),
    ("Устное указание заместителя руководителя 01.04.2024", True),
    ("Резолюция директора", False),
    ("Решили на совещании", False),
    ("так сложилось 01.04.2024", False),
])
def test_basis_action(make_workbook, good_rows: Rows, rules: Rules, basis: str, ok: bool) -> None:
    good_rows[0]["basis_kind"] = "распорядительное действие"
    good_rows[0]["basis"] = basis
    found = check(make_workbook, rules, good_rows)
    if ok:
        assert found == []
    else:
        assert summary(found) == [("basis-action", "error", None, "L2")]
        assert "поручение" in found[0].message


def test_date_and_number_recognisers() -> None:
    assert has_date("от 26.02.2024") and has_date("26 февраля 2024 г.") and has_date("от 1.3.2024")
    assert has_date("26/02/2024") and has_date("от 26 . 02 . 2024") and has_date("(08.02.2024)")
    assert not has_date("от 31.02.2024") and not has_date("№ 25-о") and not has_date("2024 год")
    assert not has_date("пункт 5.3.14") and not has_date("от 126.02.2024") and not has_date("от 26.02.20245")
    assert has_number("№25-о") and has_number("№ П-12") and has_number("N 12")
    assert not has_number("Приказ от 26.02.2024") and not has_number("Новый приказ")


# -- 7. code (5.3) ---------------------------------------------------------------------------------


def test_code_unique_across_the_sheet(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[1]["code"] = "ТВ-01"
    good_rows[7]["code"] = "тв-01"  # case does not make another code
    good_rows[7]["status"] = "исключено"  # an excluded row keeps its code for ever
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("code-duplicate", "error", None, "A2"), ("code-duplicate", "error", None, "A3"),
                              ("code-duplicate", "error", None, "A9")]
    assert "стр. 3, 9" in found[0].message


@pytest.mark.parametrize(("code", "ok"), [("ТВ-09", True), ("A1", True), ("12345", True),
                                          ("ТВ 09", False), ("ТВ_09", False), ("ТВ-0000000000000000009", False)])
def test_code_pattern(make_workbook, good_rows: Rows, rules: Rules, code: str, ok: bool) -> None:
    good_rows[0]["code"] = code
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == ([] if ok else [("code-pattern", "error", None, "A2")])


def test_code_pattern_comes_from_schema(make_workbook, good_rows: Rows, tmp_path: Path) -> None:
    d = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", d)
    schema = (d / "schema.toml").read_text(encoding="utf-8")
    schema = schema.replace("code_pattern = '^[A-Za-zА-Яа-яЁё0-9-]{1,20}$'", "code_pattern = '^ТВ-\\d{2}$'")
    (d / "schema.toml").write_text(schema, encoding="utf-8")
    strict = Rules.load(d)
    good_rows[0]["code"] = "A1"
    found = run_checks(read_register(make_workbook(good_rows), strict), strict, today=TODAY)
    assert summary(found) == [("code-pattern", "error", None, "A2")]


# -- 8. date of change (5.4) -----------------------------------------------------------------------


def test_changed_on_not_a_date(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["changed_on"] = "вчера"
    good_rows[1]["changed_on"] = 5  # a number in a date column reads as 04.01.1900
    good_rows[2]["changed_on"] = "26.02.2024"  # text dates are fine
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("date-invalid", "error", None, "R2"), ("date-invalid", "error", None, "R3")]
    assert "«вчера»" in found[0].message and "ДД.ММ.ГГГГ" in found[0].message
    assert "раньше 01.01.2000" in found[1].message


def test_changed_on_in_the_future(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["changed_on"] = TODAY + dt.timedelta(days=1)
    good_rows[1]["changed_on"] = TODAY
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("date-future", "error", None, "R2")]
    assert "01.12.2026" in found[0].message and "30.11.2026" in found[0].message


# -- 9. cell problems the reader found ----------------------------------------------------------------


def test_reader_cell_problems_are_findings(make_workbook, good_rows: Rows, rules: Rules) -> None:
    def edit(ws: Any) -> None:
        ws["G2"].value = "#REF!"
        ws["G2"].data_type = "e"
        ws["S3"].value = "=1+1"  # Примечание: a formula without a cached value

    found = check(make_workbook, rules, good_rows, edit=edit)
    assert summary(found) == [("error-value", "error", None, "G2"), ("formula-no-value", "error", None, "S3")]


# -- 10. offline alternative / digital touchpoint per process (2.8.3, 2.8.2) ------------------------------


def test_process_only_digital(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[6]["status"] = "исключено"  # the only offline touchpoint of «Приём и учёт заявок…»
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("process-no-offline", "warning", "2.8.3", "C5")]
    assert "система учёта заявок" in found[0].message


def test_process_only_offline(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[3]["status"] = "исключено"  # the only digital touchpoint of «Приём и учёт заявок…»
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("process-no-digital", "warning", "2.8.2", "C8")]


# -- 11. accessibility of offline touchpoints (2.8.4) ----------------------------------------------------


def test_offline_without_accessibility(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[4]["accessibility"] = None
    add_row(good_rows, 5, code="ТВ-09", accessibility=None, status="исключено")  # not in the register any more
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("offline-no-accessibility", "warning", "2.8.4", "M6")]
    assert "«Доступность»" in found[0].message


# -- 12. written interaction (3.2.1) -----------------------------------------------------------------


def test_written_kind_lacking_functions(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[1]["written_features"] = ["первичная обратная связь", "база знаний с шаблонами ответов"]
    good_rows[3]["written_features"] = None
    good_rows[2]["written_features"] = None  # АРМ ГС is not written interaction
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("written-features-missing", "warning", "3.2.1", "N3"),
                              ("written-features-missing", "warning", "3.2.1", "N5")]
    assert "«исчерпывающий ответ на обращение», «быстрая обратная связь»" in found[0].message
    assert "«первичная обратная связь»" not in found[0].message
    assert "«электронная почта Службы»" in found[0].message
    duties = [i.value for i in rules.lists["written_features"].items if not i.part_of]
    assert len(duties) == 4
    assert all(f"«{x}»" in found[1].message for x in duties)


def test_a_condition_never_counts_as_its_duty(make_workbook, good_rows: Rows, rules: Rules) -> None:
    """Issue 11 item 10: 3.2.1 has four duties; «закреплённый ответственный сотрудник» is one of the five
    conditions of «исчерпывающий ответ», not the answer itself."""
    good_rows[1]["written_features"] = ["первичная обратная связь", "закреплённый ответственный сотрудник",
                                        "простые и понятные ответы", "база знаний с шаблонами ответов",
                                        "быстрая обратная связь"]
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("written-features-missing", "warning", "3.2.1", "N3")]
    msg = found[0].message
    assert "не указано: «исчерпывающий ответ на обращение»" in msg
    assert "«закреплённый ответственный сотрудник», «простые и понятные ответы»" in msg and "не заменяют" in msg


def test_written_flag_comes_from_lists(make_workbook, good_rows: Rows, rules: Rules) -> None:
    add_row(good_rows, 4, code="ТВ-09", name="Почтовый адрес Службы", kind="почтовое отправление")  # written, offline
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("written-features-missing", "warning", "3.2.1", "N10")]


def test_written_kind_not_key(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[3]["key"] = "нет"  # система учёта заявок: written interaction (3.2, 3.2.1)
    good_rows[2]["key"] = "нет"  # АРМ ГС is not written: fine
    add_row(good_rows, 1, code="ТВ-09", name="Почта приёмной", key="нет", status="исключено")
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("written-not-key", "warning", "3.2", "J5")]
    assert "«система учёта заявок»" in found[0].message and "«Ключевая»" in found[0].message


# -- 13. rows nobody reviewed (2.1.2) -------------------------------------------------------------------


def test_review_overdue_in_working_days(make_workbook, good_rows: Rows, rules: Rules) -> None:
    # 13.11.2026 (Fri) + 10 working days = 27.11.2026; on 30.11.2026 the row is overdue.
    good_rows[0].update(status="на проверке", changed_on=dt.date(2026, 11, 13))
    # 16.11.2026 + 10 working days = 30.11.2026: still in time today.
    good_rows[1].update(status="на проверке", changed_on=dt.date(2026, 11, 16))
    # A draft nobody submitted is nobody's review to be late with (issue 11 item 7).
    good_rows[2].update(status="черновик", changed_on=dt.date(2026, 1, 12))
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("review-overdue", "warning", None, "P2")]
    msg = found[0].message
    assert "«на проверке»" in msg and "13.11.2026" in msg and "27.11.2026" in msg and "10 рабочих дней" in msg
    assert "правило ведения перечня в Службе" in msg and "Порядок его не устанавливает" in msg


def test_review_days_is_a_parameter(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0].update(status="на проверке", changed_on=dt.date(2026, 11, 13))
    assert check(make_workbook, rules, good_rows, params={"review-overdue": {"review_days": 11}}) == []


def test_review_overdue_without_calendar_counts_calendar_days(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0].update(status="на проверке", changed_on=dt.date(2031, 1, 5))  # 2031 is not in calendar.toml
    found = check(make_workbook, rules, good_rows, today=dt.date(2031, 3, 1))
    assert summary(found) == [("review-overdue", "warning", None, "P2")]
    assert "календарных дней" in found[0].message and "2031" in found[0].message
    assert "15.01.2031" in found[0].message


# -- 14. the same person prepared and checked (agency rule; roles of 2.1) ------------------------------


def test_checked_by_the_responsible(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[0]["checked_by"] = good_rows[0]["responsible"].upper()
    found = check(make_workbook, rules, good_rows)
    assert summary(found) == [("checked-by-self", "warning", None, "Q2")]


# -- 15. unknown columns, mixed scripts ----------------------------------------------------------------


def test_unknown_column_and_mixed_script_surface(make_workbook, good_rows: Rows, rules: Rules) -> None:
    good_rows[1]["name"] = "Электрoнная почта Службы"  # Latin o

    def edit(ws: Any) -> None:
        ws["T1"].value = "Доп. сведения"

    found = check(make_workbook, rules, good_rows, edit=edit)
    assert summary(found) == [("unknown-column", "warning", None, "T1"), ("mixed-script", "warning", None, "D3")]


# -- rules are data ----------------------------------------------------------------------------------


def test_severity_message_and_lists_change_without_code(make_workbook, good_rows: Rows, tmp_path: Path) -> None:
    d = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", d)
    checks = (d / "checks.toml").read_text(encoding="utf-8")
    start = checks.index('code = "checked-by-self"')
    block = checks[start:]
    block = block.replace('severity = "warning"', 'severity = "error"', 1)
    block = block.replace('message = "Сведения проверил', 'message = "СВОЁ СООБЩЕНИЕ: {value}. Сведения проверил', 1)
    (d / "checks.toml").write_text(checks[:start] + block, encoding="utf-8")
    lists = (d / "lists.toml").read_text(encoding="utf-8")
    lists = lists.replace('{ value = "мессенджер",', '{ value = "чат-бот", channel = "цифровая", written = false, '
                                                    'clause = "4" },\n  { value = "мессенджер",')
    (d / "lists.toml").write_text(lists, encoding="utf-8")
    custom = Rules.load(d)
    good_rows[0]["checked_by"] = good_rows[0]["responsible"]
    good_rows[2]["kind"] = "чат-бот"
    found = run_checks(read_register(make_workbook(good_rows), custom), custom, today=TODAY)
    assert summary(found) == [("checked-by-self", "error", None, "Q2")]
    assert found[0].message.startswith("СВОЁ СООБЩЕНИЕ: Начальник отдела")


def test_every_message_template_formats(make_workbook, good_rows: Rows, rules: Rules) -> None:
    """A workbook that trips every check kind: no message keeps a {placeholder}."""
    rows = good_rows
    rows[0].update(process=None, needs=["другое", "всякое"], channel="офлайн", basis="Приказ", checked_by=None,
                   key="нет")
    rows[1].update(channel="Цифровая", basis_kind="распорядительное действие", basis="устно", code="ТВ-03")
    rows[2].update(changed_on="вчера", key="возможно", written_features=["уведомление о получении"])
    rows[7].update(basis_kind="распорядительное действие", basis="Распоряжение Службы от 01.03.2024 № 5")
    rows[3].update(changed_on=TODAY + dt.timedelta(days=3), code="ТВ 4", written_features=None)
    rows[4].update(accessibility=None, checked_by=rows[4]["responsible"])
    rows[5].update(status="на проверке", changed_on=dt.date(2026, 1, 12))
    rows[6].update(status="исключено")
    add_row(rows, 1, code="ТВ-09")
    found = check(make_workbook, rules, rows)
    kinds = {rules.check(f.code).kind for f in found}
    declared = {c.kind for c in rules.checks if c.kind != "reader"}
    assert declared - kinds <= {"area_key", "process_channels", "info_fields"}, declared - kinds
    assert set(CHECK_KINDS) - declared == set()
    for f in found:
        assert "{" not in f.message and "}" not in f.message, (f.code, f.message)
        order = rules.check(f.code).source == "order" or (f.code == "required-empty" and f.field == "needs")
        assert bool(f.clause) == order and f.sheet == "Перечень" and f.cell and f.row, f

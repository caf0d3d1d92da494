"""Issue 11, items 6–14 and 18, as a clerk meets them: `perechen check` on a workbook (text, JSON, the HTML
report), and the bundled example register.

Each test fails on 5728d3a: the order's wording was flagged as a misspelling, the agency's conventions were
cited as clauses of the Порядок, «исключено» needed «Проверил», written kinds were not key, 3.2.1 counted a
condition as a duty, a распоряжение passed as a распорядительное действие, a «Комментарий» column was an
error, the bundled «Сведения» named order 25-о as approving the Перечень, and empty publisher fields were
not named by `check`.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from openpyxl import load_workbook

from perechen.cli import main
from perechen.reader import read_register
from perechen.rules import Rules
from tests.conftest import BUNDLED, EXAMPLE, ROOT

TODAY = "2026-11-30"
OTHER = "другие удовлетворяемые потребности клиента в рамках осуществляемого взаимодействия"
AGENCY = "правило ведения перечня в Службе"


def run(wb: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["check", str(wb), "--today", TODAY, *args])


def findings(wb: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    res = run(wb, "--format", "json", "--no-report", *args)
    return res.exit_code, json.loads(res.stdout)["findings"]


def codes(fs: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [(f["code"], f["clause"], f["cell"]) for f in fs]


# -- 6. the order's own words are canonical -------------------------------------------------------------


def test_order_wording_is_accepted_without_any_warning(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                       rules: Rules) -> None:
    needs = [i.value for i in rules.lists["needs"].items]
    assert needs == ["получение консультации", "получение форм документов",
                     "получение результата, ответа, разъяснения", "предоставление обратной связи",
                     "получение результата рассмотрения обратной связи", OTHER]
    good_rows[1]["needs"] = needs
    good_rows[1]["other_needs"] = "Запись на личный приём"
    good_rows[5]["needs"] = "получение консультации"  # 2.5.1 verbatim: not a misspelling
    code, fs = findings(make_workbook(good_rows))
    assert (code, fs) == (0, [])
    kinds = [r.get("kind") for r in read_register(make_workbook(good_rows), rules).rows]
    assert "электронная почта Службы" in kinds and "система электронного документооборота (СЭД)" in kinds


def test_short_forms_stay_aliases_and_show_the_order_wording(make_workbook: Any,
                                                            good_rows: list[dict[str, Any]]) -> None:
    good_rows[0]["kind"] = "СЭД"
    good_rows[2]["needs"] = ["консультация", "обратная связь"]
    code, fs = findings(make_workbook(good_rows))
    assert code == 0
    assert codes(fs) == [("list-spelling", None, "F2"), ("list-spelling", None, "H4")]
    assert "«система электронного документооборота (СЭД)»" in fs[0]["message"]
    assert "«получение консультации; предоставление обратной связи»" in fs[1]["message"]


# -- 7. each finding cites the clause that requires it; the agency's rules say so ----------------------------


def test_agency_conventions_cite_no_clause_and_say_whose_rule(make_workbook: Any,
                                                              good_rows: list[dict[str, Any]]) -> None:
    good_rows[0]["channel"] = "Цифровая"  # list-spelling
    p = make_workbook(good_rows)
    wb = load_workbook(p)
    ws = wb["Перечень"]
    ws.delete_cols(3)  # «Процесс»: missing-column
    ws["S1"] = "Доп. сведения"  # unknown-column
    ws["R2"] = "заметка"
    ws.merge_cells("R2:R3")  # merged-cells («Примечание» after the deletion)
    wb.save(p)
    _, fs = findings(p)
    got = {f["code"]: f for f in fs}
    for c in ("missing-column", "unknown-column", "merged-cells", "list-spelling"):
        assert got[c]["clause"] is None, c
        assert AGENCY in got[c]["message"] and "2.1.2" not in got[c]["message"], c
    text = run(p, "--no-report").stdout
    line = next(ln for ln in text.splitlines() if "(missing-column)]" in ln)
    # The source is named, once: the message says whose rule it is, the bracket gives the title and the code.
    assert line.count(AGENCY) == 1 and line.endswith("[Нет обязательного столбца (missing-column)]"), line


def test_review_term_is_the_agency_rule_and_only_for_rows_under_review(make_workbook: Any,
                                                                       good_rows: list[dict[str, Any]]) -> None:
    import datetime as dt

    good_rows[0].update(status="черновик", changed_on=dt.date(2026, 1, 12))  # nobody submitted it
    good_rows[1].update(status="на проверке", changed_on=dt.date(2026, 11, 2))
    _, fs = findings(make_workbook(good_rows))
    assert codes(fs) == [("review-overdue", None, "P3")]
    msg = fs[0]["message"]
    assert AGENCY in msg and "Порядок его не устанавливает" in msg and "2.1.2" in msg


def test_report_legend_explains_order_and_agency(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                 tmp_path: Path) -> None:
    good_rows[0]["channel"] = "Цифровая"
    good_rows[1]["key"] = "нет"
    rep = tmp_path / "rep"
    res = run(make_workbook(good_rows), "--report-dir", str(rep))
    assert res.exit_code == 0, res.output
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert "Источник правила" in html and "Как читать отчёт" in html
    assert f"«{AGENCY}» — правило, которое Служба установила сама" in html
    assert "это не нарушение Порядка" in html
    assert "п. 3.2 Порядка" in html  # written-not-key cites the order
    ws = load_workbook(rep / next(p.name for p in rep.glob("*.xlsx")))["Замечания"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][2] == "Источник правила"
    assert {r[2] for r in rows[1:]} == {AGENCY, "п. 3.2 Порядка"}


def test_agency_changes_a_severity_in_rules(make_workbook: Any, good_rows: list[dict[str, Any]],
                                            tmp_path: Path) -> None:
    d = tmp_path / "proj" / "rules"
    shutil.copytree(ROOT / "rules", d)
    text = (d / "checks.toml").read_text(encoding="utf-8")
    start = text.index('code = "list-spelling"')
    text = text[:start] + text[start:].replace('severity = "warning"', 'severity = "error"', 1)
    (d / "checks.toml").write_text(text, encoding="utf-8")
    cfg = d.parent / "perechen.toml"
    cfg.write_text('rules = "rules"\n', encoding="utf-8")
    good_rows[0]["channel"] = "Цифровая"
    wb = make_workbook(good_rows)
    assert findings(wb)[0] == 0
    code, fs = findings(wb, "--config", str(cfg))
    assert code == 1 and [(f["code"], f["severity"]) for f in fs] == [("list-spelling", "error")]


# -- 8. «Проверил» is not required to exclude ---------------------------------------------------------------


def test_excluded_row_needs_no_checked_by(make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    good_rows[7].update(status="исключено", checked_by=None)
    assert findings(make_workbook(good_rows)) == (0, [])
    good_rows[7].update(status="включено")
    code, fs = findings(make_workbook(good_rows))
    assert code == 1 and codes(fs) == [("checked-by-empty", None, "Q9")]


# -- 9. written interaction is key by 3.2 ---------------------------------------------------------------------


def test_written_kind_counts_as_key_and_not_key_is_a_warning(make_workbook: Any,
                                                            good_rows: list[dict[str, Any]]) -> None:
    good_rows[0]["key"] = "нет"  # СЭД: the only «да» of «Внутриведомственное взаимодействие»
    code, fs = findings(make_workbook(good_rows))
    assert code == 0  # no area-no-key error: СЭД is key by 3.2
    assert codes(fs) == [("written-not-key", "3.2", "J2")]


# -- 10. 3.2.1: four duties; a condition is not a duty ------------------------------------------------------


def test_condition_of_the_answer_is_not_the_answer(make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    good_rows[1]["written_features"] = ["первичная обратная связь", "закреплённый ответственный",
                                        "база знаний с шаблонами ответов", "быстрая обратная связь"]
    _, fs = findings(make_workbook(good_rows))
    got = [(f["code"], f["cell"]) for f in fs if f["code"] == "written-features-missing"]
    assert got == [("written-features-missing", "N3")]
    msg = next(f["message"] for f in fs if f["code"] == "written-features-missing")
    assert "не указано: «исчерпывающий ответ на обращение»" in msg and "не заменяют сам ответ" in msg


# -- 11. 2.8.4 in the order's words, digital points too -----------------------------------------------------


def test_accessibility_names_clients_as_the_order_and_covers_digital_points(
        make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    good_rows[4]["accessibility"] = None  # телефонная связь (offline)
    good_rows[3]["accessibility"] = None  # система учёта заявок (digital)
    code, fs = findings(make_workbook(good_rows))
    assert code == 0
    assert [(f["code"], f["severity"], f["cell"]) for f in fs] == [
        ("digital-no-accessibility", "info", "M5"), ("offline-no-accessibility", "warning", "M6")]
    assert ("с проблемами со здоровьем, ограниченно или временно нетрудоспособных, с низкими навыками "
            "использования цифровых технологий, в том числе в силу возраста") in fs[1]["message"]
    assert "подвижн" not in fs[1]["message"]
    assert "низкими навыками использования цифровых технологий" in fs[0]["message"]


# -- 12. 2.3 vs 2.4 -----------------------------------------------------------------------------------------


def test_a_rasporyazhenie_is_a_document_not_an_action(make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    good_rows[0].update(basis_kind="распорядительное действие", basis="Распоряжение Службы от 01.03.2024 № 5")
    good_rows[1].update(basis_kind="распоряжение руководителя",
                        basis="Распоряжение руководителя (директора) Службы от 01.03.2024 № 7")
    good_rows[2].update(basis_kind="распорядительное действие", basis="Поручение руководителя от 15.03.2024")
    code, fs = findings(make_workbook(good_rows))
    assert code == 0
    assert codes(fs) == [("basis-action-is-document", "2.4", "L2"), ("list-spelling", None, "K3")]
    assert "документ («Распоряжение»)" in fs[0]["message"] and "п. 2.3" in fs[0]["message"]
    assert "Правильно: «документ»" in fs[1]["message"]


# -- 13. a second notes column is a warning -----------------------------------------------------------------


def test_comment_column_beside_note_is_a_warning(make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    p = make_workbook(good_rows)
    wb = load_workbook(p)
    ws = wb["Перечень"]
    ws["T1"] = "Комментарий"
    ws["T2"] = "позвонить в понедельник"
    wb.save(p)
    code, fs = findings(p)
    assert code == 0
    assert [(f["code"], f["severity"], f["clause"], f["cell"]) for f in fs] == [
        ("duplicate-note-column", "warning", None, "T1")]
    assert "«Комментарий»" in fs[0]["message"] and "«Примечание»" in fs[0]["message"]


# -- 14. the bundled register claims nothing the order does not ---------------------------------------------


def test_bundled_register_is_clean_and_marks_its_examples(rules: Rules) -> None:
    code, fs = findings(BUNDLED)
    assert code == 0 and [(f["code"], f["severity"]) for f in fs] == [("info-field-empty", "warning")]
    reg = read_register(BUNDLED, rules)
    # 25-о approves the Порядок, not the Перечень (5.1 leaves that document to the agency).
    assert "25-о" not in json.dumps(reg.info, ensure_ascii=False)
    assert not reg.info.get("approving_document")
    # What the order does not give reads as an example on the published page.
    for r in reg.rows:
        assert str(r.get("accessibility")).startswith("Пример"), r.number
        proc = str(r.get("process"))
        assert proc == "Рассмотрение обращений и запросов" or proc.startswith("Пример:"), proc
        assert "25-о" in str(r.get("basis"))  # the order itself names these kinds (section 4)
    ins = load_workbook(BUNDLED)["Инструкция"]
    text = "\n".join(str(c.value) for row in ins.iter_rows() for c in row if c.value)
    assert "Это пример перечня — замените его сведениями Службы" in text
    assert "Приказ № 25-о утверждает Порядок, а не Перечень" in text
    assert "должности" in text and "помещения" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "example to replace" in readme and "25-о approves the Порядок" in readme


def test_make_workbook_builds_the_bundled_register() -> None:
    """The committed workbook is the script's output (regenerate with the script, never by a command)."""
    import io

    rules = Rules.load(ROOT / "rules")
    built = load_workbook(io.BytesIO(EXAMPLE.build(rules)))
    committed = load_workbook(BUNDLED)
    for name in ("Перечень", "Сведения", "Инструкция"):
        assert [[c.value for c in r] for r in built[name].iter_rows()] == \
               [[c.value for c in r] for r in committed[name].iter_rows()], name


# -- 18. «Сведения» to fill in, once, in the check report ---------------------------------------------------


def test_empty_publisher_fields_are_named_once(make_workbook: Any, good_rows: list[dict[str, Any]],
                                               good_info: dict[str, str], tmp_path: Path) -> None:
    info = copy.deepcopy(good_info)
    info.update(agency="", phone="", email="", inn="")
    rep = tmp_path / "rep"
    res = run(make_workbook(good_rows, info), "--report-dir", str(rep))
    assert res.exit_code == 0
    lines = [ln for ln in res.stdout.splitlines() if "info-field-empty" in ln]
    assert len(lines) == 1
    assert "не заполнено: «Орган», «Телефон», «Электронная почта», «ИНН»" in lines[0]
    doc = json.loads((rep / "report.json").read_text(encoding="utf-8"))
    assert [f["sheet"] for f in doc["findings"] if f["code"] == "info-field-empty"] == ["Сведения"]

"""A workbook with one mistake of each kind gives exactly the expected findings (tests/golden/).

The expected output is `perechen check --format json --no-report --today 2026-11-30` on a workbook this
test builds. Regenerate it only on purpose, after reading the diff:

    PERECHEN_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_checks_golden.py
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from openpyxl import load_workbook

from perechen.cli import main
from perechen.rules import Rules
from tests.conftest import EXAMPLE, FILLED_INFO

GOLDEN = Path(__file__).parent / "golden" / "check_one_mistake_each.json"
TODAY = "2026-11-30"
# Rules that need a broken workbook structure or a side file, covered in test_register.py / test_checks.py.
NOT_IN_GOLDEN = {"missing-column", "info-sheet-missing", "workbook-open"}


def mistakes_workbook(make_workbook: Any, rules: Rules) -> Path:
    base = EXAMPLE.rows()
    rows = copy.deepcopy(base)

    def extra(src: int, **changes: Any) -> None:
        r = copy.deepcopy(base[src])
        r.update(changes)
        rows.append(r)

    written_all = list(EXAMPLE.WRITTEN_ALL)
    # Sheet rows 2–9: the bundled register, each row with one or two mistakes in different columns.
    rows[0].update(process=None, basis="Приказ Службы от 26.02.2024")          # C2 required, L2 basis no number
    rows[1].update(needs=["получение консультации", rules.lists["needs"].items[-1].value],  # I3 other needs
                   code="ТВ 02")                                                  # A3 code pattern
    rows[2].update(checked_by=None, changed_on="вчера")                         # Q4 checked by, R4 not a date
    rows[3].update(channel="интернет", written_features=["первичная обратная связь"])  # E5 channel, N5 written
    rows[4].update(kind="факс", checked_by=rows[4]["responsible"])              # F6 kind, Q6 same person
    rows[5].update(clients="граждане", basis_kind="устав",                      # G7 clients, K7 basis kind
                   name="Кабинеты структурных пoдразделений Службы")            # D7 Latin «o»
    rows[6].update(needs=["получение консультации", "справка"], channel="Офлайн")  # H8 needs, E8 spelling
    rows[7].update(key="возможно", accessibility=None)                          # J9 key, M9 accessibility
    # Sheet rows 10–20: touchpoints added with one mistake each.
    extra(1, code="ТВ-09", name="Электронная почта приёмной")                   # F10 ~ F3 same kind in process
    extra(4, code="ТВ-10", kind="рабочее место клиентов",
          name="Телефонная связь")                                               # D11 ~ D6 same name
    extra(0, code="ТВ-01", status="на проверке", changed_on=dt.date(2026, 11, 2))  # A12 ~ A2 code, P12 overdue
    extra(6, code="ТВ-11", area="Надзор за техническим состоянием техники", key="нет",
          kind="личное взаимодействие", name="Личный приём по вопросам надзора")  # B13 area without key
    extra(2, code="ТВ-12", kind="официальный сайт", name="Раздел «Обращения» официального сайта",
          basis_kind="распорядительное действие", basis="Резолюция директора")  # L14 action without date
    extra(1, code="ТВ-13", kind="мессенджер", name="Чат Службы в мессенджере",
          changed_on=dt.date(2026, 12, 15))                                      # R15 future date
    extra(3, code="ТВ-14", kind="ЕПГУ", channel="офлайн", name="Портал госуслуг")  # F16 kind vs channel
    extra(0, code="ТВ-15", kind="платформа обратной связи", name="Платформа обратной связи",
          status="готово")                                                       # P17 status
    extra(1, code="ТВ-16", kind="личный кабинет", name="Личный кабинет заявителя",
          written_features=[*written_all, "автоответ"])                         # N18 written feature
    extra(2, code="ТВ-17", process="Информирование о деятельности Службы", area=EXAMPLE.AREA_APPEALS,
          kind="официальный сайт", name="Новости на официальном сайте")         # C19 no offline alternative
    extra(7, code="ТВ-18", process="Выездные осмотры техники", key="нет",
          name="Осмотр техники по месту её нахождения")                          # C20 no digital touchpoint
    extra(3, code="ТВ-19", process=EXAMPLE.P_APPEALS, key="нет", accessibility=None,
          basis_kind="распорядительное действие",
          basis="Распоряжение Службы от 01.03.2024 № 5")                        # J21 written not key, L21 a
    #                                          document as an action, M21 digital without accessibility
    p: Path = make_workbook(rows, name="ошибки.xlsx", info=dict(FILLED_INFO, phone=""))  # «Сведения»: no phone

    wb = load_workbook(p)
    ws = wb["Перечень"]
    ws["T1"] = "Доп. сведения"            # unknown column
    ws["U1"] = "Тип точки"                # a second «Канал» (alias)
    ws["V1"] = "Комментарий"              # a second notes column beside «Примечание»: a warning
    ws["S3"] = "=1+1"                     # formula without a cached value
    ws["S4"].value = "#DIV/0!"            # error value
    ws["S4"].data_type = "e"
    ws.merge_cells("O8:O9")               # merged cells in the data (O9 is not reported as empty)
    ws.row_dimensions[20].hidden = True   # a hidden row (information)
    wb.save(p)
    return p


def run_json(path: Path) -> tuple[int, dict[str, Any]]:
    res = CliRunner().invoke(main, ["check", str(path), "--format", "json", "--no-report", "--today", TODAY])
    doc = json.loads(res.stdout)
    doc["workbook"] = path.name
    return res.exit_code, doc


def test_one_mistake_of_each_kind_matches_golden(make_workbook: Any, rules: Rules) -> None:
    code, doc = run_json(mistakes_workbook(make_workbook, rules))
    assert code == 1
    if os.environ.get("PERECHEN_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert doc == expected, "findings changed; if on purpose, regenerate with PERECHEN_REGEN_GOLDEN=1"


def test_golden_covers_every_rule(rules: Rules) -> None:
    doc = json.loads(GOLDEN.read_text(encoding="utf-8"))
    found = {f["code"] for f in doc["findings"]}
    assert found == {c.code for c in rules.checks} - NOT_IN_GOLDEN
    # Every finding carries its cell; a rule of the order its clause, a rule of the agency none.
    for f in doc["findings"]:
        order = rules.check(f["code"]).source == "order" or (f["code"] == "required-empty" and f["cell"][0] == "H")
        assert bool(f["clause"]) == order, f
        assert (f["cell"] and f["sheet"] == "Перечень") or (f["code"] == "info-field-empty"
                                                            and f["sheet"] == "Сведения"), f
    assert doc["errors"] == sum(f["severity"] == "error" for f in doc["findings"])


def test_golden_expected_cells(rules: Rules) -> None:
    """The golden file itself, read as (code, cell): what each planted mistake must produce, and nothing else."""
    doc = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = sorted((f["code"], f["cell"]) for f in doc["findings"])
    want = sorted([
        ("required-empty", "C2"), ("basis-document", "L2"), ("code-duplicate", "A2"),
        ("other-needs-empty", "I3"), ("code-pattern", "A3"), ("duplicate-kind", "F3"), ("formula-no-value", "S3"),
        ("checked-by-empty", "Q4"), ("date-invalid", "R4"), ("error-value", "S4"),
        ("channel-value", "E5"), ("written-features-missing", "N5"),
        ("kind-value", "F6"), ("checked-by-self", "Q6"), ("duplicate-name", "D6"),
        ("clients-value", "G7"), ("basis-kind-value", "K7"), ("mixed-script", "D7"),
        ("needs-value", "H8"), ("list-spelling", "E8"), ("merged-cells", "O8"),
        ("key-value", "J9"), ("offline-no-accessibility", "M9"),
        ("duplicate-kind", "F10"), ("duplicate-name", "D11"), ("code-duplicate", "A12"), ("review-overdue", "P12"),
        ("area-no-key", "B13"), ("basis-action", "L14"), ("date-future", "R15"), ("kind-channel", "F16"),
        ("status-value", "P17"), ("written-features-value", "N18"),
        ("process-no-offline", "C19"), ("process-no-digital", "C20"), ("hidden-rows", "A20"),
        ("unknown-column", "T1"), ("duplicate-column", "U1"), ("duplicate-note-column", "V1"),
        ("written-not-key", "J21"), ("basis-action-is-document", "L21"), ("digital-no-accessibility", "M21"),
        ("info-field-empty", None),
    ])
    assert got == want

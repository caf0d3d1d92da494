"""Generate workbook/perechen.xlsx: an EXAMPLE register built on what the order gives.

Run from the repository root:  python scripts/make_workbook.py [--out workbook/perechen.xlsx]
The generated file is committed; regenerate it on purpose only (never edit it by hand or by a command).

What comes from the order (Приказ № 25-о and its Порядок): the agency's name, the kinds of touchpoints
(section 4) and their channels (3.1), the needs (2.5), the duties of written interaction (3.2.1). Everything
else — areas and processes beyond the order's own words, posts, premises, accessibility arrangements — is an
example the agency replaces: the published texts say «Пример», and the «Инструкция» sheet and the README list
them. Order 25-о approves the Порядок, not the Перечень (5.1 leaves that document to the agency), so
«Сведения» leaves «Документ, утверждающий перечень» for the agency to fill in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from perechen.fsutil import atomic_write  # noqa: E402
from perechen.rules import Rules  # noqa: E402
from perechen.template import INSTRUCTION, build_workbook  # noqa: E402

# The order that approves the Порядок; its section 4 names the kinds of touchpoints used below.
BASIS = "Приказ Службы гостехнадзора Калининградской области от 26.02.2024 № 25-о (Порядок, п. {clause})"
ADOPTED = dt.date(2024, 2, 26)
EXAMPLE = "Пример (замените описанием Службы): "
# The four duties of 3.2.1, in the order's words (lists.toml written_features).
WRITTEN_ALL = ["первичная обратная связь", "исчерпывающий ответ на обращение", "база знаний с шаблонами ответов",
               "быстрая обратная связь"]
# Areas and the appeals process in the order's own words (its title; 1.2.1).
AREA_APPEALS = "Рассмотрение обращений и запросов"
AREA_INTERNAL = "Внутриведомственное взаимодействие"
P_APPEALS = "Рассмотрение обращений и запросов"
# Processes the order does not name: examples.
P_REQUESTS = "Пример: приём и учёт заявок"
P_ORDERS = "Пример: исполнение поручений и согласование документов"
# Posts (never published; the «Инструкция» sheet and the README call them examples).
HEAD_GENERAL = "Начальник отдела организационной и кадровой работы"
HEAD_SUPERVISION = "Начальник отдела регистрации и технического надзора"
DEPUTY = "Заместитель руководителя (директора) Службы"
CONTROL = "Консультант отдела организационной и кадровой работы"
CONSULT = "получение консультации"
FORMS = "получение форм документов"
RESULT = "получение результата, ответа, разъяснения"
FEEDBACK = "предоставление обратной связи"
FEEDBACK_RESULT = "получение результата рассмотрения обратной связи"

ROWS = [
    dict(code="ТВ-01", area=AREA_INTERNAL, process=P_ORDERS, name="Система электронного документооборота Службы",
         channel="цифровая", kind="система электронного документооборота (СЭД)", clients="внутренние",
         needs=[RESULT, FEEDBACK, FEEDBACK_RESULT],
         key="да", written_features=WRITTEN_ALL, responsible=HEAD_GENERAL,
         accessibility=EXAMPLE + "сотрудникам с низкими навыками использования цифровых технологий помогает "
                                 "администратор СЭД."),
    dict(code="ТВ-02", area=AREA_APPEALS, process=P_APPEALS, name="Электронная почта Службы",
         channel="цифровая", kind="электронная почта Службы", clients="внешние и внутренние",
         needs=[CONSULT, FORMS, RESULT, FEEDBACK,
                FEEDBACK_RESULT],
         key="да", written_features=WRITTEN_ALL, responsible=HEAD_GENERAL,
         accessibility=EXAMPLE + "обращение можно продиктовать по телефону; ответ направляется простым языком."),
    dict(code="ТВ-03", area=AREA_INTERNAL, process=P_ORDERS,
         name="Автоматизированное рабочее место государственного служащего (АРМ ГС)",
         channel="цифровая", kind="автоматизированное рабочее место государственного служащего (АРМ ГС)",
         clients="внутренние",
         needs=[FORMS, RESULT], key="нет", responsible=HEAD_GENERAL,
         accessibility=EXAMPLE + "инструкция по работе и помощь администратора для сотрудников с низкими "
                                 "цифровыми навыками."),
    dict(code="ТВ-04", area=AREA_APPEALS, process=P_REQUESTS, name="Система учёта заявок",
         channel="цифровая", kind="система учёта заявок", clients="внешние",
         needs=[RESULT, FEEDBACK, FEEDBACK_RESULT],
         key="да", written_features=WRITTEN_ALL, responsible=HEAD_SUPERVISION,
         accessibility=EXAMPLE + "заявку можно подать и на рабочем месте клиентов с помощью специалиста."),
    dict(code="ТВ-05", area=AREA_APPEALS, process=P_APPEALS, name="Телефонная связь",
         channel="офлайн", kind="телефонная связь", clients="внешние и внутренние",
         needs=[CONSULT, RESULT, FEEDBACK], key="да",
         accessibility=EXAMPLE + "консультации по телефону для клиентов с низкими навыками использования "
                                 "цифровых технологий; специалист диктует ответ медленно и по просьбе повторяет его.",
         responsible=HEAD_GENERAL),
    dict(code="ТВ-06", area=AREA_INTERNAL, process=P_ORDERS, name="Кабинеты внутренних клиентов",
         channel="офлайн", kind="кабинеты внутренних клиентов", clients="внутренние",
         needs=[CONSULT, RESULT], key="нет",
         accessibility=EXAMPLE + "сотрудник с проблемами со здоровьем может получить консультацию у себя "
                                 "на рабочем месте: специалист приходит к нему.",
         responsible=HEAD_GENERAL),
    dict(code="ТВ-07", area=AREA_APPEALS, process=P_REQUESTS, name="Рабочее место клиентов",
         channel="офлайн", kind="рабочее место клиентов", clients="внешние",
         needs=[CONSULT, FORMS, RESULT], key="нет",
         accessibility=EXAMPLE + "специалист помогает заполнить заявление клиентам с проблемами со здоровьем "
                                 "и клиентам с низкими цифровыми навыками, в том числе в силу возраста.",
         responsible=HEAD_SUPERVISION),
    dict(code="ТВ-08", area=AREA_APPEALS, process=P_APPEALS, name="Личное взаимодействие",
         channel="офлайн", kind="личное взаимодействие", clients="внешние",
         needs=[CONSULT, FORMS, RESULT, FEEDBACK],
         key="нет",
         accessibility=EXAMPLE + "приём в помещении, доступном для клиентов с проблемами со здоровьем; запись "
                                 "на приём по телефону.",
         responsible=DEPUTY),
]

# «Сведения»: only what the order's heading gives. The document approving the Перечень (5.1: its form is
# the agency's), the site, phone, e-mail and ИНН are the agency's to fill in (`perechen check` names them).
INFO = {
    "agency": "Государственная инспекция по надзору за техническим состоянием самоходных машин и других видов "
              "техники Калининградской области",
    "short_name": "Служба гостехнадзора Калининградской области",
}

# What the «Инструкция» sheet says about this example (also in the README).
EXAMPLE_NOTE = [
    "Это пример перечня — замените его сведениями Службы",
    "Из Порядка (приказ Службы от 26.02.2024 № 25-о) взяты только наименование органа, виды точек "
    "(раздел 4) и их каналы (п. 3.1), удовлетворяемые потребности (п. 2.5), обязанности письменного "
    "взаимодействия (п. 3.2.1) и направление «Рассмотрение обращений и запросов» (заголовок Порядка).",
    "Придуманы для примера и подлежат замене: процессы, отмеченные «Пример:»; должности в столбцах "
    "«Ответственный» и «Проверил»; помещения и способы учёта особенностей клиентов в столбце «Доступность» "
    "(тексты «Пример (замените описанием Службы): …»); дата изменения 26.02.2024; признаки «Ключевая».",
    "Приказ № 25-о утверждает Порядок, а не Перечень: документ, утверждающий Перечень, Служба определяет сама "
    "(п. 5.1) — впишите его на листе «Сведения» вместе с сайтом, телефоном, электронной почтой и ИНН.",
]


def _kind_clause(kind: str) -> str:
    rules = Rules.load(ROOT / "rules")
    return next(i.clause or "4" for i in rules.lists["kinds"].items if i.value == kind)


def build(rules: Rules) -> bytes:
    """The example register, with the «Инструкция» sheet saying what in it is an example."""
    import io

    from openpyxl import load_workbook
    from openpyxl.styles import Alignment, Font

    wb = load_workbook(io.BytesIO(build_workbook(rules, rows(), INFO)))
    ins = wb[INSTRUCTION]
    first = ins.max_row + 2
    ins.cell(row=first, column=1, value=EXAMPLE_NOTE[0]).font = Font(bold=True, size=13)
    for i, text in enumerate(EXAMPLE_NOTE[1:], start=first + 1):
        ins.merge_cells(start_row=i, start_column=1, end_row=i, end_column=4)
        c = ins.cell(row=i, column=1, value=text)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ins.row_dimensions[i].height = 48
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rows() -> list[dict[str, object]]:
    out = []
    for r in ROWS:
        row = dict(r)
        row.setdefault("basis_kind", "документ")
        row.setdefault("basis", BASIS.format(clause=_kind_clause(str(row["kind"]))))
        row["status"] = "включено"
        row["checked_by"] = CONTROL if row["responsible"] != CONTROL else DEPUTY
        row["changed_on"] = ADOPTED
        out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "workbook" / "perechen.xlsx")
    args = ap.parse_args()
    rules = Rules.load(ROOT / "rules")
    atomic_write(args.out, build(rules))
    print(f"Записано: {args.out}")


if __name__ == "__main__":
    main()

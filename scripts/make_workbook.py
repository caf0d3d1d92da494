"""Generate workbook/perechen.xlsx: the agency's register as the order describes it.

Run from the repository root:  python scripts/make_workbook.py [--out workbook/perechen.xlsx]
The generated file is committed; regenerate it on purpose only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from perechen.rules import Rules  # noqa: E402
from perechen.template import write_template  # noqa: E402

BASIS = "Приказ Службы гостехнадзора Калининградской области от 26.02.2024 № 25-о"
ADOPTED = dt.date(2024, 2, 26)
WRITTEN_ALL = ["уведомление о получении", "закреплённый ответственный", "шаблоны ответов", "быстрая обратная связь"]
AREA_APPEALS = "Рассмотрение обращений граждан и организаций"
AREA_INTERNAL = "Внутриведомственное взаимодействие"
P_APPEALS = "Рассмотрение обращений и запросов"
P_REQUESTS = "Приём и учёт заявок на регистрацию и осмотр техники"
P_ORDERS = "Исполнение служебных поручений и согласование документов"
HEAD_GENERAL = "Начальник отдела организационной и кадровой работы"
HEAD_SUPERVISION = "Начальник отдела регистрации и технического надзора"
DEPUTY = "Заместитель руководителя (директора) Службы"
CONTROL = "Консультант отдела организационной и кадровой работы"

ROWS = [
    dict(code="ТВ-01", area=AREA_INTERNAL, process=P_ORDERS, name="Система электронного документооборота Службы",
         channel="цифровая", kind="СЭД", clients="внутренние",
         needs=["результат, ответ, разъяснение", "обратная связь", "результат рассмотрения обратной связи"],
         key="да", written_features=WRITTEN_ALL, responsible=HEAD_GENERAL),
    dict(code="ТВ-02", area=AREA_APPEALS, process=P_APPEALS, name="Электронная почта Службы",
         channel="цифровая", kind="электронная почта", clients="внешние и внутренние",
         needs=["консультация", "формы документов", "результат, ответ, разъяснение", "обратная связь",
                "результат рассмотрения обратной связи"],
         key="да", written_features=WRITTEN_ALL, responsible=HEAD_GENERAL),
    dict(code="ТВ-03", area=AREA_INTERNAL, process=P_ORDERS,
         name="Автоматизированное рабочее место государственного служащего (АРМ ГС)",
         channel="цифровая", kind="АРМ ГС", clients="внутренние",
         needs=["формы документов", "результат, ответ, разъяснение"], key="нет", responsible=HEAD_GENERAL),
    dict(code="ТВ-04", area=AREA_APPEALS, process=P_REQUESTS, name="Система учёта заявок",
         channel="цифровая", kind="система учёта заявок", clients="внешние",
         needs=["результат, ответ, разъяснение", "обратная связь", "результат рассмотрения обратной связи"],
         key="да", written_features=WRITTEN_ALL, responsible=HEAD_SUPERVISION),
    dict(code="ТВ-05", area=AREA_APPEALS, process=P_APPEALS, name="Телефонная связь со Службой",
         channel="офлайн", kind="телефонная связь", clients="внешние и внутренние",
         needs=["консультация", "результат, ответ, разъяснение", "обратная связь"], key="да",
         accessibility="Консультации по телефону для клиентов без доступа к интернету и с низкими цифровыми "
                       "навыками; специалист диктует ответ медленно и по просьбе повторяет его.",
         responsible=HEAD_GENERAL),
    dict(code="ТВ-06", area=AREA_INTERNAL, process=P_ORDERS, name="Кабинеты структурных подразделений Службы",
         channel="офлайн", kind="кабинеты внутренних клиентов", clients="внутренние",
         needs=["консультация", "результат, ответ, разъяснение"], key="нет",
         accessibility="Сотрудник с ограниченной подвижностью может получить консультацию у себя на рабочем "
                       "месте: специалист приходит к нему.",
         responsible=HEAD_GENERAL),
    dict(code="ТВ-07", area=AREA_APPEALS, process=P_REQUESTS, name="Рабочее место приёма заявителей",
         channel="офлайн", kind="рабочее место клиентов", clients="внешние",
         needs=["консультация", "формы документов", "результат, ответ, разъяснение"], key="нет",
         accessibility="Рабочее место на первом этаже; специалист помогает заполнить заявление клиентам с "
                       "проблемами со здоровьем и пожилым клиентам; при необходимости организуется выезд.",
         responsible=HEAD_SUPERVISION),
    dict(code="ТВ-08", area=AREA_APPEALS, process=P_APPEALS, name="Личный приём граждан и представителей организаций",
         channel="офлайн", kind="личное взаимодействие", clients="внешние",
         needs=["консультация", "формы документов", "результат, ответ, разъяснение", "обратная связь"],
         key="нет",
         accessibility="Приём в помещении, доступном для маломобильных граждан; запись на приём по телефону; "
                       "при необходимости — выезд по месту нахождения клиента.",
         responsible=DEPUTY),
]

INFO = {
    "agency": "Государственная инспекция по надзору за техническим состоянием самоходных машин и других видов "
              "техники Калининградской области",
    "short_name": "Служба гостехнадзора Калининградской области",
    "approving_document": BASIS + " «О порядке ведения перечня точек взаимодействия с клиентом в рамках "
                                  "рассмотрения обращений и запросов в Службе гостехнадзора Калининградской области»",
}


def rows() -> list[dict[str, object]]:
    out = []
    for r in ROWS:
        row = dict(r)
        row.setdefault("basis_kind", "документ")
        row.setdefault("basis", BASIS)
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
    write_template(args.out, rules, rows(), INFO)
    print(f"Записано: {args.out}")


if __name__ == "__main__":
    main()

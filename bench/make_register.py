"""Generate realistic registers for the benchmarks: 1,000 / 10,000 / 100,000 rows and more.

Headers come from rules/schema.toml and list values from rules/lists.toml, so the files follow the
schema wherever it changes. The rows look like a large agency's register: activity areas, processes
repeated across territorial units and inspection sections, touchpoint names, bases, responsible
positions and people, statuses and dates. A configurable share of rows (``--error-rate``) carries one
typical clerk's mistake each, so the check has findings to report and the reports have cells to
annotate; everything else passes the rules. The output is deterministic for a given seed.

``--variant baseline`` writes the "previously published" version of the same register for the diff
benchmark: about ``--change-rate`` (default 1%) of the rows differ — half of them changed, a quarter
absent (added since), a quarter still «включено» (excluded since). The manifest written next to every
file (``<name>.manifest.json``) lists the mistakes and the differences by code.

Usage (from the repository root):
    .venv/bin/python -m bench.make_register --rows 10000 --out output/bench/register_10000.xlsx
    .venv/bin/python -m bench.make_register --rows 10000 --variant baseline \
        --out output/bench/register_10000_baseline.xlsx
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import random
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TODAY = dt.date(2025, 6, 2)  # a Monday; pass the same date to `perechen check --today`
ADOPTED = dt.date(2024, 2, 26)
# Bump when the same arguments would give different files: bench_check regenerates stale ones.
GENERATOR_VERSION = 4
MAIN_BASIS = "Приказ Службы гостехнадзора Калининградской области от 26.02.2024 № 25-о"

Row = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# The schema, read from rules/ (plain TOML: the generator does not import perechen)
# --------------------------------------------------------------------------------------------------

@dataclass
class Schema:
    sheet: str
    info_sheet: str
    info_headers: tuple[str, str]
    info_labels: list[tuple[str, str]]  # (key, label)
    fields: list[str]
    headers: dict[str, str]
    list_of: dict[str, str]  # field -> list name
    multi: set[str]
    dates: set[str]
    lists: dict[str, list[str]]  # list name -> canonical values
    aliases: dict[str, dict[str, list[str]]]  # list name -> value -> aliases
    kind_channel: dict[str, str] = field(default_factory=dict)
    kind_written: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, rules_dir: Path) -> Schema:
        with (rules_dir / "schema.toml").open("rb") as f:
            schema = tomllib.load(f)
        with (rules_dir / "lists.toml").open("rb") as f:
            lists_raw = tomllib.load(f)
        cols = schema["columns"]
        lists = {name: [i["value"] for i in body["items"]] for name, body in lists_raw.items()}
        aliases = {name: {i["value"]: list(i.get("aliases", [])) for i in body["items"]}
                   for name, body in lists_raw.items()}
        info = schema["info"]
        s = cls(
            sheet=schema["register"]["sheet"],
            info_sheet=info["sheet"],
            info_headers=(info["key_header"], info["value_header"]),
            info_labels=[(f["key"], f["label"]) for f in info["fields"]],
            fields=[c["field"] for c in cols],
            headers={c["field"]: c["header"] for c in cols},
            list_of={c["field"]: c["list"] for c in cols if c.get("list")},
            multi={c["field"] for c in cols if c.get("multi")},
            dates={c["field"] for c in cols if c.get("type") == "date"},
            lists=lists,
            aliases=aliases,
        )
        for item in lists_raw["kinds"]["items"]:
            s.kind_channel[item["value"]] = item["channel"]
            s.kind_written[item["value"]] = bool(item.get("written"))
        return s

    def values(self, fld: str) -> list[str]:
        return self.lists[self.list_of[fld]]

    def value(self, fld: str, index: int) -> str:
        return self.values(fld)[index]


# --------------------------------------------------------------------------------------------------
# Realistic vocabulary
# --------------------------------------------------------------------------------------------------

# Territorial units: (nominative, dative) — «инспекция по Гусевскому району».
UNITS = [
    ("город Калининград", "городу Калининграду"), ("Багратионовский район", "Багратионовскому району"),
    ("Балтийский район", "Балтийскому району"), ("Гвардейский район", "Гвардейскому району"),
    ("Гурьевский район", "Гурьевскому району"), ("Гусевский район", "Гусевскому району"),
    ("Зеленоградский район", "Зеленоградскому району"), ("Краснознаменский район", "Краснознаменскому району"),
    ("Ладушкинский район", "Ладушкинскому району"), ("Мамоновский район", "Мамоновскому району"),
    ("Неманский район", "Неманскому району"), ("Нестеровский район", "Нестеровскому району"),
    ("Озёрский район", "Озёрскому району"), ("Пионерский район", "Пионерскому району"),
    ("Полесский район", "Полесскому району"), ("Правдинский район", "Правдинскому району"),
    ("Светловский район", "Светловскому району"), ("Светлогорский район", "Светлогорскому району"),
    ("Славский район", "Славскому району"), ("Советский район", "Советскому району"),
    ("Черняховский район", "Черняховскому району"), ("Янтарный район", "Янтарному району"),
]

# Activity areas (п. 2.2) and the processes within each (п. 2.7); internal areas serve staff.
AREAS: list[tuple[str, bool, list[str]]] = [
    ("Регистрация самоходных машин и других видов техники", False, [
        "Государственная регистрация самоходных машин и прицепов к ним",
        "Снятие самоходных машин с государственного регистрационного учёта",
        "Выдача дубликатов регистрационных документов и государственных регистрационных знаков",
    ]),
    ("Технический осмотр самоходных машин", False, [
        "Проведение технического осмотра самоходных машин",
        "Выдача свидетельств о прохождении технического осмотра",
    ]),
    ("Допуск к управлению самоходными машинами", False, [
        "Приём экзаменов на право управления самоходными машинами",
        "Выдача и замена удостоверений тракториста-машиниста (тракториста)",
        "Выдача временных разрешений на право управления самоходными машинами",
    ]),
    ("Оформление паспортов самоходных машин", False, [
        "Оформление паспортов самоходных машин и других видов техники",
        "Оформление электронных паспортов самоходных машин",
    ]),
    ("Региональный государственный надзор в области технического состояния техники", False, [
        "Проведение контрольных (надзорных) мероприятий",
        "Профилактические визиты и консультирование контролируемых лиц",
        "Рассмотрение возражений на предостережения о недопустимости нарушения обязательных требований",
    ]),
    ("Производство по делам об административных правонарушениях", False, [
        "Рассмотрение дел об административных правонарушениях",
        "Исполнение постановлений о назначении административных штрафов",
    ]),
    ("Рассмотрение обращений граждан и организаций", False, [
        "Рассмотрение обращений и запросов",
        "Рассмотрение жалоб на решения и действия должностных лиц",
    ]),
    ("Государственная пошлина и платежи", False, [
        "Администрирование государственной пошлины за регистрационные действия",
        "Возврат излишне уплаченной государственной пошлины",
    ]),
    ("Предоставление сведений о самоходных машинах", False, [
        "Предоставление сведений из реестра зарегистрированной техники",
        "Выдача справок о наличии (отсутствии) зарегистрированной техники",
    ]),
    ("Внутриведомственное взаимодействие", True, [
        "Исполнение служебных поручений и согласование документов",
        "Подготовка отчётности территориальных подразделений",
    ]),
    ("Кадровая работа и государственная гражданская служба", True, [
        "Прохождение государственной гражданской службы",
        "Профессиональное развитие гражданских служащих",
    ]),
    ("Противодействие коррупции", True, [
        "Приём уведомлений о фактах обращения в целях склонения к коррупционным правонарушениям",
    ]),
]

KIND_NAMES = {
    "СЭД": "Система электронного документооборота Службы",
    "электронная почта": "Электронная почта инспекции по {dat}",
    "АРМ ГС": "Автоматизированное рабочее место государственного служащего (АРМ ГС)",
    "система учёта заявок": "Система учёта заявок на регистрационные действия и технический осмотр",
    "телефонная связь": "Телефон инспекции по {dat}",
    "кабинеты внутренних клиентов": "Кабинеты структурных подразделений Службы",
    "рабочее место клиентов": "Рабочее место приёма заявителей инспекции по {dat}",
    "личное взаимодействие": "Личный приём в инспекции по {dat}",
    "официальный сайт": "Официальный сайт Службы в сети «Интернет»",
    "ЕПГУ": "Единый портал государственных и муниципальных услуг (функций)",
    "личный кабинет": "Личный кабинет заявителя на портале Службы",
    "платформа обратной связи": "Платформа обратной связи (виджет на официальном сайте Службы)",
    "мессенджер": "Официальный канал Службы в мессенджере",
    "почтовое отправление": "Почтовый адрес инспекции по {dat}",
}
INTERNAL_KINDS = {"СЭД", "АРМ ГС", "кабинеты внутренних клиентов"}

ACCESSIBILITY_OFFLINE = [
    "Приём на первом этаже, вход оборудован пандусом и кнопкой вызова специалиста.",
    "Специалист помогает заполнить заявление клиентам с проблемами со здоровьем и пожилым клиентам.",
    "Для маломобильных клиентов по предварительной записи организуется выезд специалиста.",
    "Консультации по телефону для клиентов без доступа к интернету и с низкими цифровыми навыками; "
    "специалист диктует ответ медленно и по просьбе повторяет его.",
    "Документы принимаются почтой; ответ направляется крупным шрифтом по просьбе заявителя.",
    "Сотрудник с ограниченной подвижностью получает консультацию на своём рабочем месте.",
]
# п. 2.8.4: a digital touchpoint says how clients with low digital skills are helped (rule digital-no-accessibility).
ACCESSIBILITY_DIGITAL = [
    "Версия для слабовидящих; инструкция по подаче заявления с иллюстрациями.",
    "Сайт соответствует ГОСТ Р 52872-2019; предусмотрена помощь по телефону при затруднениях.",
    "Пошаговая подсказка на странице; при затруднениях специалист помогает по телефону.",
    "Альтернативный канал: приём в инспекции; консультация по телефону для пожилых клиентов.",
]
OTHER_NEEDS = [
    "Запись на приём к должностному лицу", "Согласование даты и места технического осмотра",
    "Получение сведений о ходе рассмотрения заявления", "Получение копий документов из дела",
]
NOTES = [
    "Перенесено из перечня 2023 года.", "Уточнено по итогам проверки полноты сведений.",
    "Сведения актуализированы после реорганизации подразделения.", "График работы размещён на сайте.",
]
POSITIONS = [
    "главный государственный инженер-инспектор", "государственный инженер-инспектор",
    "ведущий специалист-эксперт", "старший специалист 1 разряда", "консультант",
]
DEPARTMENTS = [
    "отдела регистрации и технического надзора", "отдела организационной и кадровой работы",
    "отдела государственного надзора", "отдела правового обеспечения", "финансово-экономического отдела",
]
SURNAMES = [
    "Иванов", "Петрова", "Смирнов", "Кузнецова", "Попов", "Васильева", "Соколов", "Михайлова", "Новиков",
    "Фёдорова", "Морозов", "Волкова", "Алексеев", "Лебедева", "Семёнов", "Егорова", "Павлов", "Козлова",
    "Степанов", "Николаева", "Орлов", "Андреева", "Макаров", "Захарова", "Зайцев", "Борисова", "Яковлев",
    "Григорьева", "Романов", "Воробьёва", "Сергеев", "Кириллова", "Фролов", "Белова", "Тарасов", "Медведева",
]
INITIALS = "АБВГДЕИКЛМНОПРСТЮЯ"
CHECKERS = [
    "Заместитель руководителя (директора) Службы",
    "Начальник отдела регистрации и технического надзора",
    "Консультант отдела организационной и кадровой работы",
    "Начальник отдела государственного надзора",
]
BASIS_DOCS = [
    "Приказ Службы гостехнадзора Калининградской области от {date} № {n}-о",
    "Постановление Правительства Калининградской области от {date} № {n}-п",
    "Административный регламент, утверждённый приказом Службы от {date} № {n}-о",
    "Положение о территориальном подразделении, утверждённое приказом Службы от {date} № {n}",
]
BASIS_ACTIONS = [
    "Поручение руководителя Службы от {date} № {n}-пор",
    "Резолюция заместителя руководителя Службы от {date} на служебной записке № {n}",
    "Поручение по итогам совещания у руководителя Службы от {date}, протокол № {n}",
]


# --------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------

def _ru(d: dt.date) -> str:
    return d.strftime("%d.%m.%Y")


def _rand_date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def _processes() -> Iterator[tuple[str, bool, str, str, str]]:
    """(area, internal, process, unit dative, unit name) for as many processes as needed."""
    k = 0
    while True:
        k += 1
        for unit, dat in UNITS:
            for area, internal, procs in AREAS:
                for base in procs:
                    where = unit if k == 1 else f"{unit}, инспекторский участок № {k}"
                    yield area, internal, f"{base} ({where})", dat, unit


def _staff(rng: random.Random, n: int) -> list[str]:
    """The agency's people who fill rows: a pool that grows with the register (1 per 100 rows)."""
    out: set[str] = set()
    while len(out) < n:
        surname = rng.choice(SURNAMES)
        i1, i2 = rng.choice(INITIALS), rng.choice(INITIALS)
        out.add(f"{surname} {i1}. {i2}., {rng.choice(POSITIONS)} {rng.choice(DEPARTMENTS)}")
    return sorted(out)


def _bases(rng: random.Random, schema: Schema, today: dt.date, n: int) -> list[tuple[str, str]]:
    """The documents and instructions rows rest on: a pool that grows with the register (1 per 250 rows)."""
    doc, action = schema.value("basis_kind", 0), schema.value("basis_kind", 1)
    out: dict[str, str] = {}
    while len(out) < n:
        when = _ru(_rand_date(rng, dt.date(2019, 1, 1), today - dt.timedelta(days=30)))
        if rng.random() < 0.7:
            out[rng.choice(BASIS_DOCS).format(date=when, n=rng.randint(1, 480))] = doc
        else:
            out[rng.choice(BASIS_ACTIONS).format(date=when, n=rng.randint(1, 300))] = action
    return sorted((kind, text) for text, kind in out.items())  # (basis kind, basis)


def generate_rows(n: int, schema: Schema, *, seed: int = 1, today: dt.date = DEFAULT_TODAY) -> list[Row]:
    """``n`` valid rows grouped by process: no duplicates within a process, a key touchpoint per area,
    every process served both digitally and offline."""
    rng = random.Random(f"{seed}:rows")
    kinds = schema.values("kind")
    digital_label, offline_label = schema.value("channel", 0), schema.value("channel", 1)
    digital = [k for k in kinds if schema.kind_channel[k] == digital_label]
    offline = [k for k in kinds if schema.kind_channel[k] == offline_label]
    needs = schema.values("needs")
    other = needs[-1]  # «другое»
    plain_needs = [x for x in needs if x != other]
    features = schema.values("written_features")
    yes, no = schema.value("key", 0), schema.value("key", 1)
    ext, internal_c, both = schema.values("clients")[:3]
    draft, review, included, excluded = schema.values("status")[:4]
    doc = schema.value("basis_kind", 0)
    staff = _staff(rng, max(40, n // 100))
    bases = _bases(rng, schema, today, max(20, n // 250))
    rows: list[Row] = []
    procs = _processes()
    while len(rows) < n:
        area, internal, process, dat, _unit = next(procs)
        k = rng.randint(6, 12)
        chosen = [rng.choice(digital), rng.choice(offline)]
        guaranteed = set(chosen)  # never excluded: every process keeps a digital and an offline touchpoint
        rest = [x for x in kinds if x not in chosen]
        chosen += rng.sample(rest, min(len(rest), k - 2))
        rng.shuffle(chosen)
        if len(rows) + len(chosen) > n:  # the last process is cut short: keep its digital and offline rows
            chosen.sort(key=lambda x: x not in guaranteed)
        for j, kind in enumerate(chosen):
            if len(rows) >= n:
                break
            channel = schema.kind_channel[kind]
            is_offline = channel == offline_label
            if internal or kind in INTERNAL_KINDS:
                clients = internal_c
            else:
                clients = ext if rng.random() < 0.7 else both
            need_list = rng.sample(plain_needs, rng.randint(1, 4))
            other_needs = None
            if rng.random() < 0.05:
                need_list.append(other)
                other_needs = rng.choice(OTHER_NEEDS)
            sep = "\n" if rng.random() < 0.2 else "; "
            written = None
            if schema.kind_written[kind]:
                f = list(features)
                rng.shuffle(f)
                written = "; ".join(f)
            access: str | None
            if is_offline:
                access = rng.choice(ACCESSIBILITY_OFFLINE)
            else:
                access = rng.choice(ACCESSIBILITY_DIGITAL)
            basis_kind, basis = (doc, MAIN_BASIS) if rng.random() < 0.5 else rng.choice(bases)
            r = rng.random()
            status = included if r < 0.90 else excluded if r < 0.95 else draft if r < 0.975 else review
            if status == excluded and (kind in guaranteed or j == 0):
                status = included
            responsible = (f"Главный государственный инженер-инспектор по {dat}" if rng.random() < 0.35
                           else rng.choice(staff))
            checked_by = rng.choice(CHECKERS) if status in (included, excluded) else None
            if status in (included, excluded):
                changed = _rand_date(rng, ADOPTED, today - dt.timedelta(days=20))
            else:
                changed = today - dt.timedelta(days=rng.randint(0, 2))
            rows.append({
                "code": f"ТВ-{len(rows) + 1:06d}",
                "area": area,
                "process": process,
                "name": KIND_NAMES.get(kind, kind[:1].upper() + kind[1:]).format(dat=dat),
                "channel": channel,
                "kind": kind,
                "clients": clients,
                "needs": sep.join(need_list),
                "other_needs": other_needs,
                # п. 3.2: written interaction is a key touchpoint (rule written-not-key).
                "key": yes if j == 0 or schema.kind_written[kind] or rng.random() < 0.2 else no,
                "basis_kind": basis_kind,
                "basis": basis,
                "accessibility": access,
                "written_features": written,
                "responsible": responsible,
                "status": status,
                "checked_by": checked_by,
                "changed_on": changed if rng.random() < 0.95 else _ru(changed),
                "note": rng.choice(NOTES) if rng.random() < 0.1 else None,
            })
    return rows


# --------------------------------------------------------------------------------------------------
# Mistakes: one typical clerk's mistake per affected row
# --------------------------------------------------------------------------------------------------

Mistake = Callable[[random.Random, Schema, list[Row], int, dt.date], bool]
MISTAKES: dict[str, Mistake] = {}


def mistake(name: str) -> Callable[[Mistake], Mistake]:
    def deco(fn: Mistake) -> Mistake:
        MISTAKES[name] = fn
        return fn
    return deco


@mistake("empty-required")
def _m_empty(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    rows[i][rng.choice(["area", "name", "responsible", "basis", "clients", "key"])] = None
    return True


@mistake("unknown-value")
def _m_unknown(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    fld, val = rng.choice([("kind", "видеоконференцсвязь"), ("clients", "граждане"), ("key", "возможно"),
                           ("status", "в работе"), ("basis_kind", "устное указание"), ("channel", "смешанный")])
    rows[i][fld] = val
    return True


@mistake("loose-spelling")
def _m_loose(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    row = rows[i]
    choice = rng.randint(0, 3)
    if choice == 0:
        row["channel"] = row["channel"].capitalize() + " "
    elif choice == 1:
        al = s.aliases["kinds"].get(row["kind"]) or []
        if not al:
            return False
        row["kind"] = al[0]
    elif choice == 2:
        row["clients"] = row["clients"].replace("е", "ё", 1).upper() if "е" in row["clients"] else row["clients"]
    else:
        full = [a for a in s.aliases["needs"][s.value("needs", 0)] if len(a) > 15]
        if not full:
            return False
        row["needs"] = full[0] + "; " + row["needs"]
    return True


@mistake("kind-channel")
def _m_channel(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    a, b = s.value("channel", 0), s.value("channel", 1)
    rows[i]["channel"] = b if rows[i]["channel"] == a else a
    return True


@mistake("duplicate-code")
def _m_dup_code(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    if i == 0:
        return False
    rows[i]["code"] = rows[i - 1]["code"]
    return True


@mistake("bad-code")
def _m_bad_code(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    rows[i]["code"] = rows[i]["code"] + rng.choice([" /1", " (новая)", "_ред"])
    return True


@mistake("future-date")
def _m_future(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    rows[i]["changed_on"] = today + dt.timedelta(days=rng.randint(5, 90))
    return True


@mistake("bad-date")
def _m_bad_date(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    rows[i]["changed_on"] = rng.choice(["31.02.2024", "в марте 2024", "2024", "15/13/2024"])
    return True


@mistake("basis-no-details")
def _m_basis(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    row = rows[i]
    if row["basis_kind"] == s.value("basis_kind", 0):
        row["basis"] = "Приказ Службы гостехнадзора Калининградской области"
    else:
        row["basis"] = "Поручение руководителя"
    return True


@mistake("no-checker")
def _m_no_checker(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    if rows[i]["checked_by"] is None:
        return False
    rows[i]["checked_by"] = None
    return True


@mistake("checker-is-responsible")
def _m_self_check(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    if rows[i]["checked_by"] is None:
        return False
    rows[i]["checked_by"] = rows[i]["responsible"]
    return True


@mistake("mixed-script")
def _m_mixed(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    name = rows[i]["name"]
    pos = name.find("о")
    if pos < 0:
        return False
    rows[i]["name"] = name[:pos] + "o" + name[pos + 1:]  # a Latin «o» inside a Russian word
    return True


@mistake("no-accessibility")
def _m_access(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    if rows[i]["channel"] != s.value("channel", 1):
        return False
    rows[i]["accessibility"] = None
    return True


@mistake("written-features-missing")
def _m_written(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    if not rows[i]["written_features"]:
        return False
    feats = rows[i]["written_features"].split("; ")
    rows[i]["written_features"] = "; ".join(feats[: rng.randint(0, len(feats) - 1)]) or None
    return True


@mistake("other-needs-missing")
def _m_other(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    other = s.values("needs")[-1]
    if other not in rows[i]["needs"]:
        rows[i]["needs"] = rows[i]["needs"] + "; " + other
    rows[i]["other_needs"] = None
    return True


@mistake("duplicate-in-process")
def _m_dup_process(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    if i == 0 or rows[i - 1]["process"] != rows[i]["process"]:
        return False
    excluded = s.value("status", 3)
    if excluded in (rows[i]["status"], rows[i - 1]["status"]):
        return False
    rows[i]["name"] = rows[i - 1]["name"]
    return True


@mistake("stale-draft")
def _m_stale(rng: random.Random, s: Schema, rows: list[Row], i: int, today: dt.date) -> bool:
    rows[i]["status"] = s.value("status", 1)
    rows[i]["checked_by"] = None
    rows[i]["changed_on"] = today - dt.timedelta(days=rng.randint(30, 90))
    return True


def add_mistakes(rows: list[Row], schema: Schema, rate: float, *, seed: int = 1,
                 today: dt.date = DEFAULT_TODAY) -> dict[str, list[str]]:
    """Give about ``rate`` of the rows one mistake each; returns {mistake: [row codes as written]}."""
    rng = random.Random(f"{seed}:mistakes")
    names = sorted(MISTAKES)
    out: dict[str, list[str]] = {}
    for i in range(len(rows)):
        if rng.random() >= rate:
            continue
        for _attempt in range(5):
            name = rng.choice(names)
            if MISTAKES[name](rng, schema, rows, i, today):
                out.setdefault(name, []).append(f"{i + 2}")  # the sheet row number (header is row 1)
                break
    return out


# --------------------------------------------------------------------------------------------------
# The baseline variant (the previously published register) for the diff benchmark
# --------------------------------------------------------------------------------------------------

def make_baseline(rows: list[Row], schema: Schema, change_rate: float, *,
                  seed: int = 1) -> tuple[list[Row], dict[str, list[str]]]:
    """The register as it was before ~change_rate of its rows changed, were added or were excluded."""
    rng = random.Random(f"{seed}:baseline")
    included, excluded = schema.value("status", 2), schema.value("status", 3)
    n_diff = max(4, round(len(rows) * change_rate))
    n_changed, n_added = n_diff // 2, n_diff // 4
    n_excluded = n_diff - n_changed - n_added
    idx_excl = [i for i, r in enumerate(rows) if r["status"] == excluded]
    excl = set(rng.sample(idx_excl, min(n_excluded, len(idx_excl))))
    idx_other = [i for i, r in enumerate(rows) if i not in excl and r["status"] == included]
    picked = rng.sample(idx_other, min(n_changed + n_added, len(idx_other)))
    changed, added = set(picked[:n_changed]), set(picked[n_changed:])
    base: list[Row] = []
    for i, row in enumerate(rows):
        if i in added:
            continue
        b = copy.copy(row)
        if i in excl:
            b["status"] = included
        if i in changed:
            what = rng.choice(["responsible", "name", "needs", "accessibility", "basis"])
            if what == "responsible":
                b["responsible"] = f"{rng.choice(SURNAMES)} {rng.choice(INITIALS)}. {rng.choice(INITIALS)}., " \
                                   f"{rng.choice(POSITIONS)} {rng.choice(DEPARTMENTS)}"
            elif what == "name":
                b["name"] = row["name"] + " (прежнее наименование)"
            elif what == "needs":
                first, second = schema.value("needs", 0), schema.value("needs", 1)
                b["needs"] = first if row["needs"] != first else second
            elif what == "accessibility":
                b["accessibility"] = None if row["accessibility"] else ACCESSIBILITY_OFFLINE[0]
            else:
                b["basis"] = MAIN_BASIS if row["basis"] != MAIN_BASIS else BASIS_DOCS[0].format(date="10.01.2024", n=3)
        if i in changed or i in excl:
            d = row["changed_on"]
            if isinstance(d, dt.date):
                b["changed_on"] = max(ADOPTED, d - dt.timedelta(days=rng.randint(10, 120)))
        base.append(b)
    codes = lambda ids: sorted(rows[i]["code"] for i in ids)  # noqa: E731
    return base, {"changed": codes(changed), "added": codes(added), "excluded": codes(excl)}


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------

INFO = {
    "agency": "Государственная инспекция по надзору за техническим состоянием самоходных машин и других "
              "видов техники Калининградской области",
    "short_name": "Служба гостехнадзора Калининградской области",
    "site": "https://gostekhnadzor.example.ru",
    "approving_document": MAIN_BASIS,
    "keeper": "Консультант отдела организационной и кадровой работы",
    "phone": "+7 (4012) 00-00-00",
    "email": "info@gostekhnadzor.example.ru",
}


def write_xlsx(path: Path, rows: list[Row], schema: Schema, *, number_column: bool = True,
               shared_strings: bool = False) -> None:
    """Write the register with xlsxwriter: every text via write_string, dates as Excel dates.

    By default in constant_memory mode (inline strings, flat memory); ``shared_strings`` writes a
    shared-string table like Excel and LibreOffice do (xlsxwriter then keeps every cell in memory).
    """
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": not shared_strings, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "text_wrap": True, "valign": "vcenter",
                          "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy", "valign": "top"})
    ws = wb.add_worksheet(schema.sheet)
    lists_ws = wb.add_worksheet("Справочники")
    info_ws = wb.add_worksheet(schema.info_sheet)

    offset = 1 if number_column else 0
    if number_column:
        ws.write_string(0, 0, "№", head)
        ws.set_column(0, 0, 6)
    for j, fld in enumerate(schema.fields):
        ws.write_string(0, j + offset, schema.headers[fld], head)
        ws.set_column(j + offset, j + offset, 30 if fld in {"name", "process", "basis", "accessibility"} else 16)
    ws.freeze_panes(1, 1 + offset)
    last = len(rows)
    ws.autofilter(0, 0, max(1, last), len(schema.fields) - 1 + offset)
    # Drop-down lists, as `perechen init` puts them.
    list_col = {name: c for c, name in enumerate(schema.lists)}
    for j, fld in enumerate(schema.fields):
        name = schema.list_of.get(fld)
        if name and fld not in schema.multi:
            letter = xlsxwriter.utility.xl_col_to_name(list_col[name])
            src = f"='Справочники'!${letter}$2:${letter}${len(schema.lists[name]) + 1}"
            ws.data_validation(1, j + offset, max(1, last), j + offset,
                               {"validate": "list", "source": src, "error_type": "warning"})

    for i, row in enumerate(rows, start=1):
        if number_column:
            ws.write_number(i, 0, i)
        for j, fld in enumerate(schema.fields):
            v = row.get(fld)
            if v is None or v == "":
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(i, j + offset, dt.datetime(v.year, v.month, v.day), date_fmt)
            else:
                ws.write_string(i, j + offset, str(v), wrap if "\n" in str(v) else None)

    for name, c in list_col.items():
        lists_ws.write_string(0, c, name, head)
        for i, v in enumerate(schema.lists[name], start=1):
            lists_ws.write_string(i, c, v)
    info_ws.write_string(0, 0, schema.info_headers[0], head)
    info_ws.write_string(0, 1, schema.info_headers[1], head)
    for i, (key, label) in enumerate(schema.info_labels, start=1):
        info_ws.write_string(i, 0, label)
        if INFO.get(key):
            info_ws.write_string(i, 1, INFO[key])
    ws.activate()
    wb.close()
    tmp.replace(path)


def build(n: int, out: Path, *, seed: int = 1, error_rate: float = 0.01, variant: str = "current",
          change_rate: float = 0.01, today: dt.date = DEFAULT_TODAY, rules_dir: Path | None = None,
          number_column: bool = True, shared_strings: bool = False) -> dict[str, Any]:
    """Generate and write one register; returns (and writes next to it) its manifest."""
    schema = Schema.load(rules_dir or ROOT / "rules")
    rows = generate_rows(n, schema, seed=seed, today=today)
    mistakes = add_mistakes(rows, schema, error_rate, seed=seed, today=today)
    diff: dict[str, list[str]] = {}
    if variant == "baseline":
        rows, diff = make_baseline(rows, schema, change_rate, seed=seed)
    write_xlsx(out, rows, schema, number_column=number_column, shared_strings=shared_strings)
    manifest: dict[str, Any] = {
        "generator": GENERATOR_VERSION,
        "rows": len(rows), "seed": seed, "error_rate": error_rate, "variant": variant, "today": today.isoformat(),
        "shared_strings": shared_strings, "number_column": number_column,
        "mistakes": {k: len(v) for k, v in sorted(mistakes.items())},
        "mistake_rows": mistakes,
        "statuses": dict(Counter(r["status"] for r in rows)),
    }
    if variant == "baseline":
        manifest["change_rate"] = change_rate
        manifest["diff"] = {k: len(v) for k, v in diff.items()}
        manifest["diff_codes"] = diff
    manifest_path(out).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def manifest_path(out: Path) -> Path:
    return out.with_name(out.stem + ".manifest.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Сгенерировать реалистичный перечень для замеров скорости.")
    ap.add_argument("--rows", type=int, default=10_000, help="число строк (по умолчанию 10000)")
    ap.add_argument("--out", type=Path, default=None, help="файл .xlsx (по умолчанию output/bench/register_N.xlsx)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--error-rate", type=float, default=0.01, help="доля строк с ошибкой (по умолчанию 0.01)")
    ap.add_argument("--variant", choices=["current", "baseline"], default="current",
                    help="baseline — прежняя версия того же перечня для замера сравнения версий")
    ap.add_argument("--change-rate", type=float, default=0.01, help="доля отличающихся строк в baseline")
    ap.add_argument("--today", type=dt.date.fromisoformat, default=DEFAULT_TODAY, help="ГГГГ-ММ-ДД")
    ap.add_argument("--rules", type=Path, default=None, help="папка rules/ (по умолчанию из репозитория)")
    ap.add_argument("--no-number-column", action="store_true", help="без столбца «№»")
    ap.add_argument("--shared-strings", action="store_true",
                    help="таблица общих строк, как у Excel (медленнее и требует больше памяти при записи)")
    args = ap.parse_args(argv)
    out = args.out or ROOT / "output" / "bench" / (
        f"register_{args.rows}{'_baseline' if args.variant == 'baseline' else ''}.xlsx")
    t0 = time.perf_counter()
    m = build(args.rows, out, seed=args.seed, error_rate=args.error_rate, variant=args.variant,
              change_rate=args.change_rate, today=args.today, rules_dir=args.rules,
              number_column=not args.no_number_column, shared_strings=args.shared_strings)
    print(f"Записано: {out} ({m['rows']} строк, ошибок: {sum(m['mistakes'].values())}, "
          f"{out.stat().st_size / 1e6:.1f} МБ, {time.perf_counter() - t0:.1f} с)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An agency's profile: a rules folder of its own (issue 14 §1).

A profile is what :class:`perechen.rules.Rules` loads — the agency's order as text (``poryadok.txt``, for clause
numbers), its section-4 kinds with their channel and written flag (``lists.toml`` [kinds]), its other lists, its
checks with their severities and messages (``checks.toml``), its schema and file-error messages. The rules that
ship inside the package are the default profile.

* :func:`new_profile` copies the default profile into a new folder with an instruction in Russian
  (``ИНСТРУКЦИЯ.md``) on adapting it (``perechen profile new DIR``).
* :func:`check_profile` validates a profile and lists what differs from the default
  (``perechen rules --rules DIR --check``): every clause a rule, a list or a column cites exists in that
  profile's order text; every kind has a channel of the channel list; every message template renders with
  the fields its check kind supplies (the params models of :mod:`perechen.check_params`).
"""

from __future__ import annotations

import hashlib
import shutil
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import poryadok
from .check_params import PARAMS
from .errors import describe
from .fsutil import os_reason
from .models import PerechenError, RulesError
from .rules import Check, Rules, default_rules_dir

GUIDE_NAME = "ИНСТРУКЦИЯ.md"
# The files of a rules folder (the package's __init__.py and caches are not part of a profile).
PROFILE_FILES = ("poryadok.txt", "schema.toml", "lists.toml", "checks.toml", "file_errors.toml", "calendar.toml")

# Fields every message gets (perechen.checks.Context._base_params, the reader's _SheetReader._finding) and the
# fields the check functions add for their own findings. tests/test_profiles.py keeps this set equal to what the
# checks package passes.
BASE_FIELDS = frozenset({"header", "clause", "detail", "expected", "help", "today", "value"})
READER_FIELDS = frozenset({"header", "clause", "detail", "expected", "value"})  # the reader's own findings
RUNTIME_FIELDS = frozenset({"where", "unit", "other", "deadline", "kind", "process", "count", "review_days",
                            "channel", "changed", "cite", "why", "sheet"})

EXIT_VALID, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2


class ProfileError(PerechenError):
    """A profile folder that cannot be made (exit 2)."""


@dataclass
class Problem:
    """One reason the profile is not valid: where (file and key) and what, in Russian."""

    file: str
    key: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "key": self.key, "message": self.message}


@dataclass
class Differences:
    """What the profile changes against the default profile (the rules shipped with perechen)."""

    order_text_changed: bool = False
    kinds_added: list[str] = field(default_factory=list)
    kinds_removed: list[str] = field(default_factory=list)
    kinds_changed: list[dict[str, Any]] = field(default_factory=list)  # {"value", "field", "default", "profile"}
    lists_added: list[str] = field(default_factory=list)
    lists_removed: list[str] = field(default_factory=list)
    list_values: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # list -> {"added", "removed"}
    checks_added: list[str] = field(default_factory=list)
    checks_removed: list[str] = field(default_factory=list)
    severities: list[dict[str, str]] = field(default_factory=list)  # {"code", "default", "profile"}
    clauses: list[dict[str, str | None]] = field(default_factory=list)  # {"code", "default", "profile"}

    @property
    def empty(self) -> bool:
        return not any((self.order_text_changed, self.kinds_added, self.kinds_removed, self.kinds_changed,
                        self.lists_added, self.lists_removed, self.list_values, self.checks_added,
                        self.checks_removed, self.severities, self.clauses))

    def to_dict(self) -> dict[str, Any]:
        return {"order_text_changed": self.order_text_changed, "kinds_added": self.kinds_added,
                "kinds_removed": self.kinds_removed, "kinds_changed": self.kinds_changed,
                "lists_added": self.lists_added, "lists_removed": self.lists_removed,
                "list_values": self.list_values, "checks_added": self.checks_added,
                "checks_removed": self.checks_removed, "severities": self.severities, "clauses": self.clauses}


@dataclass
class ProfileCheck:
    """The result of :func:`check_profile`."""

    directory: Path
    problems: list[Problem] = field(default_factory=list)
    differences: Differences = field(default_factory=Differences)
    clauses: int = 0  # numbered clauses found in the profile's order text
    checks: int = 0

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return EXIT_VALID if self.valid else EXIT_PROBLEMS

    def to_dict(self) -> dict[str, Any]:
        return {"rules_dir": str(self.directory), "valid": self.valid, "clauses": self.clauses,
                "checks": self.checks, "problems": [p.to_dict() for p in self.problems],
                "differences": self.differences.to_dict()}


# ------------------------------------------------------------------------------------------------------------
# A new profile


GUIDE = """\
# Профиль правил органа власти

Эта папка — профиль правил perechen для одного органа власти: его порядок ведения перечня точек
взаимодействия, виды точек, справочники, уровни замечаний и тексты сообщений. Она скопирована из
встроенного профиля (Порядок Службы гостехнадзора Калининградской области, приказ от 26.02.2024 № 25-о).
Приведите её в соответствие с порядком вашего органа и проверьте командой:

    perechen rules --rules "{folder}" --check

Команда проверяет, что каждый пункт, на который ссылается правило, справочник или столбец, есть в тексте
вашего порядка; что у каждого вида точки указан канал; что каждое сообщение составляется; и перечисляет,
чем профиль отличается от встроенного. Код выхода: 0 — профиль исправен, 1 — найдены ошибки (перечислены),
2 — профиль не читается (файл или ключ названы в сообщении).

Чтобы perechen пользовался профилем, укажите папку в perechen.toml органа: `rules = "…путь к папке…"`, или
в region.toml проектного офиса: `rules = "…"` в таблице органа [agencies.<id>].

## Что в папке и как это менять

1. `poryadok.txt` — текст вашего порядка (приказа). Замените его текстом своего документа целиком. Пункты
   распознаются по номерам в начале строки («2.1.», «4.1.3.»), начиная с заголовка «ПОРЯДОК ВЕДЕНИЯ…».
   Если пункты вашего порядка пронумерованы иначе, исправьте ссылки `clause = "…"` в остальных файлах:
   проверка назовёт каждую ссылку на несуществующий пункт.
2. `lists.toml`, раздел [kinds] — виды точек взаимодействия (раздел 4 порядка). У каждого вида:
   `value` — написание для выпадающего списка, `channel` — канал («цифровая» или «офлайн», значения
   справочника [channels]), `written = true` для письменного взаимодействия, `clause` — пункт порядка,
   `aliases` — принятые иные написания. Добавьте виды, которые есть в вашем порядке, и удалите лишние.
3. Остальные справочники `lists.toml` (категории клиентов, потребности, виды оснований, статусы) — по
   вашему порядку. Значения статусов «включено» и «исключено» используются программой — не переименовывайте их.
4. `checks.toml` — правила проверки. Можно менять уровень (`severity`: error — ошибка, warning —
   предупреждение, info — справочно), пункт порядка (`clause`), название и текст сообщения. Правило,
   которое требует не ваш порядок, а принятое в органе правило ведения перечня, отметьте `source = "agency"`
   без `clause` и так и называйте в сообщении («правило ведения перечня в органе»), а не «нарушение
   Порядка»; правило порядка — `source = "order"` с пунктом, который действительно этого требует. В
   сообщении доступны поля {{header}}, {{value}}, {{expected}}, {{detail}}, {{clause}} и параметры правила.
5. `schema.toml` — столбцы книги и лист «Сведения» (в том числе ИНН органа — он попадает в открытые данные
   региона); `file_errors.toml` — сообщения о файлах, которые нельзя прочитать; `calendar.toml` —
   производственный календарь для срока п. 5.4. Обычно их менять не нужно.

Книга перечня органа должна соответствовать профилю: создайте пустую книгу командой
`perechen init НОВАЯ.xlsx` с `rules = …` в perechen.toml.
"""


def new_profile(dest: Path) -> Path:
    """Copy the default profile into ``dest`` (a new or empty folder) with the instruction; return ``dest``.

    Raises :class:`ProfileError` (exit 2) when ``dest`` is a file or a folder that is not empty, or cannot be written.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        what = "файл" if not dest.is_dir() else "непустая папка"
        raise ProfileError("profile_exists", f"{dest} — {what}: профиль создаётся только в новой или пустой папке. "
                                             "Укажите другую папку.", dest)
    source = default_rules_dir()
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for name in PROFILE_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, dest / name)
        (dest / GUIDE_NAME).write_text(GUIDE.format(folder=dest), encoding="utf-8")
    except OSError as e:
        raise ProfileError("write_failed", f"Не удалось создать профиль в {dest}: {os_reason(e)}.", dest) from None
    return dest


# ------------------------------------------------------------------------------------------------------------
# Checking a profile


def check_profile(directory: Path) -> ProfileCheck:
    """Validate the profile in ``directory`` against its own order text; compare it with the default profile.

    Raises :class:`perechen.models.RulesError` (exit 2) when the folder or a file of it cannot be read at all.
    """
    directory = Path(directory)
    rules = Rules.load(directory)  # a missing folder, a TOML error, an unknown kind or parameter: RulesError
    result = ProfileCheck(directory=directory, checks=len(rules.checks))
    order_file = directory / poryadok.ORDER_FILE
    if not order_file.is_file():
        result.problems.append(Problem(poryadok.ORDER_FILE, "", f"В профиле нет текста порядка ({order_file}): "
                                                               "без него номера пунктов не с чем сверить. "
                                                               "Положите в папку текст порядка органа."))
        clauses: dict[str, poryadok.Clause] = {}
    else:
        try:
            clauses = poryadok.parse_order(order_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise RulesError("rules_broken", f"Ошибка в файле правил {order_file}: не удалось прочитать текст "
                                             f"порядка ({describe(e)}).",
                             order_file) from None
        if not clauses:
            result.problems.append(Problem(poryadok.ORDER_FILE, "", f"В тексте порядка {order_file} не найдено ни "
                                                                   "одного пронумерованного пункта («2.1. …»)."))
    result.clauses = len(clauses)
    if clauses:
        _check_clauses(rules, clauses, result.problems)
    _check_kinds(rules, result.problems)
    for i, c in enumerate(rules.checks):
        _check_message(c, i, result.problems)
    result.differences = differences(rules, Rules.load(default_rules_dir()))
    return result


def _cite(clauses: dict[str, poryadok.Clause], clause: str | None, file: str, key: str, what: str,
          problems: list[Problem]) -> None:
    if clause and clause not in clauses:
        problems.append(Problem(file, key, f"{what} ссылается на п. {clause}, которого нет в тексте порядка "
                                           f"профиля ({poryadok.ORDER_FILE})."))


def _check_clauses(rules: Rules, clauses: dict[str, poryadok.Clause], problems: list[Problem]) -> None:
    for i, c in enumerate(rules.checks):
        _cite(clauses, c.clause, "checks.toml", f"checks[{i}].clause", f"Правило {c.code}", problems)
    for name, rl in rules.lists.items():
        _cite(clauses, rl.clause, "lists.toml", f"{name}.clause", f"Справочник «{rl.title}»", problems)
        for j, item in enumerate(rl.items):
            _cite(clauses, item.clause, "lists.toml", f"{name}.items[{j}].clause",
                  f"Значение «{item.value}» справочника «{rl.title}»", problems)
    for col in rules.schema.columns:
        _cite(clauses, col.clause, "schema.toml", f"columns.{col.field}.clause", f"Столбец «{col.header}»", problems)


def _check_kinds(rules: Rules, problems: list[Problem]) -> None:
    kinds = rules.lists.get("kinds")
    if kinds is None:
        problems.append(Problem("lists.toml", "kinds", "В профиле нет справочника видов точек [kinds] "
                                                       "(раздел 4 порядка)."))
        return
    channels = set(rules.lists["channels"].values) if "channels" in rules.lists else set()
    for j, item in enumerate(kinds.items):
        key = f"kinds.items[{j}].channel"
        if not item.channel:
            problems.append(Problem("lists.toml", key, f"У вида точки «{item.value}» не указан канал "
                                                       "(channel = «цифровая» или «офлайн»)."))
        elif channels and item.channel not in channels:
            problems.append(Problem("lists.toml", key, f"У вида точки «{item.value}» канал «{item.channel}», "
                                                       f"которого нет в справочнике каналов "
                                                       f"({', '.join(sorted(channels))})."))


def message_fields(check: Check) -> set[str]:
    """The {names} a message of ``check`` can use: the common fields, the check functions' own, its params."""
    if check.kind == "reader":
        return set(READER_FIELDS)
    names = set(BASE_FIELDS | RUNTIME_FIELDS)
    model = PARAMS.get(check.kind)
    if model is not None:
        params = model.model_validate(check.params)
        names |= {n for n, v in params.model_dump().items() if isinstance(v, (str, int, float))}
    names |= {p for p, v in check.params.items() if isinstance(v, (str, int, float))}
    return names


def _check_message(check: Check, index: int, problems: list[Problem]) -> None:
    key = f"checks[{index}].message"
    try:
        used = [name for _, name, _, _ in string.Formatter().parse(check.message) if name is not None]
    except ValueError as e:
        problems.append(Problem("checks.toml", key, f"Сообщение правила {check.code} не составляется: непарная "
                                                    f"фигурная скобка ({e}). Фигурная скобка в тексте пишется "
                                                    "дважды: {{ и }}."))
        return
    allowed = message_fields(check)
    for name in used:
        base = name.split(".", 1)[0].split("[", 1)[0]
        if not base or base.isdigit():
            problems.append(Problem("checks.toml", key, f"Сообщение правила {check.code}: поле «{{{name}}}» без "
                                                        "имени; используйте поля по имени, например {value}."))
            return
        if base not in allowed:
            problems.append(Problem("checks.toml", key, f"Сообщение правила {check.code}: поля «{{{base}}}» "
                                                        f"программа не подставляет (доступны: "
                                                        f"{', '.join(sorted(allowed))})."))
            return
    sample = {name: "пример" for name in allowed}
    try:
        check.message.format_map(sample)
    except (ValueError, KeyError, IndexError, AttributeError) as e:
        problems.append(Problem("checks.toml", key, f"Сообщение правила {check.code} не составляется ({e})."))


# ------------------------------------------------------------------------------------------------------------
# Differences from the default profile


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def differences(rules: Rules, default: Rules) -> Differences:
    d = Differences()
    d.order_text_changed = (_sha(rules.directory / poryadok.ORDER_FILE)
                            != _sha(default.directory / poryadok.ORDER_FILE))
    mine_kinds = {i.value: i for i in rules.lists["kinds"].items} if "kinds" in rules.lists else {}
    base_kinds = {i.value: i for i in default.lists["kinds"].items} if "kinds" in default.lists else {}
    d.kinds_added = [k for k in mine_kinds if k not in base_kinds]
    d.kinds_removed = [k for k in base_kinds if k not in mine_kinds]
    for value, item in mine_kinds.items():
        old = base_kinds.get(value)
        if old is None:
            continue
        for name in ("channel", "written", "clause"):
            if getattr(item, name) != getattr(old, name):
                d.kinds_changed.append({"value": value, "field": name, "default": getattr(old, name),
                                        "profile": getattr(item, name)})
    d.lists_added = [n for n in rules.lists if n not in default.lists]
    d.lists_removed = [n for n in default.lists if n not in rules.lists]
    for name, rl in rules.lists.items():
        if name == "kinds" or name not in default.lists:
            continue
        mine, base = rl.values, default.lists[name].values
        added, removed = [v for v in mine if v not in base], [v for v in base if v not in mine]
        if added or removed:
            d.list_values[name] = {"added": added, "removed": removed}
    mine_checks = {c.code: c for c in rules.checks}
    base_checks = {c.code: c for c in default.checks}
    d.checks_added = [c for c in mine_checks if c not in base_checks]
    d.checks_removed = [c for c in base_checks if c not in mine_checks]
    for code, chk in mine_checks.items():
        was = base_checks.get(code)
        if was is None:
            continue
        if chk.severity != was.severity:
            d.severities.append({"code": code, "default": was.severity.value, "profile": chk.severity.value})
        if chk.clause != was.clause:
            d.clauses.append({"code": code, "default": was.clause, "profile": chk.clause})
    return d


# ------------------------------------------------------------------------------------------------------------
# Text


def render_text(result: ProfileCheck) -> str:
    lines = [f"Профиль правил: {result.directory}",
             f"Пунктов в тексте порядка: {result.clauses}; правил: {result.checks}.", ""]
    if result.problems:
        lines.append(f"Ошибки профиля: {len(result.problems)}")
        for p in result.problems:
            where = f"{p.file}, ключ «{p.key}»" if p.key else p.file
            lines.append(f"  {where}: {p.message}")
    else:
        lines.append("Ошибок нет: каждый пункт, на который ссылаются правила, есть в тексте порядка, у каждого вида "
                     "точки указан канал, каждое сообщение составляется.")
    lines.append("")
    d = result.differences
    if d.empty:
        lines.append("Отличий от встроенного профиля нет.")
        return "\n".join(lines)
    lines.append("Отличия от встроенного профиля:")
    if d.order_text_changed:
        lines.append("  текст порядка (poryadok.txt) другой")
    if d.kinds_added:
        lines.append(f"  виды точек добавлены: {', '.join(d.kinds_added)}")
    if d.kinds_removed:
        lines.append(f"  виды точек удалены: {', '.join(d.kinds_removed)}")
    names = {"channel": "канал", "written": "письменное взаимодействие", "clause": "пункт"}
    for k in d.kinds_changed:
        lines.append(f"  вид «{k['value']}»: {names[k['field']]} {_show(k['default'])} → {_show(k['profile'])}")
    if d.lists_added:
        lines.append(f"  справочники добавлены: {', '.join(d.lists_added)}")
    if d.lists_removed:
        lines.append(f"  справочники удалены: {', '.join(d.lists_removed)}")
    for name, ch in d.list_values.items():
        parts = []
        if ch["added"]:
            parts.append("добавлены " + ", ".join(f"«{v}»" for v in ch["added"]))
        if ch["removed"]:
            parts.append("удалены " + ", ".join(f"«{v}»" for v in ch["removed"]))
        lines.append(f"  справочник [{name}]: {'; '.join(parts)}")
    if d.checks_added:
        lines.append(f"  правила добавлены: {', '.join(d.checks_added)}")
    if d.checks_removed:
        lines.append(f"  правила удалены: {', '.join(d.checks_removed)}")
    for s in d.severities:
        lines.append(f"  правило {s['code']}: уровень {s['default']} → {s['profile']}")
    for c in d.clauses:
        lines.append(f"  правило {c['code']}: пункт {_show(c['default'])} → {_show(c['profile'])}")
    return "\n".join(lines)


def _show(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "да" if v else "нет"
    return str(v)

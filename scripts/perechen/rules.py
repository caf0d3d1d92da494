"""The Порядок as data: loads rules/*.toml into typed models.

Nothing here decides *how* a check runs; it only describes columns, reference lists, checks and
messages. A broken rules file raises :class:`RulesError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import bundled
from .check_params import PARAMS
from .errors import describe, valid_regex
from .models import RulesError, Severity
from .text import header_key, value_key

M = TypeVar("M", bound=BaseModel)

PACKAGE_RULES = bundled.rules_dir()  # the rules that ship inside the package (importlib.resources)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str
    header: str
    aliases: list[str] = []
    required: bool = False
    ref_list: str | None = Field(default=None, alias="list")
    multi: bool = False
    type: Literal["text", "date"] = "text"
    clause: str | None = None
    width: int = 20
    help: str = ""


class RegisterSpec(_Model):
    sheet: str
    header_search_rows: int = 30
    min_header_matches: int = 5
    identity_fields: list[str] = Field(default_factory=lambda: ["code", "area", "process", "name", "responsible"])
    min_identity_matches: int = 2
    ignored_headers: list[str] = []


class InfoField(_Model):
    key: str
    label: str


class InfoSpec(_Model):
    sheet: str
    key_header: str
    value_header: str
    fields: list[InfoField]


class Limits(_Model):
    max_rows: int = 200_000
    max_columns: int = 200
    max_uncompressed_bytes: int = 400_000_000
    max_compression_ratio: int = 200
    max_read_seconds: float = 120
    code_pattern: str = r"^[A-Za-zА-Яа-яЁё0-9-]{1,20}$"
    unstable_retries: int = 5
    unstable_delay_seconds: float = 0.4

    @field_validator("code_pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        return valid_regex(v)


class Schema(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    version: str
    register_spec: RegisterSpec = Field(alias="register")
    info: InfoSpec
    limits: Limits = Limits()
    columns: list[Column]

    @field_validator("columns")
    @classmethod
    def _unique(cls, v: list[Column]) -> list[Column]:
        seen: set[str] = set()
        for c in v:
            if c.field in seen:
                raise ValueError(f"поле {c.field} описано дважды")
            seen.add(c.field)
        return v


class ListItem(_Model):
    value: str
    aliases: list[str] = []
    clause: str | None = None
    channel: str | None = None
    written: bool = False
    # A condition of another item of the same list (3.2.1: the five conditions of «исчерпывающий ответ»):
    # accepted as a value, but never counted as that item.
    part_of: str | None = None


class RefList(_Model):
    title: str
    clause: str | None = None
    items: list[ListItem]

    @property
    def values(self) -> list[str]:
        return [i.value for i in self.items]


class Check(_Model):
    code: str
    kind: str
    severity: Severity
    # "order": the clause of the Порядок that requires it; "agency": the agency's own convention
    # («правило ведения перечня в Службе») — no clause of the order is cited.
    source: Literal["order", "agency"] = "order"
    clause: str | None = None
    title: str
    message: str
    params: dict[str, Any] = {}

    @model_validator(mode="after")
    def _cited(self) -> Check:
        if self.source == "order" and not self.clause:
            raise ValueError("правило Порядка (source = \"order\") должно указывать пункт Порядка (clause)")
        if self.source == "agency" and self.clause:
            raise ValueError("правило Службы (source = \"agency\") не ссылается на пункт Порядка: уберите clause")
        return self


class ListMatch(BaseModel):
    """How a typed value matched a reference list."""

    model_config = ConfigDict(frozen=True)
    item: ListItem
    exact: bool


class Rules:
    """Everything in rules/: schema, reference lists, checks, file-error messages."""

    def __init__(self, directory: Path, schema: Schema, lists: dict[str, RefList], checks: list[Check],
                 file_errors: dict[str, str]) -> None:
        self.directory = directory
        self.schema = schema
        self.lists = lists
        self.checks = checks
        self.file_errors = file_errors
        self._checks_by_code = {c.code: c for c in checks}

    # -- loading ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path | None = None) -> Rules:
        d = Path(directory) if directory else default_rules_dir()
        if not d.is_dir():
            raise RulesError("rules_broken", f"Папка правил {d} не найдена.", d)
        schema = _validate(Schema, _toml(d / "schema.toml"), d / "schema.toml")
        lists_raw = _toml(d / "lists.toml")
        lists = {name: _validate(RefList, body, d / "lists.toml", name) for name, body in lists_raw.items()}
        checks_raw = _toml(d / "checks.toml")
        checks = [_validate(Check, c, d / "checks.toml", f"checks[{i}]")
                  for i, c in enumerate(checks_raw.get("checks", []))]
        codes = [c.code for c in checks]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise RulesError("rules_broken", _msg_rules(d / "checks.toml", f"код правила {sorted(dup)[0]} повторяется"))
        fe = _toml(d / "file_errors.toml").get("errors", {})
        for col in schema.columns:
            if col.ref_list and col.ref_list not in lists:
                raise RulesError("rules_broken", _msg_rules(
                    d / "schema.toml", f"columns.{col.field}.list: справочника «{col.ref_list}» нет в lists.toml"))
        fields = {c.field for c in schema.columns}
        for i, c in enumerate(checks):
            _check_params(c, i, fields, d / "checks.toml")
        return cls(d, schema, lists, checks, fe)

    # -- lookups ---------------------------------------------------------------------------------
    @cached_property
    def columns(self) -> dict[str, Column]:
        return {c.field: c for c in self.schema.columns}

    @cached_property
    def header_index(self) -> dict[str, str]:
        """Normalised header text -> field name (headers and aliases)."""
        idx: dict[str, str] = {}
        for c in self.schema.columns:
            for h in [c.header, *c.aliases]:
                idx.setdefault(header_key(h), c.field)
        return idx

    @cached_property
    def ignored_headers(self) -> set[str]:
        return {header_key(h) for h in self.schema.register_spec.ignored_headers}

    @cached_property
    def _list_index(self) -> dict[str, tuple[dict[str, ListItem], dict[str, ListItem]]]:
        out: dict[str, tuple[dict[str, ListItem], dict[str, ListItem]]] = {}
        for name, rl in self.lists.items():
            exact = {i.value: i for i in rl.items}
            loose: dict[str, ListItem] = {}
            for i in rl.items:
                for a in [i.value, *i.aliases]:
                    loose.setdefault(value_key(a), i)
            out[name] = (exact, loose)
        return out

    def exact_index(self, list_name: str) -> dict[str, ListItem]:
        """The list's items by their exact spelling (shared: do not change it)."""
        return self._list_index[list_name][0]

    def match(self, list_name: str, value: str) -> ListMatch | None:
        """Match a value against a list: exact spelling, or after normalisation / by alias."""
        exact, loose = self._list_index[list_name]
        item = exact.get(value)
        if item is not None:
            return ListMatch(item=item, exact=True)
        item = loose.get(value_key(value))
        if item is not None:
            return ListMatch(item=item, exact=False)
        return None

    def check(self, code: str) -> Check:
        try:
            return self._checks_by_code[code]
        except KeyError:
            raise RulesError("rules_broken", _msg_rules(self.directory / "checks.toml",
                                                        f"нет правила с кодом «{code}»")) from None

    def has_check(self, code: str) -> bool:
        return code in self._checks_by_code

    def file_error(self, code: str, path: str | Path, detail: str = "") -> str:
        template = self.file_errors.get(code) or "Не удалось прочитать {path}: {detail}"
        return template.format(path=path, detail=detail)


def default_rules_dir() -> Path:
    """The bundled rules. A rules folder of one's own is named in perechen.toml (Config.rules_dir)."""
    return PACKAGE_RULES


def _msg_rules(path: Path, detail: str) -> str:
    return f"Ошибка в файле правил {path}: {detail}."


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise RulesError("rules_broken", _msg_rules(path, "файл не найден"), path) from None
    except tomllib.TOMLDecodeError as e:
        raise RulesError("rules_broken", _msg_rules(path, f"{describe(e)} (формат TOML)"), path) from None


def _validate(model: type[M], data: Any, path: Path, prefix: str = "", *, rule: str | None = None) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        err = errors[0]
        if rule is not None:  # a misspelt parameter is the cause of the «missing» one: name it first
            err = next((x for x in errors if x.get("type") == "extra_forbidden"), err)
        loc = ".".join(str(p) for p in err["loc"])
        key = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        which = f"правило {rule}, " if rule else ""
        raise RulesError("rules_broken", _msg_rules(path, f"{which}ключ «{key}»: {_ru_pydantic(err)}"),
                         path) from None


def _check_params(check: Check, index: int, fields: set[str], path: Path) -> None:
    """The rule's kind exists and its params fit the kind's model (:mod:`perechen.check_params`)."""
    model = PARAMS.get(check.kind)
    if model is None:
        known = ", ".join(sorted(PARAMS))
        raise RulesError("rules_broken", _msg_rules(path, f"правило {check.code}, ключ «checks[{index}].kind»: "
                                                          f"неизвестный вид проверки «{check.kind}» (известны: "
                                                          f"{known})"), path)
    params = _validate(model, check.params, path, f"checks[{index}].params", rule=check.code)
    for name, value in params.field_names():
        if value not in fields:
            raise RulesError("rules_broken", _msg_rules(path, f"правило {check.code}, ключ «checks[{index}].params."
                                                              f"{name}»: поля «{value}» нет в schema.toml"), path)


_PYDANTIC_RU = {
    "missing": "обязательный ключ отсутствует",
    "extra_forbidden": "неизвестный ключ",
    "string_type": "ожидается строка в кавычках",
    "int_type": "ожидается целое число",
    "int_parsing": "ожидается целое число",
    "float_type": "ожидается число",
    "float_parsing": "ожидается число",
    "bool_type": "ожидается true или false",
    "bool_parsing": "ожидается true или false",
    "list_type": "ожидается список [...]",
    "dict_type": "ожидается таблица { ... }",
    "model_type": "ожидается таблица { ... }",
    "date_type": "ожидается дата TOML без кавычек, например 2000-01-01",
    "date_parsing": "ожидается дата TOML без кавычек, например 2000-01-01",
    "date_from_datetime_inexact": "ожидается дата без времени, например 2000-01-01",
}


def _ru_pydantic(err: Any) -> str:
    t = err.get("type", "")
    if t in _PYDANTIC_RU:
        return _PYDANTIC_RU[t]
    if t in ("literal_error", "enum"):
        expected = str((err.get("ctx") or {}).get("expected", "")).replace(" or ", " или ")
        return f"допустимые значения: {expected}"
    if t == "greater_than_equal":
        return f"ожидается число не меньше {(err.get('ctx') or {}).get('ge')}"
    if t == "value_error":
        return str((err.get("ctx") or {}).get("error") or err.get("msg"))
    if t.endswith("_type") or t.endswith("_parsing"):
        return "неверный тип значения"
    return str(err.get("msg"))

"""The parameters each check kind accepts (``params`` of a rule in rules/checks.toml), as typed models.

:mod:`perechen.rules` validates every rule's ``params`` against the model of its ``kind`` when the rules
load, so a wrong kind, a misspelt or unknown parameter, a value of the wrong type or a field missing from
schema.toml is a Russian error naming the file and the key before any workbook is read. The checks
themselves (:mod:`perechen.checks`) still read ``Check.params``; these models only say what is allowed.

Text parameters that only appear in a rule's message (``hint``, ``missing`` …) are declared too: every
string or number parameter is available to the message template as ``{name}``.

A new check kind needs a model here (``PARAMS[kind]``); ``tests/test_errors.py`` holds the two lists equal.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from .errors import valid_regex


def _one_or_many(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


# A list of strings; a single string is taken as a list of one (as the checks read it).
StrList = Annotated[list[str], BeforeValidator(_one_or_many)]

_SKIP_DEFAULT = ["исключено"]


class CheckParams(BaseModel):
    """Base of the params models: unknown parameters and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # Parameters whose value names fields of rules/schema.toml (a string or a list of strings).
    field_params: ClassVar[tuple[str, ...]] = ()

    def field_names(self) -> list[tuple[str, str]]:
        """(parameter, field name) for every field this rule names."""
        out: list[tuple[str, str]] = []
        for p in self.field_params:
            v = getattr(self, p)
            if v is None:
                continue
            for name in [v] if isinstance(v, str) else v:
                out.append((p, name))
        return out


class _Skip(CheckParams):
    skip_statuses: StrList = Field(default_factory=lambda: list(_SKIP_DEFAULT))


class ReaderParams(CheckParams):
    """``reader``: findings of the Excel reader itself; ``fields`` for the rules that concern some fields
    only (duplicate-note-column: the never-published notes columns)."""

    field_params = ("fields",)
    fields: StrList | None = None


class RequiredParams(CheckParams):
    field_params = ("fields",)
    fields: StrList | None = None
    # Columns the order itself requires: field -> clause (cited by their findings); the rest are the agency's.
    order_clauses: dict[str, str] = {}
    why_order: str = "п. {clause} Порядка"
    why_agency: str = "правило ведения перечня в Службе"

    def field_names(self) -> list[tuple[str, str]]:
        return [*super().field_names(), *(("order_clauses", f) for f in self.order_clauses)]


class RequiredIfParams(CheckParams):
    field_params = ("field", "when_field")
    field: str
    when_field: str
    when_values: StrList = []


class ListValueParams(CheckParams):
    field_params = ("field",)
    field: str


class ListSpellingParams(CheckParams):
    field_params = ("fields",)
    fields: StrList | None = None


class KindChannelParams(CheckParams):
    where_order: str = "п. {clause} Порядка"
    where_extra: str = "справочник видов точек"


class DuplicateParams(_Skip):
    field_params = ("by", "within")
    by: str
    within: str


class AreaKeyParams(_Skip):
    key_values: StrList = Field(default_factory=lambda: ["да"])
    written_is_key: bool = False  # 3.2: written interaction (lists.toml `written = true`) is a key touchpoint


_Need = Literal["name", "date", "number"]


def _need_default() -> list[_Need]:
    return ["name", "date"]


class BasisParams(CheckParams):
    basis_kind: str
    need: list[_Need] = Field(default_factory=_need_default)
    words: StrList = []
    missing: dict[_Need, str] = {}
    joiner: str = "; "
    unless_words: StrList = []  # a basis naming these is another rule's finding


class BasisNamesDocumentParams(CheckParams):
    basis_kind: str
    words: StrList = []


class InfoFieldsParams(CheckParams):
    fields: StrList | None = None  # keys of [info] in rules/schema.toml


class CodeUniqueParams(CheckParams):
    pass


class CodePatternParams(CheckParams):
    pattern: str | None = None
    hint: str = ""

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        return valid_regex(v) if v else v


class _DateFields(CheckParams):
    field_params = ("fields",)
    fields: StrList | None = None


class DateValidParams(_DateFields):
    earliest: dt.date | None = None
    too_early: str = ""


class DateFutureParams(_DateFields):
    pass


class ProcessChannelsParams(_Skip):
    only: str
    missing: str = ""


class OfflineAccessibilityParams(_Skip):
    field_params = ("field",)
    field: str
    channel: str


class WrittenFeaturesParams(_Skip):
    field_params = ("field",)
    field: str
    conditions_only: str = ""


class WrittenKeyParams(_Skip):
    key_values: StrList = Field(default_factory=lambda: ["да"])


class ReviewOverdueParams(CheckParams):
    statuses: StrList = Field(default_factory=lambda: ["на проверке"])
    review_days: int = Field(default=10, ge=1)
    unit: str = "рабочих дней"
    unit_calendar: str = "календарных дней"


class SamePersonParams(CheckParams):
    field_params = ("field", "other")
    field: str
    other: str


PARAMS: dict[str, type[CheckParams]] = {
    "reader": ReaderParams,
    "required": RequiredParams,
    "required_if": RequiredIfParams,
    "list_value": ListValueParams,
    "list_spelling": ListSpellingParams,
    "kind_channel": KindChannelParams,
    "duplicate": DuplicateParams,
    "area_key": AreaKeyParams,
    "basis": BasisParams,
    "basis_names_document": BasisNamesDocumentParams,
    "info_fields": InfoFieldsParams,
    "code_unique": CodeUniqueParams,
    "code_pattern": CodePatternParams,
    "date_valid": DateValidParams,
    "date_future": DateFutureParams,
    "process_channels": ProcessChannelsParams,
    "offline_accessibility": OfflineAccessibilityParams,
    "written_features": WrittenFeaturesParams,
    "written_key": WrittenKeyParams,
    "review_overdue": ReviewOverdueParams,
    "same_person": SamePersonParams,
}

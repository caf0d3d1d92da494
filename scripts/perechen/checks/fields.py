"""Check kinds over one row's fields (and the «Сведения» sheet): required and conditionally required cells,
reference-list values and their spelling, a kind on its channel, the code's pattern, accessibility of an
offline touchpoint, the written kinds' functions (3.2.1), the checker not the responsible person."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..models import AGENCY_RULE, Finding
from ..rules import Check
from .context import _NO, Context, _broken, _field_param, _param, _quote_all, _show, _skip, _str_list
from .runner import check_kind


@check_kind("required")
def check_required(ctx: Context, check: Check) -> Iterator[Finding]:
    """Every required column (schema.toml `required = true`, or params.fields) filled.

    Cells the reader already reported (error value, formula without value, merged cells) are skipped.
    """
    fields = _str_list(check, "fields", [c.field for c in ctx.rules.schema.columns if c.required])
    fields = [f for f in fields if f in ctx.register.columns]
    if not fields:
        return
    pc = ctx.register.problem_cells
    cols = ctx.register.columns
    # Columns the order itself requires (params.order_clauses: field -> clause) cite that clause; the rest
    # are the agency's rule. {why} says which.
    order_clauses = check.params.get("order_clauses") or {}
    if not isinstance(order_clauses, dict):
        raise _broken(check, "параметр «order_clauses» должен быть таблицей «поле = пункт»")
    why_order = str(check.params.get("why_order", "п. {clause} Порядка"))
    why_agency = str(check.params.get("why_agency", AGENCY_RULE))
    why: dict[str, tuple[Any, str]] = {}
    for f in fields:
        c = order_clauses.get(f)
        why[f] = (str(c), why_order.replace("{clause}", str(c))) if c else (_NO, why_agency)
    get_all = operator.itemgetter(*fields)
    for row in ctx.rows:
        vals = row.values
        try:
            got = get_all(vals)
            if len(fields) == 1:
                got = (got,)
            if None not in got:
                continue
        except KeyError:
            pass
        for f in fields:
            if vals.get(f) is None:
                if pc and f"{cols[f]}{row.number}" in pc:
                    continue
                cite, reason = why[f]
                yield ctx.finding(check, row, f, cite=cite, why=reason)


@check_kind("required_if")
def check_required_if(ctx: Context, check: Check) -> Iterator[Finding]:
    """params.field filled when params.when_field holds one of params.when_values (list-aware)."""
    target = _field_param(ctx, check)
    when = _field_param(ctx, check, "when_field")
    values = set(_str_list(check, "when_values"))
    if not ctx.has(target, when):
        return
    col = ctx.rules.columns[when]
    rows = ctx.rows
    hits: Iterable[tuple[int, str | None]]
    if col.ref_list and col.multi:
        hit_of: dict[int, str | None] = {}

        def multi_hits() -> Iterator[tuple[int, str | None]]:
            for i, mm in enumerate(ctx.scan(when).multis):
                if mm is None:
                    continue
                h = hit_of.get(id(mm), _NO)
                if h is _NO:
                    h = hit_of[id(mm)] = next((it.value for it in mm.items if it.value in values), None)
                if h is not None:
                    yield i, h

        hits = multi_hits()
    elif col.ref_list:
        hits = ((i, it.value) for i, it in enumerate(ctx.items(when)) if it is not None and it.value in values)
    else:
        hits = ((i, rows[i].values.get(when)) for i in range(len(rows)) if rows[i].values.get(when) in values)
    for i, hit in hits:
        row = rows[i]
        if hit is not None and row.values.get(target) is None and not ctx.is_problem(row, target):
            yield ctx.finding(check, row, target, detail=hit)


@check_kind("list_value")
def check_list_value(ctx: Context, check: Check) -> Iterator[Finding]:
    """A list column's value (each part, for a multi-valued column) is in its reference list."""
    f = _field_param(ctx, check)
    col = ctx.rules.columns[f]
    if not col.ref_list or not ctx.has(f):
        return
    allowed = _quote_all(ctx.rules.lists[col.ref_list].values)
    sc = ctx.scan(f)
    for i in sc.unknown:
        row = ctx.rows[i]
        mm = sc.multis[i]
        detail = _quote_all(mm.unknown) if mm is not None else f"«{_show(row.raw(f))}»"
        yield ctx.finding(check, row, f, detail=detail, expected=allowed)


@check_kind("list_spelling")
def check_list_spelling(ctx: Context, check: Check) -> Iterator[Finding]:
    """A list value that matched only after normalisation or by an alias: show the right spelling."""
    fields = _str_list(check, "fields", [c.field for c in ctx.rules.schema.columns if c.ref_list])
    for f in fields:
        col = ctx.rules.columns.get(f)
        if col is None or not col.ref_list or not ctx.has(f):
            continue
        sc = ctx.scan(f)
        for i in sc.inexact:
            mm = sc.multis[i]
            if mm is not None and mm.unknown:  # «Правильно: …» would offer a value not in the list (list_value says so)
                continue
            it = sc.items[i]
            expected = mm.corrected if mm is not None else (it.value if it is not None else "")
            yield ctx.finding(check, ctx.rows[i], f, expected=expected)


@check_kind("kind_channel")
def check_kind_channel(ctx: Context, check: Check) -> Iterator[Finding]:
    """Вид точки belongs to the channel in «Канал» (4.1 digital, 4.2 offline, extra kinds per lists.toml)."""
    if not ctx.has("kind", "channel"):
        return
    where_order = str(check.params.get("where_order", "п. {clause} Порядка"))
    where_extra = str(check.params.get("where_extra", "справочник видов точек"))
    for i, (k, c) in enumerate(zip(ctx.items("kind"), ctx.items("channel"), strict=True)):
        if k is None or c is None or not k.channel or c.value == k.channel:
            continue
        in_order = bool(k.clause) and "." in (k.clause or "")
        where = where_order.format(clause=k.clause) if in_order else where_extra
        yield ctx.finding(check, ctx.rows[i], "kind", expected=k.channel, channel=c.value, where=where)


@check_kind("info_fields")
def check_info_fields(ctx: Context, check: Check) -> Iterator[Finding]:
    """The «Сведения» fields params.fields (keys of schema [info]) are filled: one finding naming every
    empty one (a missing sheet is the reader's info-sheet-missing)."""
    reg = ctx.register
    if reg.info_sheet is None:
        return
    labels = {f.key: f.label for f in ctx.rules.schema.info.fields}
    wanted = _str_list(check, "fields", list(labels))
    empty = [labels.get(k, k) for k in wanted if not (reg.info.get(k) or "").strip()]
    if not empty:
        return
    f = ctx.finding(check, None, None, value="", detail=_quote_all(empty), sheet=reg.info_sheet)
    f.sheet = reg.info_sheet
    yield f


@check_kind("code_pattern")
def check_code_pattern(ctx: Context, check: Check) -> Iterator[Finding]:
    """Код matches limits.code_pattern of rules/schema.toml."""
    if not ctx.has("code"):
        return
    rx = re.compile(str(check.params.get("pattern") or ctx.rules.schema.limits.code_pattern))
    fullmatch = rx.fullmatch
    for row in ctx.rows:
        v = row.values.get("code")
        if v is not None and fullmatch(v if isinstance(v, str) else str(v)) is None:
            yield ctx.finding(check, row, "code")


@check_kind("offline_accessibility")
def check_offline_accessibility(ctx: Context, check: Check) -> Iterator[Finding]:
    """An active offline touchpoint with «Доступность» empty."""
    f = _field_param(ctx, check)
    if not ctx.has(f):
        return
    channel = str(_param(check, "channel"))
    channels = ctx.channels()
    rows = ctx.rows
    for i in ctx.active(_skip(check)):
        if channels[i] == channel and rows[i].values.get(f) is None and not ctx.is_problem(rows[i], f):
            yield ctx.finding(check, rows[i], f)


@check_kind("written_features")
def check_written_features(ctx: Context, check: Check) -> Iterator[Finding]:
    """A written kind (lists.toml `written = true`) lacking any of the 3.2.1 functions; names the missing."""
    f = _field_param(ctx, check)
    col = ctx.rules.columns[f]
    if not col.ref_list or not ctx.has("kind"):
        return
    every = [it.value for it in ctx.rules.lists[col.ref_list].items if not it.part_of]
    conditions_only = str(check.params.get("conditions_only", ""))
    present = ctx.has(f)
    kinds = ctx.items("kind")
    multis = ctx.scan(f).multis if present else None
    rows = ctx.rows
    missing_of: dict[int, str] = {}
    for i in ctx.active(_skip(check)):
        k = kinds[i]
        if k is None or not k.written:
            continue
        mm = multis[i] if multis is not None else None
        if mm is None and present and ctx.is_problem(rows[i], f):
            continue
        key = id(mm)
        detail = missing_of.get(key)
        if detail is None:
            # A condition of a duty (part_of) never counts as the duty itself.
            have = {it.value for it in mm.items if not it.part_of} if mm is not None else set()
            absent = [x for x in every if x not in have]
            detail = _quote_all(absent)
            conds = [it.value for it in mm.items if it.part_of in absent] if mm is not None else []
            if conds and conditions_only:
                detail += conditions_only.replace("{conditions}", _quote_all(conds))
            missing_of[key] = detail
        if detail:
            row = rows[i]
            if present:
                yield ctx.finding(check, row, f, detail=detail, kind=k.value)
            else:
                yield ctx.finding(check, row, "kind", value="", detail=detail, kind=k.value, header=col.header)


@check_kind("written_key")
def check_written_key(ctx: Context, check: Check) -> Iterator[Finding]:
    """A written kind (3.2.1) not marked key: 3.2 names written interaction among the key touchpoints."""
    if not ctx.has("kind", "key"):
        return
    key_values = set(_str_list(check, "key_values", ["да"]))
    kinds = ctx.items("kind")
    keys = ctx.items("key")
    rows = ctx.rows
    for i in ctx.active(_skip(check)):
        k = kinds[i]
        if k is None or not k.written:
            continue
        it = keys[i]
        if it is not None and it.value not in key_values:  # an unreadable key cell has its own finding
            yield ctx.finding(check, rows[i], "key", kind=k.value)


@check_kind("same_person")
def check_same_person(ctx: Context, check: Check) -> Iterator[Finding]:
    """params.field (Проверил) is the same person as params.other (Ответственный)."""
    f = _field_param(ctx, check)
    other = _field_param(ctx, check, "other")
    if not ctx.has(f, other):
        return
    key = ctx.key
    for row in ctx.rows:
        vals = row.values
        a = vals.get(f)
        if a is None:
            continue
        b = vals.get(other)
        if b is None:
            continue
        # _key only drops case, ё, repeated spaces and end punctuation: texts of very different
        # lengths cannot match, and most pairs are told apart without building keys.
        if a == b or (isinstance(a, str) and isinstance(b, str) and abs(len(a) - len(b)) <= 3
                      and key(a) == key(b)):
            yield ctx.finding(check, row, f)

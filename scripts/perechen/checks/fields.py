"""Check kinds over one row's fields (and the «Сведения» sheet): required and conditionally required cells,
reference-list values and their spelling, a kind on its channel, the code's pattern, accessibility of an
offline touchpoint, the written kinds' functions (3.2.1), the checker not the responsible person."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from itertools import compress
from typing import Any

from ..models import AGENCY_RULE, Finding
from ..rules import Check
from .context import (
    _NO,
    TRUE,
    Context,
    MultiMatch,
    _broken,
    _field_param,
    _param,
    _quote_all,
    _show,
    _skip,
    _str_list,
    positions,
)
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
    # The empty cells of each column (most columns have none), then row by row in the columns' order.
    empty: dict[int, list[str]] = {}
    for f in fields:
        for i in ctx.empty(f):
            got = empty.get(i)
            if got is None:
                empty[i] = [f]
            else:
                got.append(f)
    rows = ctx.rows
    for i in sorted(empty):
        row = rows[i]
        for f in empty[i]:
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
    whens = ctx.column(when)
    # The hit of each distinct «when» value (the first of params.when_values it holds), then its rows.
    hit_of: dict[Any, Any]
    if col.ref_list and col.multi:
        # The cell's items in order only for a cell naming one of the values (mm.names: the items' values).
        by_value = ctx.scan(when).by_value
        if len(values) == 1:  # the hit is that value
            hit_of = dict.fromkeys((v for v, mm in by_value.items() if not values.isdisjoint(mm.names)), *values)
        else:
            hit_of = {v: next(it.value for it in mm.items if it.value in values)
                      for v, mm in by_value.items() if not values.isdisjoint(mm.names)}
    elif col.ref_list:
        hit_of = {v: it.value if it is not None and it.value in values else None
                  for v, it in ctx.scan(when).by_value.items()}
    else:
        hit_of = {v: v for v in values}
    # The rows with the target empty (few), then those of them with a hit.
    wanted = {v for v, h in hit_of.items() if h is not None}
    empty = ctx.empty(target)
    for i in compress(empty, map(wanted.__contains__, map(whens.__getitem__, empty))):
        if not ctx.is_problem(rows[i], target):
            hit = hit_of[whens[i]] if col.ref_list else whens[i]
            yield ctx.finding(check, rows[i], target, detail=hit)


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
    kinds = ctx.items("kind")
    chans = ctx.items("channel")
    # The kind's channel and the «Канал» value row by row (in C); the rows where they differ.
    of_kind = {v: k.channel for v, k in ctx.scan("kind").by_value.items() if k is not None and k.channel}
    of_chan = {v: c.value for v, c in ctx.scan("channel").by_value.items() if c is not None}
    differ = list(map(operator.ne, map(of_kind.get, ctx.column("kind")), map(of_chan.get, ctx.column("channel"))))
    for i in positions(differ, TRUE):
        k, c = kinds[i], chans[i]
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
    codes = ctx.column("code")
    rows = ctx.rows
    try:
        bad = list(compress(range(len(codes)), map(operator.not_, map(fullmatch, codes))))  # texts: in C
    except TypeError:  # an empty cell or a number among them
        bad = [i for i, v in enumerate(codes)
               if v is not None and fullmatch(v if isinstance(v, str) else str(v)) is None]
    for i in bad:
        yield ctx.finding(check, rows[i], "code")


@check_kind("offline_accessibility")
def check_offline_accessibility(ctx: Context, check: Check) -> Iterator[Finding]:
    """An active offline touchpoint with «Доступность» empty."""
    f = _field_param(ctx, check)
    if not ctx.has(f):
        return
    channel = str(_param(check, "channel"))
    channels = ctx.channels()
    rows = ctx.rows
    skipped = ctx.skipped(_skip(check))
    for i in ctx.empty(f):
        if i not in skipped and channels[i] == channel and not ctx.is_problem(rows[i], f):
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
    rows = ctx.rows
    kinds = ctx.items("kind")
    skipped = ctx.skipped(_skip(check))
    # What is missing depends on the set of items a cell names (a few dozen sets however many cells); which
    # conditions are named alone, on their order too, so that part is worked out per cell.
    of_set: dict[frozenset[str], tuple[str, frozenset[str] | None]] = {}

    part_of = {it.value: it.part_of for it in ctx.rules.lists[col.ref_list].items}

    def missing_of_set(names: frozenset[str]) -> tuple[str, frozenset[str] | None]:
        got = of_set.get(names)
        if got is None:
            # A condition of a duty (part_of) never counts as the duty itself.
            absent = [x for x in every if x not in names]
            got = of_set[names] = (_quote_all(absent),
                                   frozenset(absent) if any(part_of.get(n) in absent for n in names) else None)
        return got

    def missing(mm: MultiMatch | None) -> str:
        detail, absent_duties = missing_of_set(mm.names if mm is not None else frozenset())
        if absent_duties is not None and conditions_only:
            conds = [it.value for it in (mm.items if mm is not None else ()) if it.part_of in absent_duties]
            detail += conditions_only.replace("{conditions}", _quote_all(conds))
        return detail

    if present:
        # The cells with something missing (once per distinct set of items, then per such cell), then those of
        # them on written rows.
        vals = ctx.column(f)
        by_value = ctx.scan(f).by_value
        names = operator.attrgetter("names")
        lacking = {n for n in set(map(names, by_value.values())) if missing_of_set(n)[0]}
        said = {v: missing(by_value[v]) for v in compress(by_value, map(lacking.__contains__,
                                                                         map(names, by_value.values())))}
        empty = missing(None)
        faulty = {*said, None} if empty else set(said)
        written = ctx.written()
        for i in compress(written, map(faulty.__contains__, map(vals.__getitem__, written))):
            if i in skipped:
                continue
            k = kinds[i]
            assert k is not None
            v = vals[i]
            if v is None:
                if ctx.is_problem(rows[i], f):
                    continue
                detail = empty
            else:
                detail = said[v]
            yield ctx.finding(check, rows[i], f, detail=detail, kind=k.value)
        return
    detail = missing(None)
    if detail:
        for i in ctx.where_item("kind", lambda it: it.written):
            if i not in skipped:
                k = kinds[i]
                assert k is not None
                yield ctx.finding(check, rows[i], "kind", value="", detail=detail, kind=k.value, header=col.header)


@check_kind("written_key")
def check_written_key(ctx: Context, check: Check) -> Iterator[Finding]:
    """A written kind (3.2.1) not marked key: 3.2 names written interaction among the key touchpoints."""
    if not ctx.has("kind", "key"):
        return
    key_values = set(_str_list(check, "key_values", ["да"]))
    kinds = ctx.items("kind")
    rows = ctx.rows
    skipped = ctx.skipped(_skip(check))
    # Written rows whose «Ключевая» is a list value other than key_values (an unreadable cell has its own finding).
    not_key = {v for v, it in ctx.scan("key").by_value.items() if it is not None and it.value not in key_values}
    written = ctx.written()
    for i in compress(written, map(not_key.__contains__, map(ctx.column("key").__getitem__, written))):
        if i not in skipped:
            k = kinds[i]
            assert k is not None
            yield ctx.finding(check, rows[i], "key", kind=k.value)


@check_kind("same_person")
def check_same_person(ctx: Context, check: Check) -> Iterator[Finding]:
    """params.field (Проверил) is the same person as params.other (Ответственный)."""
    f = _field_param(ctx, check)
    other = _field_param(ctx, check, "other")
    if not ctx.has(f, other):
        return
    key = ctx.key

    def same(a: Any, b: Any) -> bool:
        # _key only drops case, ё, repeated spaces and end punctuation: texts of very different
        # lengths cannot match, and most pairs are told apart without building keys.
        return a is not None and b is not None and (
            a == b or (isinstance(a, str) and isinstance(b, str) and abs(len(a) - len(b)) <= 3 and key(a) == key(b)))

    rows = ctx.rows
    a_col, b_col = ctx.column(f), ctx.column(other)
    a_vals, b_vals = ctx.distinct(f), ctx.distinct(other)
    if all(v is None or isinstance(v, str) for v in (*a_vals, *b_vals)):
        # Texts only: a pair can be the same person only when the keys agree (equal texts have equal keys),
        # so the rule runs on the rows whose keys agree, found in C.
        a_key = {v: key(v) for v in a_vals if v is not None}
        b_key = {v: key(v) for v in b_vals if v is not None}
        cand = list(compress(range(len(a_col)), map(operator.eq, map(a_key.get, a_col), map(b_key.get, b_col))))
    else:  # a number or a date among them: every pair, once per distinct pair
        pairs = list(zip(a_col, b_col, strict=True))
        cand = positions(pairs, {p for p in set(pairs) if same(*p)})
    for i in cand:
        if same(a_col[i], b_col[i]):
            yield ctx.finding(check, rows[i], f)

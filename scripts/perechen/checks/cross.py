"""Check kinds across rows: duplicate touchpoints within a process, an area without a key touchpoint,
a code used twice, a process whose touchpoints are all on one channel."""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterator
from itertools import compress, repeat

from ..models import Finding, Row
from ..rules import Check
from .context import Context, _field_param, _groups, _key, _others, _param, _rows_list, _skip, _str_list, positions
from .runner import check_kind


@check_kind("duplicate")
def check_duplicate(ctx: Context, check: Check) -> Iterator[Finding]:
    """Two active rows with the same ``within`` (process) and the same ``by`` (kind or name): both rows —
    except an included row whose only duplicate is a draft or a row under review (the finding is the draft's)."""
    by = _field_param(ctx, check, "by")
    within = _field_param(ctx, check, "within")
    if not ctx.has(by, within):
        return
    rows = ctx.rows
    by_col = ctx.rules.columns[by]
    by_items = ctx.items(by) if by_col.ref_list and not by_col.multi else None
    statuses = ctx.items("status") if ctx.has("status") else None
    # Each row's comparison key, worked out once per distinct text (None: an empty cell, or not a text).
    vals = ctx.column(by)
    if by_items is not None:
        key_of = {v: "\x00" + it.value if it is not None else _key(v)
                  for v, it in ctx.scan(by).by_value.items() if isinstance(v, str)}
    else:
        key_of = {v: _key(v) for v in ctx.distinct(by) if isinstance(v, str)}
    keys = list(map(key_of.get, vals))
    for group in _groups(ctx, _skip(check), within):
        if len(group) < 2:
            continue
        ks = list(map(keys.__getitem__, group))
        if len(set(ks)) == len(ks) and None not in ks:  # no two rows alike: the common case, told in C
            continue
        seen: dict[str, list[int]] = {}
        for i in group:
            k = keys[i]
            if k is None:
                v = vals[i]
                if v is None:
                    continue
                it = by_items[i] if by_items is not None else None
                k = "\x00" + it.value if it is not None else _key(str(v))
            g = seen.get(k)
            if g is None:
                seen[k] = [i]
            else:
                g.append(i)
        if len(seen) == len(group):
            continue
        for dup in seen.values():
            if len(dup) < 2:
                continue
            numbers = [rows[i].number for i in dup]
            # An included row duplicated only by a draft (or a row under review) is not at fault: the finding
            # sits on the draft row, so a draft never holds back an approval or a placement (issue 11 A1).
            included = [i for i in dup if statuses is not None and (st := statuses[i]) is not None
                        and st.value == "включено"]
            for i in dup:
                if len(included) == 1 and i in included:
                    continue
                row = rows[i]
                yield ctx.finding(check, row, by, other=_others(numbers, row.number),
                                  process=row.values.get(within) or "")


@check_kind("area_key")
def check_area_key(ctx: Context, check: Check) -> Iterator[Finding]:
    """Every area has a key touchpoint among its active rows; the finding sits on the area's first row."""
    if not ctx.has("area", "key"):
        return
    key_values = set(_str_list(check, "key_values", ["да"]))
    keys = ctx.items("key")
    # 3.2: written interaction is a key touchpoint, whatever «Ключевая» says (written-not-key tells the clerk).
    kinds = ctx.items("kind") if check.params.get("written_is_key") and ctx.has("kind") else None
    rows = ctx.rows
    key_col = ctx.column("key")
    pc = ctx.register.problem_cells
    for group in _groups(ctx, _skip(check), "area"):
        unknown = False
        for i in group:
            it = keys[i]
            if it is not None and it.value in key_values:
                break
            if kinds is not None and (k := kinds[i]) is not None and k.written:
                break
            if it is None and (key_col[i] is not None or (pc and ctx.is_problem(rows[i], "key"))):
                unknown = True  # a key cell we cannot read: its own finding says so
        else:
            if not unknown:
                yield ctx.finding(check, rows[group[0]], "area", count=len(group),
                                  detail=f"стр. {_rows_list([rows[i].number for i in group])}")


@check_kind("code_unique")
def check_code_unique(ctx: Context, check: Check) -> Iterator[Finding]:
    """Код unique across the sheet (all rows, «исключено» included: a code is never reused)."""
    if not ctx.has("code"):
        return
    codes = ctx.column("code")
    folded: list[str | None]
    try:
        folded = list(map(str.casefold, codes))  # every code a text: one pass in C
    except TypeError:  # an empty cell or a number among them
        folded = [(v if isinstance(v, str) else str(v)).casefold() if v is not None else None for v in codes]
    counts = Counter(folded)
    twice = set(compress(counts, map(operator.gt, counts.values(), repeat(1))))  # in C
    twice.discard(None)
    dups: dict[str, list[Row]] = {}  # in the order the second row of each code comes
    first: dict[str, Row] = {}
    rows = ctx.rows
    for i in positions(folded, twice):
        k = folded[i]
        assert k is not None
        g = dups.get(k)
        if g is not None:
            g.append(rows[i])
        elif k in first:
            dups[k] = [first[k], rows[i]]
        else:
            first[k] = rows[i]
    for group in dups.values():
        numbers = [r.number for r in group]
        for row in group:
            yield ctx.finding(check, row, "code", other=_others(numbers, row.number))


@check_kind("process_channels")
def check_process_channels(ctx: Context, check: Check) -> Iterator[Finding]:
    """A process whose active rows are all on channel params.only (none on params.missing)."""
    if not ctx.has("process"):
        return
    only = str(_param(check, "only"))
    channels = ctx.channels()
    rows = ctx.rows
    for group in _groups(ctx, _skip(check), "process"):
        if channels[group[0]] != only or not all(map(operator.eq, map(channels.__getitem__, group), repeat(only))):
            continue
        kinds = list(dict.fromkeys(rows[i].text("kind") for i in group if rows[i].values.get("kind")))
        yield ctx.finding(check, rows[group[0]], "process", detail=", ".join(kinds) or f"стр. {rows[group[0]].number}")

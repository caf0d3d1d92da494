"""The registry of check kinds (:func:`check_kind`, ``CHECK_KINDS``) and :func:`run_checks`, which runs every
check declared in rules/checks.toml and merges its findings with the reader's."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..models import Finding, Register, RulesError
from ..rules import Check, Rules
from .context import Context

# Kinds whose findings replace the reader's «mixed-script» warning on the same cell: the list check
# already tells the clerk the right spelling.
_LIST_KINDS = frozenset({"list_value", "list_spelling"})


CheckFn = Callable[[Context, Check], Iterable[Finding]]
CHECK_KINDS: dict[str, CheckFn] = {}


def check_kind(name: str) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        CHECK_KINDS[name] = fn
        return fn
    return deco


def run_checks(register: Register, rules: Rules, *, today: dt.date | None = None,
               params: Mapping[str, Mapping[str, Any]] | None = None) -> list[Finding]:
    """Run every declared check; return the reader's findings plus the checks' findings, sorted.

    ``params`` overrides check parameters by code, e.g. ``{"review-overdue": {"review_days": 5}}``.
    """
    ctx = Context(register=register, rules=rules, today=today or dt.date.today())
    # The checks allocate many small objects over a large live heap; a full collection in the middle
    # is pure cost (nothing here makes cycles), so collection waits until the end — and until the run's
    # caches are freed: the first collection after re-enabling walks every object allocated meanwhile that
    # is still alive, which with the caches alive costs more than the checks of a large register.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        out = _run(ctx, params)
        list_cells = ctx.cache.get("list_cells", set())
        ctx.release()
        del ctx
        reader = [f for f in register.findings
                  if not (f.code == "mixed-script" and f.cell in list_cells and f.sheet == register.sheet)]
        out = reader + out
        out.sort(key=lambda f: f.sort_key())
    finally:
        if gc_was_on:
            gc.enable()
    return out


def _run(ctx: Context, params: Mapping[str, Mapping[str, Any]] | None) -> list[Finding]:
    rules = ctx.rules
    out: list[Finding] = []
    list_cells: set[str] = ctx.cache.setdefault("list_cells", set())
    for chk in rules.checks:
        if chk.kind == "reader":
            continue
        fn = CHECK_KINDS.get(chk.kind)
        if fn is None:
            raise RulesError("rules_broken", f"Ошибка в файле правил {rules.directory / 'checks.toml'}: "
                                             f"правило {chk.code}: неизвестный вид проверки «{chk.kind}».")
        if params and chk.code in params:
            chk = chk.model_copy(update={"params": {**chk.params, **params[chk.code]}})
        found = list(fn(ctx, chk))
        if chk.kind in _LIST_KINDS:
            list_cells.update(f.cell for f in found if f.cell)
        out.extend(found)
    return out

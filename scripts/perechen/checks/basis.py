"""The «Основание» (basis) check kinds: a basis names a document with its date and number; the text tests
(:func:`has_date`, :func:`has_number`, :func:`names_one_of`) run once per distinct text."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from itertools import compress

from ..models import Finding, Row
from ..rules import Check
from .context import Context, _broken, _param, _str_list
from .runner import check_kind

# Basis: dates as «26.02.2024» or «26 февраля 2024 г.», numbers as «№ 25-о». Bases vary from row to
# row (each has its own date and number), so these run once per distinct text: the common forms are
# found by patterns that start with a literal (fast in `re`), the general ones only when those fail.
_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря")
_DATE_TAIL = re.compile(r"\.(\d{1,2})\.(\d{4})(?!\d)")  # «.02.2024» after the day's digits
_DATE_NUM = re.compile(r"(?<!\d)(\d{1,2})\s?[./]\s?(\d{1,2})\s?[./]\s?(\d{4})(?!\d)")
_DATE_WORDS = re.compile(r"(?<!\d)(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})(?!\d)", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"№\s*\S")
_NUMBER_N = re.compile(r"(?<![A-Za-zА-Яа-яЁё])N[oо]?\.?\s*\d")


def _real_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def has_date(text: str) -> bool:
    """The text holds a real calendar date, as «26.02.2024» or «26 февраля 2024 г.» (a four-digit year, so
    that clause numbers like «п. 5.3.14» are not taken for dates)."""
    for m in _DATE_TAIL.finditer(text):
        p = m.start()
        q = p
        while q > 0 and p - q < 2 and text[q - 1].isdigit():
            q -= 1
        if q < p and (q == 0 or not text[q - 1].isdigit()) and \
                _real_date(int(m.group(2)), int(m.group(1)), int(text[q:p])):
            return True
    for m in _DATE_NUM.finditer(text):
        if _real_date(int(m.group(3)), int(m.group(2)), int(m.group(1))):
            return True
    for m in _DATE_WORDS.finditer(text):
        if _real_date(int(m.group(3)), _MONTHS.index(m.group(2).lower()) + 1, int(m.group(1))):
            return True
    return False


def has_number(text: str) -> bool:
    """The text holds a document number: «№ 25-о» (or «N 25»)."""
    if "№" in text and _NUMBER_SIGN.search(text) is not None:
        return True
    return "N" in text and _NUMBER_N.search(text) is not None


@functools.lru_cache(maxsize=64)
def _stems_re(stems: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(s.casefold().replace("ё", "е")) for s in sorted(stems, key=len, reverse=True))
    return re.compile(r"(?<![0-9a-zа-я])(?:" + (alts or r"(?!)") + ")")


def names_one_of(text: str, stems: Sequence[str]) -> bool:
    """Some word of the text starts with one of the stems (case- and ё-insensitive)."""
    return _stems_re(tuple(stems)).search(text.casefold().replace("ё", "е")) is not None


def _bases_of_kind(ctx: Context, kind: object, judge: Callable[[str], str]) -> Iterator[tuple[Row, str]]:
    """Each row whose «Вид основания» is ``kind`` and whose «Основание» (as text) ``judge`` finds fault with,
    with what it said; ``judge`` runs once per distinct text (rows without a basis skipped)."""
    rows = ctx.rows
    texts = ctx.column("basis")
    # The rows of this kind (once per run and kind, shared by the checks of that kind) and their texts.
    idx = ctx.with_value("basis_kind", (kind,)) if isinstance(kind, str) else \
        ctx.where_item("basis_kind", lambda it: it.value == kind)
    of_kind = list(map(texts.__getitem__, idx))
    distinct = set(of_kind)
    distinct.discard(None)
    if all(isinstance(t, str) for t in distinct):
        # Each distinct text judged once (a few hundred), then the rows of this kind with a faulty one.
        said = {t: v for t in distinct if (v := judge(t))}
        for i, t in compress(zip(idx, of_kind, strict=True), map(said.__contains__, of_kind)):
            yield rows[i], said[t]
        return
    verdicts: dict[str, str] = {}  # a number among the texts: row by row, each as text
    for i, text in zip(idx, of_kind, strict=True):
        if text is None:
            continue
        text = text if isinstance(text, str) else str(text)
        verdict = verdicts.get(text)
        if verdict is None:
            verdict = verdicts[text] = judge(text)
        if verdict:
            yield rows[i], verdict


@check_kind("basis")
def check_basis(ctx: Context, check: Check) -> Iterator[Finding]:
    """For rows whose basis kind is params.basis_kind: the basis names it (words), has a date, a number."""
    if not ctx.has("basis", "basis_kind"):
        return
    kind = _param(check, "basis_kind")
    need = _str_list(check, "need", ["name", "date"])
    stems = [s.casefold().replace("ё", "е") for s in _str_list(check, "words", [])]
    missing_text = _param(check, "missing", {})
    if not isinstance(missing_text, dict):
        raise _broken(check, "параметр «missing» должен быть таблицей")
    joiner = str(check.params.get("joiner", "; "))
    unless = _str_list(check, "unless_words", [])

    def lacks(text: str) -> str:
        missing: list[str] = []
        for what in (need if not (unless and names_one_of(text, unless)) else ()):
            ok = (names_one_of(text, stems) if what == "name" else has_date(text) if what == "date"
                  else has_number(text) if what == "number" else True)
            if not ok:
                missing.append(str(missing_text.get(what, what)))
        return joiner.join(missing)

    for row, verdict in _bases_of_kind(ctx, kind, lacks):
        yield ctx.finding(check, row, "basis", detail=verdict)


@check_kind("basis_names_document")
def check_basis_names_document(ctx: Context, check: Check) -> Iterator[Finding]:
    """A basis of kind params.basis_kind (распорядительное действие, 2.4) that names a document (2.3)."""
    if not ctx.has("basis", "basis_kind"):
        return
    kind = _param(check, "basis_kind")
    stems = _str_list(check, "words", [])
    rx = _stems_re(tuple(s.casefold().replace("ё", "е") for s in stems))

    def named(text: str) -> str:
        folded = text.casefold().replace("ё", "е")
        m = rx.search(folded)
        if m is None:
            return ""
        end = m.end()
        while end < len(folded) and folded[end].isalpha():
            end += 1
        return text[m.start():end]

    for row, word in _bases_of_kind(ctx, kind, named):
        yield ctx.finding(check, row, "basis", detail=f"«{word}»")

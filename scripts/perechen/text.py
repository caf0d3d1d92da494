"""Text normalisation shared by every stage.

``normalize`` is what the tool compares: NFC, every Unicode space as a plain space, zero-width
characters and soft hyphens removed, runs of spaces collapsed, trimmed. ``value_key`` and
``header_key`` are looser keys for matching reference lists and headers (case, ё/е, punctuation
spacing, Latin look-alike letters).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata

# Zero-width and invisible characters that clerks paste in from web pages and Word.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# Unicode spaces other than the plain one (incl. NBSP, narrow NBSP, figure space, ideographic space).
_SPACES_RE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\t\r\f\v]")
_MULTI_SPACE_RE = re.compile(r" {2,}")
_SPECIAL_RE = re.compile(f"[{_INVISIBLE}\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\t\r\f\v]|  ")

# Latin letters that look like Cyrillic ones (and back), for loose matching and mixed-script detection.
LATIN_TO_CYRILLIC = str.maketrans({
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О", "P": "Р", "T": "Т",
    "X": "Х", "Y": "У", "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к",
    "m": "м", "t": "т", "h": "н", "b": "ь",
})

_CYR = re.compile(r"[А-Яа-яЁё]")
_LAT = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"[A-Za-zА-Яа-яЁё]+")
_DATE_TEXT = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:\s*г\.?)?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")


def normalize(value: str) -> str:
    """Normalise a cell's text; fast path for text that needs nothing but trimming."""
    if value.isascii():
        s = value.strip()
        if "  " in s or "\t" in s or "\r" in s:
            s = _MULTI_SPACE_RE.sub(" ", _SPACES_RE.sub(" ", s)).strip()
        return s
    if _SPECIAL_RE.search(value) is None and unicodedata.is_normalized("NFC", value):
        return value.strip()
    s = unicodedata.normalize("NFC", value)
    s = _INVISIBLE_RE.sub("", s)
    s = _SPACES_RE.sub(" ", s)
    # Line breaks stay (multi-valued cells use them) but spaces around them go.
    s = re.sub(r" *\n *", "\n", s)
    s = _MULTI_SPACE_RE.sub(" ", s)
    return s.strip()


def fold(value: str) -> str:
    """Case- and ё-insensitive form with Latin look-alikes mapped to Cyrillic inside Cyrillic words."""
    s = normalize(value).replace("\n", " ")
    s = " ".join(_fix_lookalikes(w) for w in s.split(" "))
    return s.casefold().replace("ё", "е")


def _fix_lookalikes(word: str) -> str:
    if _CYR.search(word) and _LAT.search(word):
        return word.translate(LATIN_TO_CYRILLIC)
    return word


def value_key(value: str) -> str:
    """Key for matching a value against a reference list."""
    s = fold(value)
    s = re.sub(r"\s*([,;:()«»\"'])\s*", r"\1", s)
    s = s.replace("«", "").replace("»", "").replace('"', "")
    s = s.strip(" .;,")
    return re.sub(r"\s+", " ", s)


@functools.lru_cache(maxsize=65_536)
def header_key(value: str) -> str:
    """Key for matching a column header: letters and digits only, case- and ё-insensitive (cached: the reader looks
    for the header row among the first rows of every sheet, and a region run reads sixty workbooks of one layout)."""
    s = fold(value)
    return re.sub(r"[^0-9a-zа-я№]+", "", s)


def mixed_script_words(value: str) -> list[tuple[str, str]]:
    """Words mixing Latin and Cyrillic letters, with the Latin letters found.

    A wholly Latin word («Telegram», «e-mail») is legitimate and not returned.
    """
    out: list[tuple[str, str]] = []
    if value.isascii():
        return out
    for m in _WORD.finditer(value):
        w = m.group(0)
        if _CYR.search(w) and _LAT.search(w):
            out.append((w, "".join(dict.fromkeys(_LAT.findall(w)))))
    return out


def split_multi(value: str) -> list[str]:
    """Split a multi-valued cell on «;» and line breaks (str methods: ~10× a regex split on 100,000 cells)."""
    return [p for p in map(str.strip, value.replace("\n", ";").split(";")) if p]


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for ``n``: plural(3, "день", "дня", "дней") -> "дня"."""
    n10, n100 = abs(n) % 10, abs(n) % 100
    if n10 == 1 and n100 != 11:
        return one
    if 2 <= n10 <= 4 and not 12 <= n100 <= 14:
        return few
    return many


def ru_size(n: int) -> str:
    """A size in bytes as people read it, in Russian units with a decimal comma: «512 Б», «9 КБ», «1,2 МБ», «3,4 ГБ».

    Kilobytes are whole (at least 1), megabytes and gigabytes have one decimal; 1 КБ = 1024 Б.
    """
    n = max(0, int(n))
    if n < 1024:
        return f"{n} Б"
    if n < 1024 ** 2:
        return f"{max(1, round(n / 1024))} КБ"
    if n < 1024 ** 3:
        return f"{n / 1024 ** 2:.1f} МБ".replace(".", ",")
    return f"{n / 1024 ** 3:.1f} ГБ".replace(".", ",")


def work_days(n: int) -> str:
    """«1 рабочий день», «3 рабочих дня», «10 рабочих дней»."""
    return f"{n} {plural(n, 'рабочий день', 'рабочих дня', 'рабочих дней')}"


# The dates a command line takes (--today, approve --record --date): ISO or ДД.ММ.ГГГГ, one parser for all.
CLI_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def parse_cli_date(s: str) -> dt.date | None:
    """«2026-12-06» or «06.12.2026» → date (as the --today option reads it); else None."""
    for fmt in CLI_DATE_FORMATS:
        try:
            return dt.datetime.strptime((s or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


def parse_date_text(s: str) -> dt.date | None:
    """A date typed as text: «ДД.ММ.ГГГГ» (also with «/» or «-», «г.» after) or ISO «ГГГГ-ММ-ДД»; else None."""
    m = _DATE_TEXT.match(s)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _ISO_DATE.match(s)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------------------------------------
# Dates for people: the one place that writes them (ДД.ММ.ГГГГ, as the agency's documents do). Written
# by hand rather than with strftime, whose %Y drops the leading zeros of a year before 1000 on some
# platforms and not on others.


def ru_date(d: dt.date | None, empty: str = "") -> str:
    """«09.01.2026»; ``empty`` for None. A datetime shows its date only."""
    if d is None:
        return empty
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"


def ru_datetime(t: dt.datetime | None, *, seconds: bool = False, empty: str = "") -> str:
    """«09.01.2026 14:05» (``seconds=True``: «09.01.2026 14:05:07»); ``empty`` for None."""
    if t is None:
        return empty
    hm = f"{t.hour:02d}:{t.minute:02d}" + (f":{t.second:02d}" if seconds else "")
    return f"{ru_date(t)} {hm}"


def ru_day_month(d: dt.date) -> str:
    """«09.01» — a short label (a chart's axis)."""
    return f"{d.day:02d}.{d.month:02d}"


def ru_date_or_time(value: dt.date) -> str:
    """A cell's date as a clerk typed it: the date, with the time only when the cell holds one."""
    if isinstance(value, dt.datetime) and (value.hour or value.minute):
        return ru_datetime(value)
    return ru_date(value)


def ru_date_text(value: object, empty: str = "") -> str:
    """An ISO date text («2026-01-09», also the date part of «2026-01-09T10:00») as «09.01.2026»;
    ``empty`` for None or ""; any other text unchanged."""
    if value is None or value == "":
        return empty
    if isinstance(value, dt.date):
        return ru_date(value)
    s = str(value)
    try:
        return ru_date(dt.date.fromisoformat(s[:10]))
    except ValueError:
        return s


def ru_datetime_text(value: object, *, seconds: bool = False, empty: str = "") -> str:
    """An ISO date-time text as «09.01.2026 14:05»; ``empty`` for None or ""; any other text unchanged."""
    if value is None or value == "":
        return empty
    if isinstance(value, dt.datetime):
        return ru_datetime(value, seconds=seconds)
    s = str(value)
    try:
        return ru_datetime(dt.datetime.fromisoformat(s), seconds=seconds)
    except ValueError:
        return s


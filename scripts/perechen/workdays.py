"""Russian production calendar: working days for the 10-working-day publication deadline (п. 5.4).

Rules applied
-------------
* A working day is a Monday–Friday that is not a day off, or a Saturday/Sunday made a working day by the
  government's yearly decree on transfers («О переносе выходных дней»). Days off are the non-working
  holidays of ТК РФ ст. 112, their automatic moves (a holiday on a weekend moves to the next working day)
  and the decree's transfers.
* A period counted in working days starts the day *after* the event (ГК РФ ст. 191): the deadline for a
  change made on day D is the n-th working day after D. Because the result is always a working day,
  ГК РФ ст. 193 (a period ending on a non-working day moves to the next working day) holds by construction.

Which years are trusted (decision)
----------------------------------
Only the years that have a ``[years.YYYY]`` table in ``rules/calendar.toml``. For those years the file is
the whole truth: it lists every weekday that is a day off and every weekend day that is a working day,
and its ``working_days_total`` must match the recount, so a typo fails at load time.

The ``holidays`` package (>= 0.107) is *not* trusted on its own for any year, because for a year it has
no decree for it silently returns bare holidays, and it has no public API that says whether a decree is
known for a year. It is used for two things:

* :meth:`WorkCalendar.package_divergences` compares a year of the file with the installed package day by
  day (tests assert they agree for 2023–2027, so a wrong file or a changed package release shows up);
* :func:`draft_year_toml` prints a ``[years.YYYY]`` table from the installed package as a starting point
  when a new decree is published; a human checks it against the decree text before marking it official.

A date in a year the file does not cover raises :class:`CalendarError` («Производственный календарь на
2031 год не известен: добавьте его в rules/calendar.toml»). A broken file raises
:class:`CalendarFileError` naming the file and the key.

Years whose ``status`` is ``"provisional"`` (decree text not checked) are usable, and
:class:`DeadlineStatus` lists them in ``provisional_years`` whenever they took part in a computation, so
reports can warn about it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import describe
from .models import CodedError
from .text import ru_date

__all__ = [
    "CALENDAR_FILE",
    "CalendarError",
    "CalendarFileError",
    "DeadlineStatus",
    "Divergence",
    "WorkCalendar",
    "YearInfo",
    "draft_year_toml",
]

CALENDAR_FILE = "calendar.toml"
FORMAT = "perechen-calendar/1"
DEFAULT_WORKING_DAYS = 10  # п. 5.4: «в течение 10 рабочих дней»

_ONE_DAY = timedelta(days=1)
_WEEKDAY_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


class CalendarError(CodedError):
    """The production calendar cannot answer: unknown year or bad arguments (message in Russian)."""

    default_code = "calendar_unavailable"


class CalendarFileError(CalendarError):
    """rules/calendar.toml is missing or invalid; the message names the file and the key."""

    default_code = "calendar_broken"


# --------------------------------------------------------------------------------------------------------
# File schema


Status = Literal["official", "provisional"]
_Pair = Annotated[list[date], Field(min_length=2, max_length=2)]


class _YearModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    status: Status
    decree: str
    holidays: list[date]
    days_off: list[date]
    working_weekends: list[date]
    working_days_total: int
    transfers: list[_Pair] = []
    art112_moves: list[_Pair] = []

    @field_validator("decree")
    @classmethod
    def _decree_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("название постановления не может быть пустым")
        return v


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    format: str
    years: dict[str, _YearModel]


_PYDANTIC_RU: Mapping[str, str] = {
    "missing": "обязательный ключ отсутствует",
    "extra_forbidden": "неизвестный ключ",
    "date_type": "ожидается дата TOML без кавычек, например 2026-01-09",
    "date_from_datetime_inexact": "ожидается дата без времени, например 2026-01-09",
    "int_type": "ожидается целое число",
    "string_type": "ожидается строка в кавычках",
    "list_type": "ожидается список [...]",
    "too_short": "ожидается пара [дата, дата]",
    "too_long": "ожидается пара [дата, дата]",
    "literal_error": 'допустимые значения: "official", "provisional"',
    "dict_type": "ожидается таблица",
    "model_type": "ожидается таблица",
}


def _loc_to_key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(корень файла)"


def _fmt_date(d: date) -> str:
    return ru_date(d)


# --------------------------------------------------------------------------------------------------------
# Public data classes


@dataclass(frozen=True)
class YearInfo:
    year: int
    decree: str
    status: Status
    working_days_total: int


@dataclass(frozen=True)
class DeadlineStatus:
    """Where a change stands against its publication deadline on a given day.

    * ``deadline`` — the n-th working day after the change day (the change day is not counted).
    * ``working_days_left`` — working days in (today, deadline]: 10 on the day of the change (if n=10),
      0 on the deadline day itself (still in time) and 0 whenever overdue.
    * ``overdue`` — ``today > deadline``.
    * ``overdue_working_days`` — working days in (deadline, today], but at least 1 when overdue (a weekend
      day just after the deadline is already late); 0 when not overdue.
    * ``provisional_years`` — years with ``status = "provisional"`` whose days were used.
    """

    deadline: date
    working_days_left: int
    overdue: bool
    overdue_working_days: int
    provisional_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class Divergence:
    """A day on which rules/calendar.toml and the installed holidays package disagree."""

    day: date
    file_working: bool
    package_working: bool

    def __str__(self) -> str:
        def word(w: bool) -> str:
            return "рабочий" if w else "выходной"

        return (
            f"{_fmt_date(self.day)} ({_WEEKDAY_RU[self.day.weekday()]}): в {CALENDAR_FILE} — "
            f"{word(self.file_working)}, в пакете holidays — {word(self.package_working)}"
        )


@dataclass(frozen=True)
class _Year:
    info: YearInfo
    days_off: frozenset[date]
    working_weekends: frozenset[date]


# --------------------------------------------------------------------------------------------------------
# The calendar


_LOADED: dict[tuple[str, int, int], WorkCalendar] = {}


class WorkCalendar:
    """Working days of the Russian production calendar for the years in rules/calendar.toml."""

    def __init__(self, years: Mapping[int, _Year], source: str) -> None:
        self._years: dict[int, _Year] = dict(years)
        self._source = source
        self._counts: dict[int, list[int]] = {}  # year -> working days among its first k days, k = 0..366

    # -- loading -------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, rules_dir: Path) -> WorkCalendar:
        """Read and validate ``rules_dir/calendar.toml``; raise CalendarFileError if it is broken.

        A calendar is immutable, so one loaded file is shared while its size and time stay the same (a region run
        checks sixty agencies of one profile in a worker process: one load, not sixty)."""
        path = Path(rules_dir) / CALENDAR_FILE
        try:
            st = path.stat()
            key: tuple[str, int, int] | None = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        except OSError:
            key = None  # reading it says what is wrong
        got = _LOADED.get(key) if key is not None else None
        if got is None:
            got = cls._load(path)
            if key is not None:
                if len(_LOADED) >= 16:
                    _LOADED.clear()
                _LOADED[key] = got
        return got

    @classmethod
    def _load(cls, path: Path) -> WorkCalendar:
        source = str(path)
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise CalendarFileError(f"{source}: файл производственного календаря не найден") from None
        except OSError as exc:
            raise CalendarFileError(f"{source}: не удалось прочитать файл: {describe(exc)}") from None
        except tomllib.TOMLDecodeError as exc:
            raise CalendarFileError(f"{source}: {describe(exc)} (формат TOML)") from None
        return cls.from_mapping(raw, source=source)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str = CALENDAR_FILE) -> WorkCalendar:
        """Build from already-parsed TOML data (``source`` is used in error messages)."""
        try:
            model = _FileModel.model_validate(dict(raw))
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                msg = _PYDANTIC_RU.get(err["type"], err["msg"])
                lines.append(f"{source}: ключ {_loc_to_key(tuple(err['loc']))}: {msg}")
            raise CalendarFileError("\n".join(lines)) from None
        if model.format != FORMAT:
            raise CalendarFileError(f'{source}: ключ format: ожидается "{FORMAT}", в файле "{model.format}"')
        if not model.years:
            raise CalendarFileError(f"{source}: ключ years: нет ни одного года")
        years: dict[int, _Year] = {}
        for key, ym in model.years.items():
            if not (len(key) == 4 and key.isdigit()):
                raise CalendarFileError(f"{source}: ключ years.{key}: ожидается год из четырёх цифр")
            year = int(key)
            years[year] = _check_year(year, ym, source)
        return cls(dict(sorted(years.items())), source)

    # -- metadata -------------------------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """Path of the calendar file as given to :meth:`load`."""
        return self._source

    @property
    def years(self) -> tuple[int, ...]:
        """The trusted years, ascending."""
        return tuple(self._years)

    def year_info(self, year: int) -> YearInfo:
        return self._year(year).info

    def working_days_in_year(self, year: int) -> int:
        y = self._year(year)
        return _count_year(year, y.days_off, y.working_weekends)

    # -- core ------------------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        d = _as_date(d)
        y = self._year(d.year)
        if d.weekday() < 5:
            return d not in y.days_off
        return d in y.working_weekends

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself is not counted, ГК РФ ст. 191); n >= 1."""
        start = _as_date(start)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise CalendarError(f"Число рабочих дней должно быть целым и не меньше 1, получено: {n!r}")
        d = start
        left = n
        while left:
            d += _ONE_DAY
            if self.is_working_day(d):
                left -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b] when b > a; minus the working days in (b, a] when b < a; 0 if a == b.

        The left end is never examined, so ``working_days_between(date(Y-1, 12, 31), date(Y, 12, 31))``
        is the total for year Y even if Y-1 is not in the file.
        """
        a, b = _as_date(a), _as_date(b)
        if a == b:
            return 0
        if b < a:
            return -self.working_days_between(b, a)
        # Year by year through running counts (the same years examined, in the same order, as day by day).
        first = a + _ONE_DAY
        total = 0
        for year in range(first.year, b.year + 1):
            counts = self._running_counts(year)
            jan1 = date(year, 1, 1).toordinal()
            lo = first.toordinal() - jan1 if year == first.year else 0
            hi = b.toordinal() - jan1 + 1 if year == b.year else len(counts) - 1
            total += counts[hi] - counts[lo]
        return total

    def _running_counts(self, year: int) -> list[int]:
        """``counts[k]``: the working days among the first k days of ``year`` (raises for a year not in the file)."""
        counts = self._counts.get(year)
        if counts is None:
            self._year(year)
            counts = [0]
            for d in _days(date(year, 1, 1), date(year, 12, 31)):
                counts.append(counts[-1] + self.is_working_day(d))
            self._counts[year] = counts
        return counts

    def deadline(self, change_day: date, n: int = DEFAULT_WORKING_DAYS) -> date:
        """Publication deadline (п. 5.4): the n-th working day after the day of the change."""
        return self.add_working_days(change_day, n)

    def status(self, change_day: date, today: date, n: int = DEFAULT_WORKING_DAYS) -> DeadlineStatus:
        """Deadline, working days left and lateness of a change made on ``change_day``, seen on ``today``."""
        change_day, today = _as_date(change_day), _as_date(today)
        dl = self.deadline(change_day, n)
        if today <= dl:
            left = self.working_days_between(today, dl)
            overdue_days = 0
        else:
            left = 0
            overdue_days = max(1, self.working_days_between(dl, today))
        # Days examined: (min(change_day, today), max(deadline, today)].
        first, last = min(change_day, today) + _ONE_DAY, max(dl, today)
        provisional = tuple(
            y
            for y in range(first.year, last.year + 1)
            if y in self._years and self._years[y].info.status == "provisional"
        )
        return DeadlineStatus(
            deadline=dl,
            working_days_left=left,
            overdue=today > dl,
            overdue_working_days=overdue_days,
            provisional_years=provisional,
        )

    # -- cross-check with the holidays package ---------------------------------------------------------------

    def package_divergences(self, year: int) -> list[Divergence]:
        """Days of ``year`` on which the file and the installed ``holidays`` package disagree."""
        y = self._year(year)
        pkg = _package_calendar(year)
        out: list[Divergence] = []
        for d in _days(date(year, 1, 1), date(year, 12, 31)):
            mine = (d not in y.days_off) if d.weekday() < 5 else (d in y.working_weekends)
            theirs = pkg.is_working_day(d)
            if mine != theirs:
                out.append(Divergence(d, mine, theirs))
        return out

    # -- internals -------------------------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        try:
            return self._years[year]
        except KeyError:
            raise CalendarError(
                f"Производственный календарь на {year} год не известен: добавьте его в {self._source}"
            ) from None


# --------------------------------------------------------------------------------------------------------
# Helpers


def _as_date(d: date) -> date:
    # datetime is a subclass of date but does not compare with it; keep only the calendar day.
    if type(d) is date:
        return d
    if isinstance(d, date):
        return date(d.year, d.month, d.day)
    raise CalendarError(f"Ожидается дата, получено: {d!r}")


def _days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += _ONE_DAY


def _count_year(year: int, days_off: frozenset[date], working_weekends: frozenset[date]) -> int:
    return sum(
        1
        for d in _days(date(year, 1, 1), date(year, 12, 31))
        if (d.weekday() < 5 and d not in days_off) or d in working_weekends
    )


def _check_year(year: int, ym: _YearModel, source: str) -> _Year:
    prefix = f"{source}: ключ years.{year}"

    def fail(key: str, msg: str) -> CalendarFileError:
        return CalendarFileError(f"{prefix}.{key}: {msg}")

    def check_list(key: str, days: list[date]) -> None:
        seen: set[date] = set()
        for i, d in enumerate(days):
            if d.year != year:
                raise fail(f"{key}[{i}]", f"дата {_fmt_date(d)} не относится к {year} году")
            if d in seen:
                raise fail(f"{key}[{i}]", f"дата {_fmt_date(d)} указана дважды")
            seen.add(d)

    check_list("holidays", ym.holidays)
    check_list("days_off", ym.days_off)
    check_list("working_weekends", ym.working_weekends)
    for i, d in enumerate(ym.days_off):
        if d.weekday() >= 5:
            raise fail(
                f"days_off[{i}]",
                f"{_fmt_date(d)} — {_WEEKDAY_RU[d.weekday()]}; в days_off перечисляются только пн–пт "
                "(выходные субботы и воскресенья подразумеваются)",
            )
    for i, d in enumerate(ym.working_weekends):
        if d.weekday() < 5:
            raise fail(
                f"working_weekends[{i}]",
                f"{_fmt_date(d)} — {_WEEKDAY_RU[d.weekday()]}; "
                "в working_weekends перечисляются только субботы и воскресенья",
            )
    days_off = frozenset(ym.days_off)
    working_weekends = frozenset(ym.working_weekends)
    for i, d in enumerate(ym.holidays):
        if d.weekday() < 5 and d not in days_off:
            raise fail(
                f"holidays[{i}]", f"праздник {_fmt_date(d)} выпадает на будний день, но его нет в days_off"
            )
        if d in working_weekends:
            raise fail(f"holidays[{i}]", f"праздник {_fmt_date(d)} не может быть в working_weekends")
    for key, pairs in (("transfers", ym.transfers), ("art112_moves", ym.art112_moves)):
        for i, (src, dst) in enumerate(pairs):
            if src.weekday() < 5:
                raise fail(f"{key}[{i}]", f"переносимый день {_fmt_date(src)} — не суббота и не воскресенье")
            if dst not in days_off:
                raise fail(
                    f"{key}[{i}]", f"день {_fmt_date(dst)}, на который сделан перенос, должен быть в days_off"
                )
            if key == "art112_moves" and src not in set(ym.holidays):
                raise fail(f"{key}[{i}]", f"{_fmt_date(src)} нет в holidays")
    counted = _count_year(year, days_off, working_weekends)
    if counted != ym.working_days_total:
        raise fail(
            "working_days_total",
            f"указано {ym.working_days_total} рабочих дней, "
            f"а по days_off и working_weekends выходит {counted}",
        )
    info = YearInfo(year=year, decree=ym.decree, status=ym.status, working_days_total=ym.working_days_total)
    return _Year(info=info, days_off=days_off, working_weekends=working_weekends)


def _package_calendar(year: int) -> Any:
    import holidays  # imported lazily: not needed for ordinary deadline computations

    return holidays.country_holidays("RU", years=year)


def draft_year_toml(year: int) -> str:
    """A ``[years.YYYY]`` table built from the installed holidays package, for a human to check.

    The result is marked ``status = "provisional"``: compare it with the decree text before changing it.
    """
    import holidays

    pkg = _package_calendar(year)
    all_days = list(_days(date(year, 1, 1), date(year, 12, 31)))
    days_off = [d for d in all_days if d.weekday() < 5 and not pkg.is_working_day(d)]
    working_weekends = [d for d in all_days if d.weekday() >= 5 and pkg.is_working_day(d)]
    art112 = [date(year, 1, m) for m in range(1, 9)] + [
        date(year, 2, 23),
        date(year, 3, 8),
        date(year, 5, 1),
        date(year, 5, 9),
        date(year, 6, 12),
        date(year, 11, 4),
    ]
    total = _count_year(year, frozenset(days_off), frozenset(working_weekends))

    def arr(ds: list[date]) -> str:
        return "[" + ", ".join(d.isoformat() for d in ds) + "]"

    return "\n".join(
        [
            f"[years.{year}]",
            'status = "provisional"',
            f'decree = "ПРОВЕРИТЬ: постановление о переносе выходных дней в {year} году '
            f'(черновик из holidays {getattr(holidays, "__version__", "?")})"',
            f"holidays = {arr(art112)}",
            f"days_off = {arr(days_off)}",
            f"working_weekends = {arr(working_weekends)}",
            f"working_days_total = {total}",
            "",
        ]
    )

"""The journal: what the tool has observed, approved and placed, in an embedded SQLite database.

``output/journal.sqlite`` (stdlib :mod:`sqlite3`) records

* every observation of the workbook (time, workbook sha256, fingerprint of the publishable data);
* every change of a row's published content against the last placement: code, case of п. 5.3, field,
  old and new value, when the tool first saw it, the «Дата изменения» typed in the row, whether the
  authorised person has included it (п. 2.1.3), the day it counts as made (п. 5.4), the act that approved
  it and the placement that put it on the site;
* every draft of an approving act (п. 5.1) and every recorded act;
* every placement (a version of ``output/published/``).

Storage rules
-------------
* The schema version is ``PRAGMA user_version``; :data:`MIGRATIONS` brings an older file up to date in one
  transaction; a file written by a newer perechen is refused (``journal_newer``).
* WAL mode, ``synchronous=FULL``, foreign keys on. Every public write is one ``BEGIN IMMEDIATE``
  transaction: SQLite's write lock makes writers take turns (a second writer waits ``BUSY_TIMEOUT_S`` and
  then gets ``journal_busy``), and a process killed at any step leaves the journal as it was before that
  write or after it — never between.
* A file that is not a SQLite database, fails ``PRAGMA quick_check`` or lacks the tables is *damaged*
  (``journal_damaged``, a Russian message naming the file). :func:`rebuild` moves it aside and restores
  what ``output/published/`` and ``output/approvals/`` still hold; :class:`RebuildReport` names what could
  not be restored.

How changes are reconciled (:meth:`Journal.observe`): the caller passes the *whole* current comparison
against the last placement (``perechen diff``'s changes, as :class:`ObservedChange`). An open change
(not placed) with the same code, case, field and new value keeps its first observation; a new one is
inserted; an open change that is no longer in the comparison was reverted before placement and is closed
as ``reverted`` (it never counts for п. 5.4). A change of a row under review is recorded with
``included = False`` (stage «observed»); it gets its ``made_on`` the first time it is seen included.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fsutil import os_reason
from .models import PerechenError
from .text import ru_date

JOURNAL_FILE = "journal.sqlite"
APPROVALS = "approvals"  # output/approvals/<draft id>/ (see perechen.approval)
DRAFT_FILE = "draft.json"
ACT_FILE = "act.json"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
CASE_KEYS = ("added", "kind_changed", "needs_changed", "excluded", "edited")

# Test hook: called with a step name inside a write transaction (the kill tests stop a child there).
_step_hook: Callable[[str], None] | None = None


class JournalError(PerechenError):
    """The journal cannot be opened, read or written (exit code 2)."""


# ------------------------------------------------------------------------------------------------------------
# Schema

_V1 = """
CREATE TABLE observations (
    id INTEGER PRIMARY KEY,
    observed_at TEXT NOT NULL,
    source TEXT NOT NULL,
    workbook TEXT,
    workbook_sha256 TEXT,
    fingerprint TEXT NOT NULL,
    row_count INTEGER NOT NULL DEFAULT 0,
    change_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('approve', 'amend')),
    baseline TEXT,
    fingerprint TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    folder TEXT NOT NULL
);
CREATE TABLE draft_changes (
    draft_id TEXT NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    case_key TEXT NOT NULL,
    PRIMARY KEY (draft_id, code, case_key)
);
CREATE TABLE acts (
    id INTEGER PRIMARY KEY,
    draft_id TEXT NOT NULL UNIQUE REFERENCES drafts(id),
    number TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    title TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE placements (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL UNIQUE,
    placed_at TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    target TEXT,
    act_id INTEGER REFERENCES acts(id),
    source TEXT NOT NULL DEFAULT 'publish'
);
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    case_key TEXT NOT NULL CHECK (case_key IN ('added', 'kind_changed', 'needs_changed', 'excluded', 'edited')),
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    observation_id INTEGER REFERENCES observations(id),
    first_observed_at TEXT NOT NULL,
    typed_date TEXT,
    included INTEGER NOT NULL DEFAULT 0,
    included_at TEXT,
    made_on TEXT,
    initial INTEGER NOT NULL DEFAULT 0,
    act_id INTEGER REFERENCES acts(id),
    placement_id INTEGER REFERENCES placements(id),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'placed', 'reverted')),
    closed_at TEXT,
    rebuilt INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX changes_open ON changes(state, code);
CREATE INDEX changes_made ON changes(made_on);
"""

MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1),)
_TABLES = ("observations", "drafts", "draft_changes", "acts", "placements", "changes")


# ------------------------------------------------------------------------------------------------------------
# Typed records


@dataclass(frozen=True)
class ObservedChange:
    """One field of one code that differs from the last placement (what ``perechen diff`` found)."""

    code: str
    case: str
    field: str
    old: Any
    new: Any
    included: bool = True
    typed_date: dt.date | None = None


@dataclass(frozen=True)
class Observation:
    id: int
    observed_at: dt.datetime
    source: str
    workbook: str | None
    workbook_sha256: str | None
    fingerprint: str
    row_count: int
    change_count: int


@dataclass(frozen=True)
class ChangeRecord:
    id: int
    code: str
    case: str
    field: str
    old: Any
    new: Any
    first_observed_at: dt.datetime
    typed_date: dt.date | None
    included: bool
    included_at: dt.datetime | None
    made_on: dt.date | None
    initial: bool
    act_id: int | None
    placement_id: int | None
    state: str
    closed_at: dt.datetime | None
    rebuilt: bool

    @property
    def stage(self) -> str:
        """observed → included → approved → placed (the dashboard's stages)."""
        if self.state == "placed":
            return "placed"
        if self.act_id is not None:
            return "approved"
        return "included" if self.included else "observed"


@dataclass(frozen=True)
class DraftRecord:
    id: str
    seq: int
    created_at: dt.datetime
    kind: str
    baseline: str | None
    fingerprint: str
    row_count: int
    folder: str
    changes: tuple[tuple[str, str], ...] = ()  # (code, case)


@dataclass(frozen=True)
class ActRecord:
    id: int
    draft_id: str
    number: str
    signed_on: dt.date
    title: str
    recorded_at: dt.datetime

    def citation(self) -> str:
        """«приказ от 08.12.2026 № 31-о»."""
        return f"приказ от {ru_date(self.signed_on)} № {self.number}"


@dataclass(frozen=True)
class PlacementRecord:
    id: int
    version: str
    placed_at: dt.datetime
    fingerprint: str
    row_count: int
    target: str | None
    act_id: int | None
    source: str


@dataclass
class ObserveResult:
    observation: Observation
    new_changes: list[ChangeRecord] = field(default_factory=list)
    reverted: list[ChangeRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # Russian: a typed date that contradicts the observation


# ------------------------------------------------------------------------------------------------------------
# Helpers


def journal_path(output_dir: Path) -> Path:
    return Path(output_dir) / JOURNAL_FILE


def _iso_dt(v: dt.datetime) -> str:
    return v.replace(microsecond=0).isoformat()


def _dt(v: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(v) if v else None


def _date(v: str | None) -> dt.date | None:
    return dt.date.fromisoformat(v) if v else None


def _dump(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _load(v: str | None) -> Any:
    return json.loads(v) if v is not None else None


def _step(name: str) -> None:
    if _step_hook is not None:
        _step_hook(name)


def _damaged(path: Path, why: str) -> JournalError:
    return JournalError("journal_damaged",
                        f"Журнал изменений {path} повреждён ({why}). Сведения о размещённых версиях и приказах "
                        "восстанавливаются из папок output/published и output/approvals (повреждённый файл "
                        "сохраняется рядом); дни, когда изменения были впервые замечены, восстановить нельзя.", path)


# ------------------------------------------------------------------------------------------------------------
# The journal


class Journal:
    """An open journal. Use :meth:`open` (or :func:`open_journal`) and close it (it is a context manager)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    # -- opening ---------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Journal:
        """Open (and migrate) the journal at ``path``; create it when missing and ``create`` is true."""
        path = Path(path)
        if not path.exists():
            if not create:
                raise JournalError("journal_missing", f"Журнал изменений {path} не найден.", path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise JournalError("journal_write", f"Не удалось создать папку {path.parent}: "
                                                    f"{os_reason(e)}.", path) from None
        elif path.is_dir():
            raise _damaged(path, "на месте файла папка")
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as e:
            raise JournalError("journal_write", f"Не удалось открыть журнал изменений {path}: {e}.", path) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
            if str(mode).lower() != "wal":
                raise _damaged(path, f"не удалось включить режим WAL ({mode})")
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise _damaged(path, f"проверка целостности SQLite: {ok}")
            journal = cls(path, conn)
            journal._migrate()
        except sqlite3.OperationalError as e:
            conn.close()
            if "locked" in str(e) or "busy" in str(e):
                raise _busy(path) from None
            raise _damaged(path, str(e)) from None
        except sqlite3.DatabaseError as e:
            conn.close()
            raise _damaged(path, _ru_sqlite(e)) from None
        except BaseException:
            conn.close()
            raise
        return journal

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise JournalError("journal_newer", f"Журнал изменений {self.path} записан более новой версией perechen "
                                                f"(схема {version}, эта версия понимает до {SCHEMA_VERSION}): "
                                                "обновите perechen.", self.path)
        if version == SCHEMA_VERSION:
            names = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = [t for t in _TABLES if t not in names]
            if missing:
                raise _damaged(self.path, "нет таблиц " + ", ".join(missing))
            return
        if version == 0:
            names = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if names:
                raise _damaged(self.path, "это база SQLite, но не журнал perechen")
        with self._write():
            for target, script in MIGRATIONS:
                if target > version:
                    for stmt in _statements(script):
                        self._conn.execute(stmt)
                    self._conn.execute(f"PRAGMA user_version = {int(target)}")

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: the write lock first, so writers take turns)."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise _busy(self.path) from None
            raise JournalError("journal_write", f"Не удалось записать журнал изменений {self.path}: "
                                                f"{_ru_sqlite(e)}.", self.path) from None
        try:
            yield conn
            _step("before-commit")
            conn.execute("COMMIT")
        except BaseException as e:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.DatabaseError):
                raise JournalError("journal_write", f"Не удалось записать журнал изменений {self.path}: "
                                                    f"{_ru_sqlite(e)}. Журнал остался прежним.", self.path) from None
            raise

    # -- observations and changes ----------------------------------------------------------------------------

    def observe(self, changes: Sequence[ObservedChange], *, fingerprint: str, observed_at: dt.datetime,
                source: str = "nightly", workbook: str | None = None, workbook_sha256: str | None = None,
                row_count: int = 0) -> ObserveResult:
        """Record one observation and reconcile the open changes with ``changes`` (see the module docstring).

        The first observation of a journal with no placement marks its changes ``initial`` (the first
        placement of the approved Перечень, п. 5.2, has no term). On the very first observation a change's
        ``made_on`` is the typed «Дата изменения» (no earlier observation exists); afterwards it is the
        day the change was first seen included, and a typed date that differs gives a warning naming both.
        """
        for c in changes:
            if c.case not in CASE_KEYS:
                raise ValueError(f"unknown case {c.case!r}")
        with self._write() as conn:
            first_ever = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 0
            placed_any = conn.execute("SELECT COUNT(*) FROM placements").fetchone()[0] > 0
            cur = conn.execute(
                "INSERT INTO observations (observed_at, source, workbook, workbook_sha256, fingerprint, row_count,"
                " change_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_iso_dt(observed_at), source, workbook, workbook_sha256, fingerprint, row_count, len(changes)))
            obs_id = int(cur.lastrowid or 0)
            _step("observation-inserted")
            open_rows = {(r["code"], r["case_key"], r["field"], r["new_value"]): r
                         for r in self._rows("SELECT * FROM changes WHERE state = 'open'")}
            seen: set[tuple[str, str, str, str]] = set()
            new_ids: list[int] = []
            warnings: list[str] = []
            day = observed_at.date()
            for c in changes:
                key = (c.code, c.case, c.field, _dump(c.new))
                if key in seen:
                    continue
                seen.add(key)
                typed = c.typed_date.isoformat() if c.typed_date else None
                row = open_rows.get(key)
                if row is None:
                    made = None
                    if c.included:
                        made = (c.typed_date or day) if first_ever else day
                    cur = conn.execute(
                        "INSERT INTO changes (code, case_key, field, old_value, new_value, observation_id,"
                        " first_observed_at, typed_date, included, included_at, made_on, initial)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (c.code, c.case, c.field, _dump(c.old), key[3], obs_id, _iso_dt(observed_at), typed,
                         int(c.included), _iso_dt(observed_at) if c.included else None,
                         made.isoformat() if made else None, int(not placed_any)))
                    new_ids.append(int(cur.lastrowid or 0))
                    if c.included and not first_ever and c.typed_date and c.typed_date != day:
                        warnings.append(_date_warning(c.code, c.typed_date, day))
                elif c.included and not row["included"]:
                    conn.execute("UPDATE changes SET included = 1, included_at = ?, made_on = ?, typed_date = ?"
                                 " WHERE id = ?", (_iso_dt(observed_at), day.isoformat(), typed, row["id"]))
                    if c.typed_date and c.typed_date != day:
                        warnings.append(_date_warning(c.code, c.typed_date, day))
                _step("change-recorded")
            gone = [r["id"] for k, r in open_rows.items() if k not in seen]
            for i in gone:
                conn.execute("UPDATE changes SET state = 'reverted', closed_at = ? WHERE id = ?",
                             (_iso_dt(observed_at), i))
        obs = self.observation(obs_id)
        return ObserveResult(observation=obs, new_changes=self.changes(ids=new_ids),
                             reverted=self.changes(ids=gone), warnings=_unique(warnings))

    def observation(self, obs_id: int) -> Observation:
        r = self._one("SELECT * FROM observations WHERE id = ?", (obs_id,))
        if r is None:
            raise KeyError(obs_id)
        return _observation(r)

    def has_observations(self) -> bool:
        return self._one("SELECT 1 FROM observations LIMIT 1") is not None

    def observations(self) -> list[Observation]:
        return [_observation(r) for r in self._rows("SELECT * FROM observations ORDER BY id")]

    def changes(self, *, state: str | None = None, ids: Iterable[int] | None = None,
                year: int | None = None, initial: bool | None = None,
                closed_since: dt.datetime | None = None) -> list[ChangeRecord]:
        """Changes in journal order; filtered by state, ids, the year of ``made_on``, the first placement's
        (``initial``) or not, closed at or after ``closed_since``."""
        sql = "SELECT * FROM changes WHERE 1 = 1"
        args: list[Any] = []
        if initial is not None:
            sql += " AND initial = ?"
            args.append(int(initial))
        if closed_since is not None:
            sql += " AND closed_at >= ?"
            args.append(_iso_dt(closed_since))
        if state is not None:
            sql += " AND state = ?"
            args.append(state)
        if ids is not None:
            id_list = list(ids)
            if not id_list:
                return []
            sql += f" AND id IN ({','.join('?' * len(id_list))})"
            args.extend(id_list)
        if year is not None:
            sql += " AND substr(made_on, 1, 4) = ?"
            args.append(f"{year:04d}")
        return [_change(r) for r in self._rows(sql + " ORDER BY id", args)]

    def made_days(self, *, by_act: bool) -> dict[str, dt.date]:
        """Code → the earliest day an open, included, non-initial change of it counts as made (п. 5.4): its
        ``made_on`` (the day first seen included), or with ``by_act`` the date of the act that approved it — only
        the changes an act approved (one query, no records built)."""
        day, only = ("a.signed_on", " AND a.id IS NOT NULL") if by_act else ("c.made_on", "")
        rows = self._rows(f"SELECT c.code AS code, MIN({day}) AS day FROM changes c LEFT JOIN acts a ON a.id = "  # noqa: S608
                          f"c.act_id WHERE c.state = 'open' AND c.included = 1 AND c.initial = 0{only} GROUP BY c.code")
        return {r["code"]: dt.date.fromisoformat(r["day"]) for r in rows if r["day"]}

    def pending(self) -> list[ChangeRecord]:
        """Open changes (observed, included or approved, not yet placed)."""
        return self.changes(state="open")

    # -- drafts and acts -------------------------------------------------------------------------------------

    def add_draft(self, draft_id: str, *, created_at: dt.datetime, kind: str, baseline: str | None,
                  fingerprint: str, row_count: int, folder: str,
                  changes: Iterable[tuple[str, str]] = ()) -> DraftRecord:
        """Record a frozen draft (its folder is already complete); a known id is left as it is."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM drafts WHERE id = ?", (draft_id,)).fetchone() is None:
                seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM drafts").fetchone()[0])
                conn.execute("INSERT INTO drafts (id, seq, created_at, kind, baseline, fingerprint, row_count, folder)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (draft_id, seq, _iso_dt(created_at), kind, baseline, fingerprint, row_count, folder))
                _step("draft-inserted")
                conn.executemany("INSERT OR IGNORE INTO draft_changes (draft_id, code, case_key) VALUES (?, ?, ?)",
                                 [(draft_id, code, case) for code, case in changes])
        d = self.draft(draft_id)
        assert d is not None
        return d

    def draft(self, draft_id: str) -> DraftRecord | None:
        r = self._one("SELECT * FROM drafts WHERE id = ?", (draft_id,))
        if r is None:
            return None
        ch = tuple((x["code"], x["case_key"]) for x in
                   self._rows("SELECT code, case_key FROM draft_changes WHERE draft_id = ? ORDER BY code, case_key",
                              (draft_id,)))
        return DraftRecord(id=r["id"], seq=r["seq"], created_at=_req_dt(r["created_at"]), kind=r["kind"],
                           baseline=r["baseline"], fingerprint=r["fingerprint"], row_count=r["row_count"],
                           folder=r["folder"], changes=ch)

    def drafts(self) -> list[DraftRecord]:
        out = []
        for r in self._rows("SELECT id FROM drafts ORDER BY seq"):
            d = self.draft(r["id"])
            if d is not None:
                out.append(d)
        return out

    def latest_draft(self) -> DraftRecord | None:
        r = self._one("SELECT id FROM drafts ORDER BY seq DESC LIMIT 1")
        return self.draft(r["id"]) if r is not None else None

    def record_act(self, draft_id: str, *, number: str, signed_on: dt.date, title: str,
                   recorded_at: dt.datetime) -> ActRecord:
        """Record the signed act of a draft and mark the open included changes it approves.

        The checks a clerk must be told about (unknown, superseded, already recorded, dates) are made by
        :mod:`perechen.approval` before; here only the database constraints hold (one act per draft).
        """
        with self._write() as conn:
            d = conn.execute("SELECT created_at FROM drafts WHERE id = ?", (draft_id,)).fetchone()
            if d is None:
                raise JournalError("draft_unknown", f"Проект приказа {draft_id} не найден в журнале.", self.path)
            try:
                cur = conn.execute("INSERT INTO acts (draft_id, number, signed_on, title, recorded_at)"
                                   " VALUES (?, ?, ?, ?, ?)",
                                   (draft_id, number, signed_on.isoformat(), title, _iso_dt(recorded_at)))
            except sqlite3.IntegrityError:
                raise JournalError("act_exists", f"Приказ к проекту {draft_id} уже записан в журнал.",
                                   self.path) from None
            act_id = int(cur.lastrowid or 0)
            _step("act-inserted")
            conn.execute(
                "UPDATE changes SET act_id = ? WHERE state = 'open' AND act_id IS NULL AND included = 1"
                " AND first_observed_at <= ? AND EXISTS (SELECT 1 FROM draft_changes dc WHERE dc.draft_id = ?"
                " AND dc.code = changes.code AND dc.case_key = changes.case_key)",
                (act_id, d[0], draft_id))
        act = self.act(act_id)
        assert act is not None
        return act

    def act(self, act_id: int) -> ActRecord | None:
        r = self._one("SELECT * FROM acts WHERE id = ?", (act_id,))
        return _act(r) if r is not None else None

    def act_for_draft(self, draft_id: str) -> ActRecord | None:
        r = self._one("SELECT * FROM acts WHERE draft_id = ?", (draft_id,))
        return _act(r) if r is not None else None

    def acts(self) -> list[ActRecord]:
        return [_act(r) for r in self._rows("SELECT * FROM acts ORDER BY signed_on, id")]

    def last_act(self) -> ActRecord | None:
        r = self._one("SELECT a.* FROM acts a JOIN drafts d ON d.id = a.draft_id ORDER BY d.seq DESC LIMIT 1")
        return _act(r) if r is not None else None

    # -- placements ------------------------------------------------------------------------------------------

    def record_placement(self, version: str, *, placed_at: dt.datetime, fingerprint: str, row_count: int,
                         target: str | None = None, act_id: int | None = None, require_act: bool = False,
                         source: str = "publish", codes: Iterable[str] | None = None) -> PlacementRecord:
        """Record a version put on the site and close the open included changes it places.

        Placed are the open, included changes first observed no later than ``placed_at`` — only those
        approved by an act when ``require_act`` (``[approval] mode = "act"``), only those of ``codes``
        when given. Recording the same version twice is harmless (the first record stays).
        """
        code_list = list(codes) if codes is not None else None
        with self._write() as conn:
            row = conn.execute("SELECT id FROM placements WHERE version = ?", (version,)).fetchone()
            if row is not None:
                pid = int(row[0])
            else:
                cur = conn.execute("INSERT INTO placements (version, placed_at, fingerprint, row_count, target, act_id,"
                                   " source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                   (version, _iso_dt(placed_at), fingerprint, row_count, target, act_id, source))
                pid = int(cur.lastrowid or 0)
                _step("placement-inserted")
                sql = ("UPDATE changes SET state = 'placed', placement_id = ?, closed_at = ? WHERE state = 'open'"
                       " AND included = 1 AND first_observed_at <= ?")
                args: list[Any] = [pid, _iso_dt(placed_at), _iso_dt(placed_at)]
                if require_act:
                    sql += " AND act_id IS NOT NULL"
                if code_list is not None:
                    if not code_list:
                        sql += " AND 0"
                    else:
                        sql += f" AND code IN ({','.join('?' * len(code_list))})"
                        args.extend(code_list)
                conn.execute(sql, args)
        p = self._one("SELECT * FROM placements WHERE id = ?", (pid,))
        assert p is not None
        return _placement(p)

    def placements(self) -> list[PlacementRecord]:
        return [_placement(r) for r in self._rows("SELECT * FROM placements ORDER BY placed_at, id")]

    def placement(self, placement_id: int) -> PlacementRecord | None:
        r = self._one("SELECT * FROM placements WHERE id = ?", (placement_id,))
        return _placement(r) if r is not None else None

    # -- low level -------------------------------------------------------------------------------------------

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            cur = self._conn.execute(sql, tuple(args))
            cur.row_factory = sqlite3.Row
            return list(cur.fetchall())
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise _busy(self.path) from None
            raise _damaged(self.path, _ru_sqlite(e)) from None
        except sqlite3.DatabaseError as e:
            raise _damaged(self.path, _ru_sqlite(e)) from None

    def _one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = self._rows(sql, args)
        return rows[0] if rows else None

    def _insert_raw(self, table: str, values: dict[str, Any]) -> int:
        """Insert inside an open :meth:`_write` (used by :func:`rebuild`)."""
        cols = ", ".join(values)
        cur = self._conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(values))})",  # noqa: S608
                                 tuple(values.values()))
        return int(cur.lastrowid or 0)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _busy(path: Path) -> JournalError:
    return JournalError("journal_busy", f"Журнал изменений {path} сейчас записывает другой запуск perechen "
                                        f"(ждали {int(BUSY_TIMEOUT_S)} с); повторите после его завершения.", path)


def _ru_sqlite(e: sqlite3.Error) -> str:
    text = str(e)
    known = {
        "file is not a database": "файл не является базой SQLite",
        "database disk image is malformed": "структура файла базы нарушена",
        "disk I/O error": "ошибка ввода-вывода диска",
        "database or disk is full": "не хватает места на диске",
        "attempt to write a readonly database": "нет прав на запись",
        "unable to open database file": "файл не открывается",
    }
    for en, ru in known.items():
        if en in text:
            return ru
    if text.startswith("no such table"):
        return "нет таблицы " + text.split(":", 1)[-1].strip()
    if text.startswith("no such column"):
        return "нет столбца " + text.split(":", 1)[-1].strip()
    return "ошибка SQLite"


def _date_warning(code: str, typed: dt.date, seen: dt.date) -> str:
    return (f"Код {code}: в «Дата изменения» указано {ru_date(typed)}, а изменение впервые замечено включённым "
            f"{ru_date(seen)}; срок п. 5.4 считается от {ru_date(seen)}, дня, когда изменение внесено в перечень.")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _req_dt(v: str) -> dt.datetime:
    out = _dt(v)
    assert out is not None
    return out


def _observation(r: sqlite3.Row) -> Observation:
    return Observation(id=r["id"], observed_at=_req_dt(r["observed_at"]), source=r["source"], workbook=r["workbook"],
                       workbook_sha256=r["workbook_sha256"], fingerprint=r["fingerprint"], row_count=r["row_count"],
                       change_count=r["change_count"])


def _change(r: sqlite3.Row) -> ChangeRecord:
    return ChangeRecord(id=r["id"], code=r["code"], case=r["case_key"], field=r["field"], old=_load(r["old_value"]),
                        new=_load(r["new_value"]), first_observed_at=_req_dt(r["first_observed_at"]),
                        typed_date=_date(r["typed_date"]), included=bool(r["included"]),
                        included_at=_dt(r["included_at"]), made_on=_date(r["made_on"]), initial=bool(r["initial"]),
                        act_id=r["act_id"], placement_id=r["placement_id"], state=r["state"],
                        closed_at=_dt(r["closed_at"]), rebuilt=bool(r["rebuilt"]))


def _act(r: sqlite3.Row) -> ActRecord:
    signed = _date(r["signed_on"])
    assert signed is not None
    return ActRecord(id=r["id"], draft_id=r["draft_id"], number=r["number"], signed_on=signed, title=r["title"],
                     recorded_at=_req_dt(r["recorded_at"]))


def _placement(r: sqlite3.Row) -> PlacementRecord:
    return PlacementRecord(id=r["id"], version=r["version"], placed_at=_req_dt(r["placed_at"]),
                           fingerprint=r["fingerprint"], row_count=r["row_count"], target=r["target"],
                           act_id=r["act_id"], source=r["source"])


def open_journal(output_dir: Path) -> Journal:
    """The journal of ``output_dir`` (created when missing). A damaged file raises ``journal_damaged``."""
    return Journal.open(journal_path(output_dir))


ROW_FIELD = "*"  # the field of an «added» change: the whole new row (one record per new touchpoint)


def changes_from_diff(report: Any) -> list[ObservedChange]:
    """The journal's view of a :class:`perechen.diff.DiffReport`: one :class:`ObservedChange` per field; a new
    touchpoint (п. 5.3.1) is one change of the whole row (field ``*``) — a 10,000-row first run records 10,000
    changes, not 170,000."""
    out: list[ObservedChange] = []
    for ch in report.changes:
        # A change waiting for an act has no day made yet ("act" mode): the journal keeps its typed date.
        typed = ch.typed_on if ch.awaits_act else None if ch.date_from_run else ch.change_date
        if ch.kind == "added":
            new = {f: v.get("new") for f, v in ch.fields.items()}
            out.append(ObservedChange(code=ch.code, case=ch.kind, field=ROW_FIELD, old=None, new=new,
                                      included=True, typed_date=typed))
            continue
        for f, v in ch.fields.items():
            out.append(ObservedChange(code=ch.code, case=ch.kind, field=f, old=v.get("old"), new=v.get("new"),
                                      included=True, typed_date=typed))
    return out

"""``perechen region``: the regional project office's run over every agency of the region (issue 14 §2).

``region.toml`` names the region, its output folder and one ``[agencies.<id>]`` table per agency: ``name`` and
either ``workbook`` (a path or an https URL, read through :mod:`perechen.remote`; optional ``rules`` = the
agency's profile and ``published`` = the agency's ``output/published`` folder) or ``config`` (the agency's own
perechen.toml, from which everything is taken).

Each agency is read in a worker process (:class:`concurrent.futures.ProcessPoolExecutor`, started by ``fork`` on
Linux when no other thread runs, else ``spawn``; at most ``os.cpu_count()`` workers): its check, the state of
п. 5.4 against its last placement and its last act. The state is the one the agency's own ``perechen nightly`` and
``perechen diff`` compute: :func:`perechen.diff.compare` against :func:`perechen.store.latest` with the days its
journal saw each change made (:func:`perechen.clock.observed_days` in the agency's ``[approval] mode``). The
journal is read from one copy in a temporary folder of the region's output, never opened where it lies. With
``mode = "act"`` the term runs from the date of the act that approved a change; changes no act approved yet are counted
as pending, with no term and never overdue, until an act is recorded (as on the agency's dashboard; no journal: no act
yet). An agency given by ``workbook`` + ``published`` has no settings to name its mode: the journal beside
``published`` (its output folder), if there is one, is read in the default mode ``"inclusion"``; without a journal
— or when its copy cannot be read (``act_note``) — the typed «Дата изменения» counts, as in ``perechen diff``.

A worker returns a small :class:`AgencyResult` — counts, the deadline, a few finding lines and the placed rows
for the open data —, never a register. One agency's
unreadable workbook, broken profile or broken settings file is that agency's ``file_error``; the others go on.

Nothing is written anywhere but the region's output folder: the agencies' check reports (``agencies/<id>/``:
report.json and report.html; the annotated copy of the workbook only when the agency's mail will carry it),
a private copy of a workbook read from a server, the dashboard (:mod:`perechen.region_render`), the
consolidated open data (``opendata/``) and ``region.json``. The mails go through :func:`perechen.mail.send_all`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import hashlib
import io
import json
import math
import multiprocessing
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .config import MailConfig
from .fsutil import atomic_write, atomic_write_all, os_reason
from .models import PerechenError, RulesError, Severity
from .remote import RemoteSettings, is_url

REGION_NAME = "region.toml"
REGION_ENV = "PERECHEN_REGION"  # the region file when --config is not given
AGENCIES_DIR = "agencies"
REPORT_DIR = "report"
OPENDATA_DIR = "opendata"
SUMMARY_NAME = "region.json"
FINDINGS_IN_MAIL = 40
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


# ------------------------------------------------------------------------------------------------------------
# region.toml


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegionSection(_M):
    name: str
    output: str = "region-output"
    office_email: str | None = None  # the project office: the summary mail goes here


class AgencyEntry(_M):
    name: str
    workbook: str | None = None
    rules: str | None = None
    published: str | None = None  # the agency's output/published folder (read-only)
    config: str | None = None  # the agency's own perechen.toml instead of workbook/rules/published
    email: str | None = None  # the уполномоченное лицо (else «Электронная почта» of the workbook's «Сведения»)
    inn: str | None = None  # else «ИНН» of the workbook's «Сведения»
    remote: RemoteSettings | None = None  # a workbook given as https://… (else [remote] of region.toml)


class RegionConfig(_M):
    region: RegionSection
    agencies: dict[str, AgencyEntry] = Field(min_length=1)
    mail: MailConfig = MailConfig()
    remote: RemoteSettings = RemoteSettings()

    base_dir: Path = Path(".")
    source: Path | None = None

    @field_validator("agencies")
    @classmethod
    def _ids(cls, v: dict[str, AgencyEntry]) -> dict[str, AgencyEntry]:
        for key in v:
            if not _ID.match(key):
                raise ValueError(f"идентификатор органа «{key}» — только латинские буквы, цифры, «-» и «_» "
                                 "(он становится именем папки)")
        return v

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def output_dir(self) -> Path:
        return self.path(self.region.output)


def _fail(path: Path, detail: str) -> RulesError:
    return RulesError("config_broken", f"Ошибка в файле настроек региона {path}: {detail}.", path)


def load_region(path: str | Path | None = None) -> RegionConfig:
    """region.toml (the path given, else $PERECHEN_REGION, else ./region.toml). Raises RulesError (exit 2)."""
    from .config import _where
    from .rules import _ru_pydantic

    if path is None:
        path = os.environ.get(REGION_ENV) or (Path.cwd() / REGION_NAME)
    p = Path(path)
    try:
        with p.open("rb") as f:
            raw: dict[str, Any] = tomllib.load(f)
    except FileNotFoundError:
        raise RulesError("config_broken", f"Файл настроек региона {p} не найден. Укажите его параметром --config "
                                          f"или положите {REGION_NAME} в текущую папку.", p) from None
    except IsADirectoryError:
        raise RulesError("config_broken", f"{p} — это папка, а не файл настроек региона.", p) from None
    except tomllib.TOMLDecodeError as e:
        raise _fail(p, f"синтаксическая ошибка TOML{_where(e)}") from None
    try:
        cfg = RegionConfig.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        if err.get("type") == "too_short" and loc == "agencies":
            raise _fail(p, "ключ «agencies»: не описано ни одного органа (таблицы [agencies.<id>])") from None
        raise _fail(p, f"ключ «{loc}»: {_ru_pydantic(err)}") from None
    for key, a in cfg.agencies.items():
        if a.config and (a.workbook or a.rules or a.published):
            extra = next(k for k in ("workbook", "rules", "published") if getattr(a, k))
            raise _fail(p, f"ключ «agencies.{key}.{extra}»: при config = … всё берётся из настроек органа; "
                           f"уберите {extra} или config")
        if not a.config and not a.workbook:
            raise _fail(p, f"ключ «agencies.{key}»: укажите workbook = … (книга органа) или config = … "
                           "(perechen.toml органа)")
    cfg.base_dir = p.resolve().parent
    cfg.source = p
    return cfg


# ------------------------------------------------------------------------------------------------------------
# One agency (runs in a worker process: everything here is picklable and small)


@dataclass(frozen=True)
class AgencyJob:
    id: str
    name: str
    base_dir: str  # the folder of region.toml (relative paths)
    out_dir: str  # agencies/<id> in the region's output
    today: dt.date
    workbook: str | None = None
    rules: str | None = None
    published: str | None = None
    config: str | None = None
    email: str | None = None
    inn: str | None = None
    remote: dict[str, Any] = field(default_factory=dict)
    annotated: bool = True  # write the annotated copy of the workbook (only when a mail will carry it)


@dataclass
class AgencyResult:
    id: str
    name: str
    rows: int = 0
    errors: int = 0
    warnings: int = 0
    pending: int = 0
    deadline: str | None = None  # ISO
    overdue: int = 0  # working days
    working_days_left: int | None = None
    earliest_change: str | None = None
    file_error: dict[str, str] | None = None
    tracked: bool = False  # the agency's published folder is known (the 5.4 state means something)
    placed_version: str | None = None
    inn: str = ""
    email: str = ""
    workbook: str = ""
    report: str | None = None  # report.html, relative to the region's output folder
    annotated: str | None = None  # the annotated copy of the workbook, relative to the region's output folder
    act: dict[str, str] | None = None  # {"number", "signed_on", "title", "text"}
    act_note: str | None = None
    approval_mode: str = "inclusion"  # the agency's [approval] mode (the default when only workbook is given)
    waiting_for_act: int = 0  # "act" mode: pending changes no act approved yet (no п. 5.4 term before the act)
    findings: list[str] = field(default_factory=list)
    # The published rows as the consolidated open data's CSV lines (the agency's columns first, neutralised, made by
    # the worker: a few lines of text to send back, not thousands of dicts, and no per-cell work after the workers),
    # how many, and whether every typed «Дата изменения» among them is an ISO date.
    placed_csv: bytes = b""
    placed_rows: int = 0
    placed_iso_dates: bool = True

    @property
    def clean(self) -> bool:
        return self.file_error is None and not self.errors and not self.overdue

    def to_json(self) -> dict[str, Any]:
        """The issue's contract for one agency."""
        return {"id": self.id, "name": self.name, "rows": self.rows, "errors": self.errors,
                "warnings": self.warnings, "pending": self.pending, "deadline": self.deadline,
                "overdue": self.overdue, "file_error": self.file_error}


def read_agency(job: AgencyJob) -> AgencyResult:
    """Check one agency; every failure becomes its ``file_error`` (never raised: the others go on)."""
    res = AgencyResult(id=job.id, name=job.name, inn=job.inn or "", email=job.email or "")
    # No automatic collection during the agency: the reader and the checks each switch the collector off while they
    # build, and each re-enabling started a pass over everything still alive (the register, the findings) that freed
    # nothing (~2 ms of each agency's CPU). One pass over the young objects once the agency's register is freed
    # collects its few reference cycles (~0.4 ms).
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        _read_agency_guarded(job, res)
    finally:
        gc.collect(0)
        if gc_was_on:
            gc.enable()
    return res


def _read_agency_guarded(job: AgencyJob, res: AgencyResult) -> None:
    try:
        _read_agency(job, res)
    except PerechenError as e:
        res.file_error = {"code": e.code, "message": e.message}
    except MemoryError:
        res.file_error = {"code": "memory", "message": f"Не хватило памяти для обработки книги органа «{job.name}»."}
    except Exception as e:  # a bug must not stop the other agencies; it is named, never a traceback
        res.file_error = {"code": "internal", "message": f"Внутренняя ошибка perechen при обработке органа "
                                                         f"«{job.name}» ({type(e).__name__}). Сообщите о ней "
                                                         "сопровождающим."}


def _read_agency(job: AgencyJob, res: AgencyResult) -> None:
    from . import remote
    from .config import Config, load_config
    from .reader import read_register
    from .stages import check_workbook

    base = Path(job.base_dir)
    out = Path(job.out_dir)
    review_days: int | None = None
    agency_output: Path | None
    if job.config:
        cfg = load_config(_resolve(base, job.config))
        workbook, rules_dir, agency_output = cfg.workbook, cfg.rules_dir, cfg.output_dir
        settings = cfg.remote.model_copy(update={"cafile": str(cfg.path(cfg.remote.cafile))
                                                 if cfg.remote.cafile else None})
        review_days = cfg.review_days
        mode = cfg.approval.mode
        wb_base = cfg.base_dir
    else:
        workbook = job.workbook or ""
        rules_dir = _resolve(base, job.rules) if job.rules else None
        agency_output = None
        if job.published:
            from .store import PUBLISHED

            agency_output = _resolve(base, job.published).parent
            if _resolve(base, job.published).name != PUBLISHED:
                raise PerechenError("published_missing", f"Ключ published органа «{job.name}» в region.toml "
                                                         f"называет {_resolve(base, job.published)}, а не папку "
                                                         "«published» в папке результатов органа (output/published).")
        settings = RemoteSettings.model_validate(job.remote)
        if settings.cafile:
            settings = settings.model_copy(update={"cafile": str(_resolve(base, settings.cafile))})
        wb_base = base
        mode = "inclusion"  # unknown without the agency's settings: the default of [approval] mode
    rules = _rules(rules_dir)
    res.workbook = workbook
    if is_url(workbook):
        path = remote.fetch(workbook, settings, out, rules.file_error)
    else:
        path = _resolve(wb_base, workbook)
    register = read_register(path, rules)
    res.rows = register.n_rows
    res.inn = res.inn or re.sub(r"\s", "", register.info.get("inn") or "")
    res.email = res.email or (register.info.get("email") or "").strip()
    report_dir = out / REPORT_DIR
    if report_dir.exists():
        shutil.rmtree(report_dir)
    stage_cfg = Config(output=str(out), review_days=review_days, base_dir=out)
    # The report folder was just removed and is rebuilt whole from the workbook by every run: its files are written
    # without fsync (still under a temporary name, then renamed — a reader never sees half a file). A crash can cost
    # them; the next run writes them again. Two fsyncs per agency were ~10 ms of a worker's wall time each agency.
    report = check_workbook(path, stage_cfg, rules=rules, register=register, report_dir=report_dir, today=job.today,
                            annotated=job.annotated, sync=False)
    res.errors, res.warnings = report.errors, report.warnings
    if report.files.get("html"):
        res.report = f"{AGENCIES_DIR}/{job.id}/{REPORT_DIR}/{report.files['html'].name}"
    if report.files.get("xlsx"):
        res.annotated = f"{AGENCIES_DIR}/{job.id}/{REPORT_DIR}/{report.files['xlsx'].name}"
    shown = [f for f in report.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
    res.findings = [_finding_line(f) for f in shown[:FINDINGS_IN_MAIL]]
    if len(shown) > FINDINGS_IN_MAIL:
        res.findings.append(f"… и ещё {len(shown) - FINDINGS_IN_MAIL} — в отчёте органа.")
    if agency_output is None:
        return
    # Only an agency with a published folder needs the comparison and the store (and their imports).
    from . import diff, store

    res.tracked = True
    published = store.published_dir(agency_output)
    if job.published and not published.is_dir():
        raise PerechenError("published_missing", f"Папка опубликованных версий органа «{job.name}» {published} "
                                                 "не найдена (ключ published в region.toml).", published)
    baseline = store.latest(agency_output)
    res.approval_mode = mode
    seen = _read_journal(agency_output, out, res, register, rules, mode=mode, today=job.today)
    # "act" mode: the term runs from the act's date; a change no act approved yet waits for it, with no term — as
    # the agency's own run says (one rule, diff.compare). An unreadable journal: the typed dates (act_note says so).
    d = diff.compare(register, rules, baseline, today=job.today, observed=seen.observed if seen else None,
                     term_from_act=mode == "act" and seen is not None)
    res.pending = len(d.changes)
    res.deadline = d.deadline.isoformat() if d.deadline else None
    res.earliest_change = d.earliest_change.isoformat() if d.earliest_change else None
    res.overdue = d.overdue_working_days if d.overdue else 0
    res.working_days_left = None if d.overdue else d.working_days_left
    res.waiting_for_act = len(d.awaiting_act) if baseline is not None else 0  # the first placement: no term at all
    if baseline is not None:
        from .opendata import PUBLISHED_FIELDS, cell_text

        res.placed_version = baseline.name
        info = baseline.register.get("info") or {}
        res.inn = res.inn or re.sub(r"\s", "", str(info.get("inn") or ""))
        head = (job.id, job.name, res.inn)
        placed = [[*head, *(cell_text(r.get(f.field)) for f in PUBLISHED_FIELDS)] for r in baseline.rows]
        changed = len(head) + next(i for i, f in enumerate(PUBLISHED_FIELDS) if f.field == "changed_on")
        res.placed_csv = _csv(placed)
        res.placed_rows = len(placed)
        res.placed_iso_dates = all(_iso_date(r[changed]) for r in placed if r[changed])


_RULES: dict[tuple[str, tuple[tuple[str, int, int], ...]], Any] = {}


def _rules(rules_dir: Path | None) -> Any:
    """Rules.load once per rules folder in a worker process (sixty agencies of one profile: one load, not sixty);
    the folder's files' sizes and times are part of the key, so an edited profile is loaded again."""
    from .rules import Rules, default_rules_dir

    d = Path(rules_dir) if rules_dir else default_rules_dir()
    try:
        key = (str(d.resolve()), tuple(sorted((p.name, st.st_mtime_ns, st.st_size)
                                              for p in d.iterdir() if (st := p.stat()))))
    except OSError:
        return Rules.load(rules_dir)  # says what is wrong with the folder
    got = _RULES.get(key)
    if got is None:
        got = _RULES[key] = Rules.load(rules_dir)
    return got


def _finding_line(f: Any) -> str:
    where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "книга")
    sev = "ошибка" if f.severity is Severity.ERROR else "предупреждение"
    clause = f" (п. {f.clause})" if f.clause and f"п. {f.clause}" not in f.message else ""
    return f"• {where} — {sev}: {f.message}{clause}"


def _resolve(base: Path, value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else base / p


@dataclass(frozen=True)
class _Seen:
    """What the agency's journal says about its changes (read from the copy, see :func:`_read_journal`)."""

    observed: dict[str, dt.date] | None  # code → the day its change counts as made (:func:`clock.observed_days`)


def _read_journal(agency_output: Path, out: Path, res: AgencyResult, register: Any, rules: Any, *,
                  mode: str, today: dt.date) -> _Seen | None:
    """The agency's journal, read from ONE copy in a temporary folder of the region's output (the agency's
    files are never opened by SQLite, which would add -wal/-shm files beside them): the days its changes
    count as made, as the agency's own nightly run and ``perechen diff`` take them
    (:func:`perechen.clock.observed_days` in the agency's ``[approval] mode``), and its last recorded act.
    No journal: nothing observed, no act recorded (``observed`` None: in ``"inclusion"`` mode the typed «Дата
    изменения» counts, in ``"act"`` mode every change waits for the act), as in ``perechen diff`` without a
    journal. ``None`` when its copy cannot be read (``act_note`` says so): then the typed dates count."""
    from . import clock
    from .journal import JOURNAL_FILE, Journal

    src = agency_output / JOURNAL_FILE
    if not src.is_file():
        return _Seen(observed=None)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".journal-", dir=out) as tmp:
            copy = Path(tmp) / JOURNAL_FILE
            shutil.copyfile(src, copy)
            wal = src.with_name(src.name + "-wal")
            if wal.is_file():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            with Journal.open(copy, create=False) as journal:
                act = journal.last_act()
                observed = clock.observed_days(journal, clock.included_codes(register, rules), today=today,
                                               mode=mode)
    except (PerechenError, OSError) as e:
        res.act_note = f"Журнал изменений органа не прочитан: {getattr(e, 'message', None) or e}"
        return None
    if act is not None:
        res.act = {"number": act.number, "signed_on": act.signed_on.isoformat(), "title": act.title,
                   "text": f"{act.citation()} «{act.title}»"}
    return _Seen(observed=observed)


# ------------------------------------------------------------------------------------------------------------
# The run


@dataclass
class RegionResult:
    name: str
    output: Path
    today: dt.date
    agencies: list[AgencyResult]
    files: dict[str, Path] = field(default_factory=dict)
    mail: list[dict[str, Any]] = field(default_factory=list)
    workers: int = 1

    @property
    def rows(self) -> int:
        return sum(a.rows for a in self.agencies)

    @property
    def errors(self) -> int:
        return sum(a.errors for a in self.agencies)

    @property
    def exit_code(self) -> int:
        """0 every agency clean; 1 an agency with rule errors, an overdue change or an unreadable file."""
        return 0 if all(a.clean for a in self.agencies) else 1

    def to_json(self) -> dict[str, Any]:
        return {"region": self.name, "agencies": [a.to_json() for a in self.agencies], "rows": self.rows,
                "errors": self.errors}


def jobs(config: RegionConfig, today: dt.date, *, annotated: bool = True) -> list[AgencyJob]:
    """One job per agency; ``annotated``: write each agency's annotated copy (the attachment of its mail)."""
    out = config.output_dir / AGENCIES_DIR
    items = []
    for key, a in config.agencies.items():
        remote = (a.remote or config.remote).model_dump()
        items.append(AgencyJob(id=key, name=a.name, base_dir=str(config.base_dir), out_dir=str(out / key),
                               today=today, workbook=a.workbook, rules=a.rules, published=a.published,
                               config=a.config, email=a.email, inn=a.inn, remote=remote, annotated=annotated))
    return items


def worker_count(n_jobs: int, limit: int | None = None) -> int:
    return max(1, min(n_jobs, os.cpu_count() or 1, limit or n_jobs))


def read_all(items: Sequence[AgencyJob], *, workers: int | None = None,
             meanwhile: Callable[[], None] | None = None) -> list[AgencyResult]:
    """Every agency, in worker processes (see :func:`_context`); results in the jobs' order. ``meanwhile``: work of
    this process done while the workers read (after they started), not after them.

    The largest workbooks start first (a large one started last would keep one worker busy while the others have
    nothing left). A worker process that dies (killed, out of memory) breaks its pool: every agency it had not
    finished is read again — those that may have been under way when it died each alone, in a pool of one worker,
    so that only the agency that kills its worker ends as ``worker_failed``."""
    n = worker_count(len(items), workers)
    if n <= 1:
        if meanwhile is not None:
            meanwhile()
        return [read_agency(j) for j in items]
    if _context().get_start_method() == "fork":
        _warm(items)
    results: dict[str, AgencyResult] = {}
    todo = sorted(items, key=_size, reverse=True)  # stable: the jobs' order among equal sizes
    while todo:
        unfinished = _pool(todo, n, results, meanwhile)
        meanwhile = None
        # A pool hands its jobs to its workers in order, at most 2n + 1 at a time (n under way, n + 1 queued): the
        # agency that killed a worker is among the first 2n + 1 unfinished; the others never started.
        suspects, todo = unfinished[:2 * n + 1], unfinished[2 * n + 1:]
        for job in suspects:
            if _pool([job], 1, results, None):
                results[job.id] = AgencyResult(id=job.id, name=job.name, file_error={
                    "code": "worker_failed", "message": f"Обработка органа «{job.name}» прервана: рабочий процесс "
                                                        "завершился аварийно."})
    return [results[j.id] for j in items]


def _pool(todo: Sequence[AgencyJob], n: int, results: dict[str, AgencyResult],
          meanwhile: Callable[[], None] | None) -> list[AgencyJob]:
    """Read ``todo`` in a pool of ``n`` workers into ``results``; returns the jobs its broken pool did not finish."""
    unfinished: list[AgencyJob] = []
    unsent: list[AgencyJob] = []
    with ProcessPoolExecutor(max_workers=n, mp_context=_context(), initializer=_worker_start) as pool:
        futures: list[tuple[AgencyJob, Future[AgencyResult]]] = []
        for j in todo:
            try:
                futures.append((j, pool.submit(read_agency, j)))
            except BrokenProcessPool:  # a worker died before every job was handed over
                unsent.append(j)
        if meanwhile is not None:
            with contextlib.suppress(Exception):  # only a head start: the same work is done again, and fails, later
                meanwhile()
        for job, fut in futures:
            try:
                results[job.id] = fut.result()
            except BrokenProcessPool:  # a worker died: this job, and every one after it, is read again
                unfinished.append(job)
            except Exception as e:  # its result could not come back: this agency only
                results[job.id] = AgencyResult(id=job.id, name=job.name, file_error={
                    "code": "worker_failed", "message": f"Обработка органа «{job.name}» прервана: рабочий процесс "
                                                        f"завершился аварийно ({type(e).__name__})."})
    return unfinished + unsent


def _size(job: AgencyJob) -> float:
    """The size of the agency's workbook file, to start the largest first; a workbook on a server or named by the
    agency's own settings is started first (a download, a settings file: unknown, possibly long)."""
    if job.config or not job.workbook or is_url(job.workbook):
        return math.inf
    try:
        return _resolve(Path(job.base_dir), job.workbook).stat().st_size
    except OSError:
        return 0  # its worker names the error at once


def _worker_start() -> None:
    """A worker collects garbage as usual (:func:`read_agency` pauses it per agency), even when forked from the
    installed command's process, which runs without the collector (commands._common.collector_off_for_good)."""
    gc.enable()


def _warm(items: Sequence[AgencyJob]) -> None:
    """Before the workers fork: the modules, rules and report template every worker would load for its first agency
    (~0.1–0.2 s of CPU per worker), loaded once. A profile that cannot be loaded is left to its agency's worker, which
    names the error."""
    import encodings.cp437  # noqa: F401

    import python_calamine  # noqa: F401
    from defusedxml import ElementTree, common  # noqa: F401

    from . import checks, remote, stages, workdays  # noqa: F401
    from .reader import register  # noqa: F401
    from .renderers import check as check_pages

    # Also imported above: what a worker imported inside functions on its first agency (~50 ms of CPU per worker, found
    # with -X importtime) — the calamine engine, defusedxml, the zip names' codec, the reader, the working-day calendar.
    # The comparison, the store, the journal and the open data (~40 ms before the workers start) only when an agency
    # has a published folder (its own settings may name one); the annotated copy's engine only when mails carry it.
    if any(j.config or j.published for j in items):
        from . import clock, diff, journal, opendata, store  # noqa: F401
    if any(j.annotated for j in items):
        from . import annotate  # noqa: F401
    check_pages.warm()
    folders = {_resolve(Path(j.base_dir), j.rules) if j.rules else None for j in items if not j.config}
    for folder in folders:
        with contextlib.suppress(Exception):  # a broken profile is its agency's file error, named by its worker
            _rules(folder)


def _context() -> Any:
    """fork on Linux when this process runs no other thread (a worker starts with the modules already imported: no
    interpreter start and imports per worker, ~0.5 s of a 60-agency run), else spawn (Windows, macOS, or a process
    with threads, which fork would copy mid-lock; PERECHEN_SPAWN=1 forces it)."""
    import sys
    import threading

    if (os.environ.get("PERECHEN_SPAWN") or not sys.platform.startswith("linux")
            or threading.active_count() > 1):
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


def run_region(config: RegionConfig, *, today: dt.date | None = None, send_mail: bool = True,
               workers: int | None = None, on_agency: Callable[[AgencyResult], None] | None = None) -> RegionResult:
    """Read every agency, write the dashboard, the open data and region.json, send the mails."""
    today = today or dt.date.today()
    out = config.output_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RulesError("config_broken", f"Не удалось создать папку результатов региона {out} (ключ "
                                          f"«region.output» в {config.source or REGION_NAME}): "
                                          f"{os_reason(e)}.", out) from None
    # The annotated copy of a workbook is what an agency's mail carries; the dashboard links the HTML report. Without
    # such a mail the copy is not written (a quarter of an agency's time in a region run).
    mailing = send_mail and config.mail.enabled and config.mail.attach_workbook
    items = jobs(config, today, annotated=mailing)
    agencies = read_all(items, workers=workers, meanwhile=_prepare_outputs)
    result = RegionResult(name=config.region.name, output=out, today=today, agencies=agencies,
                          workers=worker_count(len(items), workers))
    if on_agency is not None:
        for a in agencies:
            on_agency(a)
    result.files.update(write_opendata(result, out / OPENDATA_DIR))
    from . import region_render  # not before the workers start: _prepare_outputs imports it while they read

    result.files.update(region_render.write_dashboard(result, out))
    if send_mail and config.mail.enabled:
        result.mail = [r.to_dict() for r in send_region_mail(config, result)]
    result.files["json"] = atomic_write(out / SUMMARY_NAME, json.dumps(
        {**result.to_json(), "today": today.isoformat(), "mail": result.mail,
         "details": [_detail(a) for a in agencies]}, ensure_ascii=False, indent=2) + "\n")
    return result


def _prepare_outputs() -> None:
    """What the dashboard and the open data need besides the agencies' results (their templates, the consolidated
    set's fields), made while the workers read: the steps after them add straight to the run's time."""
    from . import region_render

    region_render.warm()
    _region_fields()


_NOT_IN_DETAIL = ("placed_csv", "placed_rows", "placed_iso_dates")


def _detail(a: AgencyResult) -> dict[str, Any]:
    """An agency's entry of region.json's "details" (dumped at once): its fields in order, then ``placed_rows``;
    never the placed rows themselves."""
    d = {f.name: getattr(a, f.name) for f in dataclass_fields(a) if f.name not in _NOT_IN_DETAIL}
    d["placed_rows"] = a.placed_rows
    return d


# ------------------------------------------------------------------------------------------------------------
# The consolidated open data (methodical recommendations 3.0 + a Frictionless data package)

REGION_STRUCTURE_VERSION = "20261206"


def _region_fields() -> list[tuple[str, str, str]]:
    """(field, english, russian) of the consolidated set: the agency's columns, then the published ones."""
    from .opendata import PUBLISHED_FIELDS

    rules = _rules(None)  # the default profile, loaded once per process
    head = [("agency_id", "Agency identifier in the region's settings", "Идентификатор органа"),
            ("agency", "Executive body (agency) name", "Орган власти"),
            ("inn", "Agency taxpayer number (INN)", "ИНН органа")]
    from .opendata import russian_description

    return head + [(f.field, f.english, russian_description(rules, f.field)) for f in PUBLISHED_FIELDS]


# A cell opendata.neutralise could change starts with one of these (opendata.executable: «=», «@», TAB, CR, LF, a
# signed formula's «+»/«-», an apostrophe it doubles) or holds a DDE pipe «|»; any other cell is verbatim, unasked.
_MAYBE_EXECUTABLE = frozenset("=@\t\r\n+-'")


def _csv_cell(c: str) -> str:
    """One cell as csv.writer(QUOTE_MINIMAL, «,», «"», CRLF) writes it, neutralised first."""
    if c and (c[0] in _MAYBE_EXECUTABLE or "|" in c):
        from .opendata import neutralise

        c = neutralise(c)
    if "," in c or '"' in c or "\n" in c or "\r" in c:
        return '"' + c.replace('"', '""') + '"'
    return c


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    """The rows as CSV (UTF-8, «,», CRLF, quoted only where needed), each cell neutralised. Rows of two cells or more
    are joined here (~3× faster than csv.writer for a worker's 2,000 published rows; tests/test_region.py compares
    the two on random cells); a row of one cell goes through csv.writer, which quotes a lone empty cell."""
    if all(len(r) > 1 for r in rows):
        return "".join([",".join([_csv_cell(c) for c in r]) + "\r\n" for r in rows]).encode("utf-8")
    from .opendata import neutralise

    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=",", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerows([neutralise(c) for c in row] for row in rows)
    return buf.getvalue().encode("utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")


def write_opendata(result: RegionResult, folder: Path) -> dict[str, Path]:
    """data-<v>-structure-<s>.csv, structure-<s>.csv, meta.csv and datapackage.json of every placed row."""
    from .opendata import STANDARD_VERSION, valid_until

    fields = _region_fields()
    names = [f for f, _, _ in fields]
    dates: list[dt.date] = []
    for a in result.agencies:
        if a.placed_rows and a.placed_version:
            try:  # the day of the agency's last placement: its version folder «ГГГГ-ММ-ДД_ЧЧММСС»
                dates.append(dt.date.fromisoformat(a.placed_version[:10]))
            except ValueError:
                pass
    # The set changes when an agency places a new version, so its version is the latest placement day — not a
    # typed «Дата изменения», which left the set dated 2024 and «valid» expired on arrival (issue 11 item 16).
    updated = max(dates) if dates else result.today
    version = updated.strftime("%Y%m%d")
    data_name = f"data-{version}-structure-{REGION_STRUCTURE_VERSION}.csv"
    structure_name = f"structure-{REGION_STRUCTURE_VERSION}.csv"
    data = b"".join([_csv([names]), *(a.placed_csv for a in result.agencies)])  # the workers' lines, in order
    structure = _csv([["field name", "english description", "russian description", "format"],
                      *([f, en, ru, "string"] for f, en, ru in fields)])
    identifier = f"region-{_slug(_translit(result.name)) or 'region'}-touchpoints"
    title = f"Перечни точек взаимодействия с клиентом органов исполнительной власти ({result.name})"
    meta = [("standardversion", STANDARD_VERSION), ("identifier", identifier), ("title", title),
            ("description", "Точки взаимодействия с клиентами, размещённые органами власти региона на официальных "
                            "сайтах (последняя размещённая версия перечня каждого органа): орган, ИНН, код, "
                            "наименование, канал и вид точки, категория клиентов, удовлетворяемые потребности, "
                            "основание включения."),
            ("creator", result.name), ("created", version), ("modified", version),
            ("subject", "точки взаимодействия, клиентоцентричность, обращения, перечень, регион"),
            ("format", "CSV"), ("provenance", "Сводный набор проектного офиса региона (perechen region)."),
            ("valid", valid_until(updated).strftime("%Y%m%d")), ("publishername", result.name),
            ("publisherphone", ""), ("publishermbox", ""),
            (f"data-{version}-structure-{REGION_STRUCTURE_VERSION}", data_name),
            (f"structure-{REGION_STRUCTURE_VERSION}", structure_name)]
    all_dates = all(a.placed_iso_dates for a in result.agencies)
    from .opendata import PUBLISHED_FIELDS

    described = {o.field: o.russian for o in PUBLISHED_FIELDS}  # the consumer reads Russian (datapackage.json)
    schema_fields: list[dict[str, Any]] = []
    for f, _en, ru in fields:
        spec: dict[str, Any] = {"name": f, "title": ru, "description": described.get(f, ru), "type": "string"}
        if f in ("agency_id", "agency", "code"):
            spec["constraints"] = {"required": True}
        if f == "changed_on" and all_dates:
            spec["type"] = "date"
        schema_fields.append(spec)
    descriptor = {
        "profile": "tabular-data-package", "name": identifier, "title": title, "version": version,
        "created": updated.isoformat() + "T00:00:00Z",
        "resources": [{
            "profile": "tabular-data-resource", "name": "data", "path": data_name, "title": title,
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "bytes": len(data),
            "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "lineTerminator": "\r\n",
                        "header": True},
            "schema": {"fields": schema_fields, "primaryKey": ["agency_id", "code"]},
        }],
    }
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("data-*-structure-*.csv"):  # one current data file (the set is rebuilt each run)
        if old.name != data_name:
            old.unlink()
    files: dict[str, tuple[Path, bytes | str]] = {
        "opendata_data": (folder / data_name, data),
        "opendata_structure": (folder / structure_name, structure),
        "opendata_meta": (folder / "meta.csv", _csv([["property", "value"], *map(list, meta)])),
        "opendata_datapackage": (folder / "datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2)
                                 + "\n"),
    }
    return dict(zip(files, atomic_write_all(list(files.values())), strict=True))


def _iso_date(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


_TR = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
               ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


def _translit(text: str) -> str:
    return "".join(_TR.get(ch, ch) for ch in text.lower())


# ------------------------------------------------------------------------------------------------------------
# Mail


def state_lines(a: AgencyResult) -> list[str]:
    from .text import plural, ru_date, work_days

    if a.file_error:
        return [f"Книга не проверена: {a.file_error['message']}"]
    lines = [f"Точек в перечне: {a.rows}; ошибок: {a.errors}; предупреждений: {a.warnings}."]
    if not a.tracked:
        lines.append("Размещение на сайте не отслеживается (в region.toml не указана папка published органа).")
    elif not a.pending:
        lines.append("Неразмещённых изменений нет.")
    elif not a.placed_version:
        points = f"{a.pending} {plural(a.pending, 'точка', 'точки', 'точек')}"
        lines.append(f"Перечень ещё не размещался на официальном сайте (опубликованных версий нет): к первому "
                     f"размещению — {points}; срок п. 5.4 относится к изменениям размещённого перечня.")
    elif not a.deadline and a.waiting_for_act:
        lines.append(f"Изменений ждут размещения на официальном сайте: {a.pending}; ни одно ещё не утверждено "
                     "приказом — срок по п. 5.4 исчисляется со дня приказа.")
    elif not a.deadline:
        lines.append(f"Изменений ждут размещения на официальном сайте: {a.pending}; срок по п. 5.4 не исчисляется.")
    else:
        deadline = ru_date(dt.date.fromisoformat(a.deadline)) if a.deadline else "—"
        state = (f"ПРОСРОЧЕНО на {work_days(a.overdue)}" if a.overdue else
                 f"осталось {work_days(a.working_days_left or 0)}")
        lines.append(f"Изменений ждут размещения на официальном сайте: {a.pending}; срок по п. 5.4 — не позднее "
                     f"{deadline} ({state}).")
        if a.waiting_for_act:
            lines.append(f"Из них ещё не утверждены приказом: {a.waiting_for_act} — срок по ним исчисляется со "
                         "дня приказа.")
    if a.act:
        lines.append(f"Последний документ об утверждении: {a.act['text']}.")
    return lines


def compose_region_mail(config: RegionConfig, result: RegionResult) -> tuple[list[Any], list[str]]:
    """(mails, notes): one mail to each agency's уполномоченное лицо, one summary to the office."""
    from .mail import OutgoingMail, attachment_for, valid_address
    from .text import ru_date

    day = ru_date(result.today)
    mails: list[OutgoingMail] = []
    notes: list[str] = []
    for a in result.agencies:
        if not valid_address(a.email):
            notes.append(f"{a.name}: адрес уполномоченного лица не указан (email в region.toml или «Электронная "
                         "почта» на листе «Сведения»)")
            continue
        lines = [f"Уполномоченному лицу по ведению перечня точек взаимодействия с клиентом — {a.name}.", "",
                 f"Сводка проектного офиса ({result.name}) на {day}:", *state_lines(a)]
        if a.findings:
            lines += ["", "Замечания проверки:", *(f"  {f}" for f in a.findings)]
        if a.report:
            lines += ["", f"Отчёт проверки: {result.output / a.report}"]
        attachment, why_not = attachment_for(config.mail, result.output / a.annotated if a.annotated else None)
        if attachment is not None:
            lines.append("Копия книги с пометками приложена к письму.")
        elif why_not and a.annotated:
            lines.append(why_not)
        lines += ["", "Письмо отправлено программой perechen автоматически; отвечать на него не нужно."]
        mark = "ошибки" if a.file_error or a.errors else ("просрочено" if a.overdue else "ок")
        mails.append(OutgoingMail(purpose="agency", to=[a.email], person=a.id, text="\n".join(lines),
                                  attachments=[attachment] if attachment is not None else [],
                                  subject=f"Перечень точек взаимодействия: сводка проектного офиса — {a.name} — "
                                          f"{mark} — {day}"))
    office = config.region.office_email or config.mail.keeper
    if office and valid_address(office):
        lines = [f"Сводка по перечням точек взаимодействия органов власти — {result.name}, {day}.",
                 f"Органов: {len(result.agencies)}; точек: {result.rows}; ошибок: {result.errors}; "
                 f"с просрочкой размещения: {sum(1 for a in result.agencies if a.overdue)}; "
                 f"книга не прочитана: {sum(1 for a in result.agencies if a.file_error)}.", ""]
        for a in result.agencies:
            lines.append(f"{a.name}:")
            lines += [f"  {line}" for line in state_lines(a)]
        if notes:
            lines += ["", "Письма органам не отправлены:", *(f"  {n}" for n in notes)]
        lines += ["", f"Сводная страница: {result.files.get('html', result.output)}",
                  "", "Письмо отправлено программой perechen автоматически; отвечать на него не нужно."]
        bad = sum(1 for a in result.agencies if not a.clean)
        mails.append(OutgoingMail(purpose="office", to=[office], text="\n".join(lines),
                                  subject=f"Перечни точек взаимодействия: сводка по региону — {result.name} — "
                                          f"{'требуют внимания: ' + str(bad) if bad else 'замечаний нет'} — {day}"))
    return mails, notes


def send_region_mail(config: RegionConfig, result: RegionResult) -> list[Any]:
    from .mail import send_all

    mails, _ = compose_region_mail(config, result)
    return send_all(config.mail, mails, base_dir=config.base_dir)

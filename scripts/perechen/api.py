"""The facade: one library function per command. The click layer (cli.py, commands/) calls only these.

Imports point down: api → region → nightly → publish → stages (check, diff) → store / checks / reader → foundations.
No stage imports this module. The stages are imported inside the functions, so ``perechen check`` does not
pay for the diff, store, publication and mail modules.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import stages
from .config import Config
from .models import PerechenError, Register
from .reader import Progress
from .report import CheckReport
from .rules import Rules

if TYPE_CHECKING:
    from types import EllipsisType

    from .approval import Draft
    from .canonical import PublishedVersion
    from .compliance import ComplianceReport
    from .diff import DiffReport
    from .journal import ActRecord
    from .models import Finding
    from .nightly import NightlyResult
    from .profiles import ProfileCheck
    from .publish import PublishResult
    from .region import RegionConfig, RegionResult


def load_rules(config: Config) -> Rules:
    """``perechen rules``: the rules of the configured rules folder (PerechenError, exit 2, when unreadable)."""
    return stages.load_rules(config)


def init_workbook(path: Path, config: Config) -> Path:
    """``perechen init``: a new empty register workbook laid out by the rules' schema (lists, instructions)."""
    from .template import write_template

    return write_template(path, load_rules(config))


def copy_example(path: Path) -> Path:
    """``perechen init --example``: the sample register that ships inside the package, written to ``path``."""
    from .bundled import sample_workbook
    from .fsutil import atomic_write

    return atomic_write(path, sample_workbook().read_bytes())


def check_workbook(workbook: Path, config: Config, *, rules: Rules | None = None,
                   report_dir: Path | None = None, write_reports: bool = True, today: dt.date | None = None,
                   progress: Progress | None = None, register: Register | None = None) -> CheckReport:
    """``perechen check``: read the workbook, run every rule, and (unless told not to) write the reports folder."""
    return stages.check_workbook(workbook, config, rules=rules, report_dir=report_dir, write_reports=write_reports,
                                 today=today, progress=progress, register=register)


def diff_workbook(workbook: Path, config: Config, *, rules: Rules | None = None, against: Path | None = None,
                  today: dt.date | None = None, report_dir: Path | None = None, write_reports: bool = True,
                  progress: Progress | None = None, register: Register | None = None,
                  calendar: object | None = None) -> DiffReport:
    """``perechen diff``: the workbook's publishable rows against the baseline (LATEST, or ``against``); п. 5.3, 5.4.

    ``against`` is a version folder, its register.json, or an .xlsx register published before perechen.
    Raises PerechenError (exit 2) when the workbook, the baseline or the calendar cannot be read.
    """
    # Imported before the read, not after: the journal's modules (and the renderers they import) allocate enough
    # that, on the heap of a read 100,000-row register and its stored version, the collector would run a pass
    # over all of it (~0.2 s) before the comparison — the same modules on an empty heap cost nothing.
    from . import clock
    from .journal import journal_path
    from .reader import read_register

    rules = rules or load_rules(config)
    baseline: PublishedVersion | EllipsisType | None = ...
    if register is None and against is None:
        reg, baseline = stages.read_with_latest(workbook, config, rules, progress=progress)
    else:
        reg = register or read_register(workbook, rules, progress=progress)
    observed, waiting = None, None
    approved = None
    seen: dict[str, dt.date] = {}

    # The journal's days apply to the comparison with what is on the site; a diff never creates the journal.
    if against is None and journal_path(config.output_dir).is_file():
        journal, _ = clock.open_journal(config.output_dir, rules)
        with journal:
            observed = clock.observed_days(journal, clock.included_codes(reg, rules),
                                           today=today or dt.date.today(), mode=config.approval.mode)
            approved = clock.last_approved(config.output_dir, journal) if config.approval.mode == "act" else None
            seen = journal.made_days(by_act=False)
    report = stages.diff_workbook(workbook, config, rules=rules, against=against, today=today,
                                  report_dir=report_dir, write_reports=False, progress=progress, register=reg,
                                  calendar=calendar, observed=observed, baseline=baseline,
                                  term_from_act=against is None and config.approval.mode == "act")
    if against is None and config.approval.mode == "act":
        waiting = clock.act_waiting(report, approved, seen)
        report.act_waiting = waiting.to_dict()
    if write_reports:
        stages.write_diff(report, rules, config, report_dir)
    return report


def publish_workbook(workbook: Path, config: Config, *, target: str | None = None, dry_run: bool = False,
                     rules: Rules | None = None, today: dt.date | None = None, progress: Progress | None = None,
                     on_step: Callable[[str], None] | None = None, register: Register | None = None) -> PublishResult:
    """``perechen publish``: the workbook's «включено» rows on a target (perechen.publish).

    Refuses (status "refused", exit code 1) when the check finds rule errors; raises PerechenError (exit 2)
    when it cannot run or a step fails (PublishFailed names the step) — then output/published/LATEST stays
    where it was. ``on_step`` is called with each step's id before it runs (logs, tests); ``register``: the
    workbook already read (it is checked again, not re-read). Holds the run lock (output/.nightly.lock) like
    ``approve`` and the nightly run: a publication during a nightly run or the preparation of a draft act is
    refused (exit 2), so a draft is never compared with a version that is being placed.
    """
    from .publish import publish_workbook as publish

    if dry_run:  # a dry run writes nothing, not even a lock file
        return publish(workbook, config, target=target, dry_run=dry_run, rules=rules, today=today,
                       progress=progress, on_step=on_step, register=register)
    with _run_lock(config, "Публикация не выполнена"):
        return publish(workbook, config, target=target, dry_run=dry_run, rules=rules, today=today,
                       progress=progress, on_step=on_step, register=register)


def _run_lock(config: Config, what: str, *, wait: float = 0.0) -> contextlib.AbstractContextManager[None]:
    """The nightly run's OS lock (output/.nightly.lock), for approve and publish; busy → PerechenError, exit 2."""
    from . import locks

    path = config.output_dir / ".nightly.lock"
    return locks.exclusive(path, wait=wait, busy=lambda: PerechenError(
        "nightly_running", f"Сейчас идёт ночная проверка, публикация или подготовка проекта приказа (заблокирован "
                           f"{path}). {what}, чтобы не разойтись с размещением на официальном сайте; повторите "
                           "после её завершения.", path))


def nightly(config: Config, *, today: dt.date | None = None, demo: bool = False, send_mail: bool = True,
            workbook: Path | None = None) -> NightlyResult:
    """``perechen nightly``: lock, check, diff, publish when allowed, dashboard, mail, log (perechen.nightly).

    Raises perechen.locks.LockBusy (exit 2) when another run holds output/nightly.lock.
    """
    from .nightly import run_nightly

    return run_nightly(config, today=today, demo=demo, send_mail=send_mail, workbook=workbook)


@dataclass
class History:
    """``perechen history``: the published versions, oldest first, and what could not be read."""

    root: Path  # output/published
    latest: str | None  # the version LATEST names
    versions: list[PublishedVersion]
    damaged: list[dict[str, str]] = field(default_factory=list)  # {"version", "message"}


def history(config: Config) -> History:
    """The published versions of the register (output/published/), without their data."""
    from . import store

    damaged: list[dict[str, str]] = []

    def note(path: Path, err: Exception) -> None:
        damaged.append({"version": path.name, "message": str(getattr(err, "message", err))})

    latest = store.latest_name(config.output_dir)
    versions = store.list_versions(config.output_dir, with_register=False, on_error=note)
    return History(root=store.published_dir(config.output_dir), latest=latest, versions=versions, damaged=damaged)


def new_profile(folder: Path) -> Path:
    """``perechen profile new``: the default profile (the bundled rules) copied into ``folder`` with an instruction."""
    from .profiles import new_profile as make

    return make(folder)


def check_profile(folder: Path) -> ProfileCheck:
    """``perechen rules --rules DIR --check``: the profile's clauses, kinds and messages; its differences from the
    default profile. Raises RulesError (exit 2) when the profile cannot be read."""
    from .profiles import check_profile as check

    return check(folder)


# ------------------------------------------------------------------------------------------------------------
# Approval (issue 12): perechen approve, approve --record, report


@dataclass
class ApproveResult:
    """``perechen approve``: the draft written, or the errors that refused it (exit 1)."""

    status: str  # written | refused | unchanged (an act already approves exactly these rows)
    workbook: str
    draft: Draft | None = None
    errors: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # a rebuilt journal …

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "refused" else 0


def approve(workbook: Path, config: Config, *, rules: Rules | None = None, now: dt.datetime | None = None,
            register: Register | None = None, demo: bool = False, lock_wait: float = 0.0) -> ApproveResult:
    """``perechen approve``: freeze the rows to approve as a draft act in output/approvals/<id>/ (perechen.approval).

    Holds the nightly run's lock (a nightly run in progress → PerechenError «nightly_running», exit 2);
    refuses (exit 1) when the rows to approve or the sheet as a whole have rule errors.
    """
    from . import clock
    from .approval import ApprovalError, blocking_findings, prepare_draft
    from .reader import read_register

    rules = rules or load_rules(config)
    out = config.output_dir
    with _run_lock(config, "Проект приказа не подготовлен", wait=lock_wait):
        reg = register or read_register(workbook, rules)
        report = stages.check_workbook(workbook, config, rules=rules, write_reports=False, register=reg,
                                       today=(now or dt.datetime.now()).date())
        result = ApproveResult(status="written", workbook=str(workbook))
        blocking = blocking_findings(reg, rules, report.findings)
        if blocking:
            result.status, result.errors = "refused", blocking
            return result
        journal, rebuilt = clock.open_journal(out, rules)
        with journal:
            if rebuilt is not None:
                result.notes.append(rebuilt.message())
            try:
                result.draft = prepare_draft(reg, rules, out, journal, now=now, demo=demo)
            except ApprovalError as e:
                if e.code != "nothing_to_approve":
                    raise
                result.status = "unchanged"
                result.notes.append(e.message)
        return result


def record_act(config: Config, draft_id: str, *, number: str, date_text: str, title: str | None = None,
               today: dt.date | None = None, now: dt.datetime | None = None) -> ActRecord:
    """``perechen approve --record``: the signed act for exactly the draft ``draft_id`` (ApprovalError, exit 2)."""
    from . import clock
    from .approval import parse_act_date
    from .approval import record_act as record

    signed = parse_act_date(date_text)
    journal, _ = clock.open_journal(config.output_dir, load_rules(config))
    with journal:
        return record(config.output_dir, journal, draft_id, number=number, signed_on=signed, title=title,
                      today=today, now=now)


def compliance_report(config: Config, *, year: int | None = None, today: dt.date | None = None,
                      write_reports: bool = True) -> ComplianceReport:
    """``perechen report``: every change of the year and whether it was placed within п. 5.4 (perechen.compliance)."""
    from . import clock, compliance, store
    from .fsutil import make_dir, new_run_dir
    from .workdays import CalendarError, WorkCalendar

    rules = load_rules(config)
    today = today or dt.date.today()
    try:
        calendar = WorkCalendar.load(rules.directory)
    except CalendarError as e:
        raise PerechenError("calendar", f"Производственный календарь не загружен: {e}") from None
    year = year or today.year
    if not clock.has_journal(config.output_dir):  # nothing observed yet: no journal is made for an empty report
        blocker = next((p for p in (config.output_dir, *config.output_dir.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            make_dir(config.output_dir)  # an output folder under a file: the Russian OS message, exit 2
        return compliance.ComplianceReport(year=year, today=today, mode=config.approval.mode, observed=False,
                                           journal_exists=False)
    journal, _ = clock.open_journal(config.output_dir, rules)
    with journal:
        agency = ""
        latest = store.latest(config.output_dir)
        if latest is not None:
            agency = str((latest.register.get("info") or {}).get("agency") or "")
        report = compliance.compute(journal, calendar, year, today=today, mode=config.approval.mode,
                                    agency=agency)
        report.observed = bool(report.changes) or clock.observed_in(journal, year)
    if write_reports and report.observed:
        compliance.write_reports(report, new_run_dir(config.output_dir / "reports"))
    return report


def approval_history(config: Config) -> list[dict[str, object]]:
    """Acts beside placements, oldest first, from the journal (empty when there is none yet)."""
    from . import approval, clock
    from .journal import journal_path

    if not journal_path(config.output_dir).exists() and not (config.output_dir / "approvals").is_dir():
        return []
    journal, _ = clock.open_journal(config.output_dir, load_rules(config))
    with journal:
        return approval.history(journal)


def load_region(path: Path | None = None) -> RegionConfig:
    """region.toml (``--config``, else $PERECHEN_REGION, else ./region.toml); RulesError (exit 2) when broken."""
    from .region import load_region as load

    return load(path)


def region(config: RegionConfig, *, today: dt.date | None = None, send_mail: bool = True,
           workers: int | None = None) -> RegionResult:
    """``perechen region``: every agency of region.toml checked in worker processes; the dashboard, the open data
    and region.json in the region's output folder; a mail to each agency and a summary to the office.
    One agency's unreadable workbook or broken profile is its ``file_error``; nothing else is written."""
    from .region import run_region

    return run_region(config, today=today, send_mail=send_mail, workers=workers)

"""The facade: one library function per command. The click layer (cli.py, commands/) calls only these.

Imports point down: api → nightly → publish → stages (check, diff) → store / checks / reader → foundations.
No stage imports this module. The stages are imported inside the functions, so ``perechen check`` does not
pay for the diff, store, publication and mail modules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import stages
from .config import Config
from .models import Register
from .reader import Progress
from .report import CheckReport
from .rules import Rules

if TYPE_CHECKING:
    from .canonical import PublishedVersion
    from .diff import DiffReport
    from .nightly import NightlyResult
    from .profiles import ProfileCheck
    from .publish import PublishResult


def load_rules(config: Config) -> Rules:
    """``perechen rules``: the rules of the configured rules folder (PerechenError, exit 2, when unreadable)."""
    return stages.load_rules(config)


def init_workbook(path: Path, config: Config) -> Path:
    """``perechen init``: a new empty register workbook laid out by the rules' schema (lists, instructions)."""
    from .template import write_template

    return write_template(path, load_rules(config))


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
    return stages.diff_workbook(workbook, config, rules=rules, against=against, today=today, report_dir=report_dir,
                                write_reports=write_reports, progress=progress, register=register, calendar=calendar)


def publish_workbook(workbook: Path, config: Config, *, target: str | None = None, dry_run: bool = False,
                     rules: Rules | None = None, today: dt.date | None = None, progress: Progress | None = None,
                     on_step: Callable[[str], None] | None = None, register: Register | None = None) -> PublishResult:
    """``perechen publish``: the workbook's «включено» rows on a target (perechen.publish).

    Refuses (status "refused", exit code 1) when the check finds rule errors; raises PerechenError (exit 2)
    when it cannot run or a step fails (PublishFailed names the step) — then output/published/LATEST stays
    where it was. ``on_step`` is called with each step's id before it runs (logs, tests); ``register``: the
    workbook already read (it is checked again, not re-read).
    """
    from .publish import publish_workbook as publish

    return publish(workbook, config, target=target, dry_run=dry_run, rules=rules, today=today,
                   progress=progress, on_step=on_step, register=register)


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

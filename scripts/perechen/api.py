"""Library entry points, one per command. The click layer calls exactly one of these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .fsutil import atomic_write, new_run_dir
from .models import Register
from .reader import Progress, read_register
from .report import CheckReport
from .rules import Rules

if TYPE_CHECKING:  # `perechen check` must not pay for importing the diff and store modules
    from .diff import DiffReport
    from .publish import PublishResult


def load_rules(config: Config) -> Rules:
    return Rules.load(config.rules_dir)


def check_workbook(workbook: Path, config: Config, *, rules: Rules | None = None,
                   report_dir: Path | None = None, write_reports: bool = True, today: dt.date | None = None,
                   progress: Progress | None = None, register: Register | None = None) -> CheckReport:
    """Read the workbook, run every rule, and (unless told not to) write the reports folder."""
    from .checks import run_checks

    rules = rules or load_rules(config)
    reg = register or read_register(workbook, rules, progress=progress)
    params = {"review-overdue": {"review_days": config.review_days}} if config.review_days else None
    findings = run_checks(reg, rules, today=today, params=params)
    report = CheckReport(workbook=str(workbook), rows=len(reg.rows), findings=findings, register=reg)
    if write_reports:
        out = report_dir if report_dir is not None else new_run_dir(config.output_dir / "reports")
        out.mkdir(parents=True, exist_ok=True)
        report.report_dir = out
        write_check_reports(report, rules, out, progress=progress)
    return report


def write_check_reports(report: CheckReport, rules: Rules, out: Path, *, progress: Progress | None = None) -> None:
    """JSON always; the HTML page and the annotated workbook copy when their renderers are present."""
    report.files["json"] = atomic_write(out / "report.json", report.to_json())
    try:
        from . import render
    except ImportError:  # pragma: no cover - renderers arrive with the check issue
        return
    render.write_check_reports(report, rules, out, progress=progress)


def diff_workbook(workbook: Path, config: Config, *, rules: Rules | None = None, against: Path | None = None,
                  today: dt.date | None = None, report_dir: Path | None = None, write_reports: bool = True,
                  progress: Progress | None = None, register: Register | None = None,
                  calendar: object | None = None) -> DiffReport:
    """Compare the workbook's publishable rows with the baseline (LATEST, or ``against``); п. 5.3 and 5.4.

    ``against`` is a version folder, its register.json, or an .xlsx register published before perechen.
    Raises PerechenError (exit 2) when the workbook, the baseline or the calendar cannot be read.
    """
    from . import diff, store

    rules = rules or load_rules(config)
    reg = register or read_register(workbook, rules, progress=progress)
    baseline = store.load_baseline(against, rules) if against is not None else store.latest(config.output_dir)
    report = diff.compare(reg, rules, baseline, today=today or dt.date.today(), calendar=calendar)
    if write_reports:
        out = report_dir if report_dir is not None else new_run_dir(config.output_dir / "reports")
        diff.write_diff_reports(report, rules, out)
    return report


def publish_workbook(workbook: Path, config: Config, *, target: str | None = None, dry_run: bool = False,
                     rules: Rules | None = None, today: dt.date | None = None, progress: Progress | None = None,
                     on_step: Callable[[str], None] | None = None, register: Register | None = None) -> PublishResult:
    """Publish the workbook's «включено» rows to a target (perechen.publish); returns a PublishResult.

    Refuses (status "refused", exit code 1) when the check finds rule errors; raises PerechenError (exit 2)
    when it cannot run or a step fails (PublishFailed names the step) — then output/published/LATEST stays
    where it was. ``on_step`` is called with each step's id before it runs (logs, tests); ``register``: the
    workbook already read (it is checked again, not re-read).
    """
    from .publish import publish_workbook as _publish

    return _publish(workbook, config, target=target, dry_run=dry_run, rules=rules, today=today,
                    progress=progress, on_step=on_step, register=register)


def nightly(config: Config, *, today: dt.date | None = None, demo: bool = False, send_mail: bool = True,
            workbook: Path | None = None) -> object:
    """The scheduled job (perechen.nightly): lock, check, diff, publish when allowed, dashboard, mail, log.

    Returns a NightlyResult (exit_code, summary, run_dir, dashboard, log_file, lines); raises
    perechen.lock.LockBusy (exit 2) when another run holds output/nightly.lock.
    """
    from .nightly import run_nightly

    return run_nightly(config, today=today, demo=demo, send_mail=send_mail, workbook=workbook)

"""The check and diff stages: read the workbook (once), compute, write the reports folder.

``perechen check`` and ``perechen diff`` reach them through :mod:`perechen.api`; publish and nightly call them
directly (a stage never imports the facade). The rule engine is :mod:`perechen.checks`, the comparison
:mod:`perechen.diff`, the published versions :mod:`perechen.store`; this module only runs them and writes reports.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .fsutil import atomic_write, make_dir, new_run_dir
from .models import Register
from .reader import Progress, read_register
from .report import CheckReport
from .rules import Rules

if TYPE_CHECKING:  # `perechen check` must not pay for importing the diff and store modules
    from types import EllipsisType

    from .canonical import PublishedVersion
    from .diff import DiffReport


def load_rules(config: Config) -> Rules:
    """The rules of the configured rules folder (raises PerechenError, exit 2, when they cannot be loaded)."""
    return Rules.load(config.rules_dir)


def check_workbook(workbook: Path, config: Config, *, rules: Rules | None = None,
                   report_dir: Path | None = None, write_reports: bool = True, today: dt.date | None = None,
                   progress: Progress | None = None, register: Register | None = None,
                   annotated: bool = True, sync: bool = True) -> CheckReport:
    """Read the workbook, run every rule, and (unless told not to) write the reports folder (``annotated=False``:
    report.json and the HTML page without the annotated copy of the workbook; ``sync=False``: written without
    fsync, for a copy its run rebuilds from scratch — see :func:`perechen.fsutil.atomic_write`)."""
    from .checks import run_checks

    rules = rules or load_rules(config)
    reg = register or read_register(workbook, rules, progress=progress)
    params = {"review-overdue": {"review_days": config.review_days}} if config.review_days else None
    findings = run_checks(reg, rules, today=today, params=params)
    report = CheckReport(workbook=str(workbook), rows=reg.n_rows, findings=findings, register=reg)
    if write_reports:
        out = report_dir if report_dir is not None else new_run_dir(config.output_dir / "reports")
        make_dir(out)
        report.report_dir = out
        write_check_reports(report, rules, out, progress=progress, annotated=annotated, sync=sync)
    return report


def write_check_reports(report: CheckReport, rules: Rules, out: Path, *, progress: Progress | None = None,
                        annotated: bool = True, sync: bool = True) -> None:
    """report.json, the HTML page and (unless ``annotated=False``) the annotated copy of the workbook."""
    from .renderers import check  # the OOXML engine: only a run that writes reports pays for importing it

    report.files["json"] = atomic_write(out / "report.json", report.to_json(), sync=sync)
    check.write_check_reports(report, rules, out, progress=progress, annotated=annotated, sync=sync)


def diff_workbook(workbook: Path, config: Config, *, rules: Rules | None = None, against: Path | None = None,
                  today: dt.date | None = None, report_dir: Path | None = None, write_reports: bool = True,
                  progress: Progress | None = None, register: Register | None = None,
                  calendar: object | None = None, observed: dict[str, dt.date] | None = None,
                  baseline: PublishedVersion | EllipsisType | None = ..., term_from_act: bool = False) -> DiffReport:
    """Compare the workbook's publishable rows with the baseline (LATEST, or ``against``); п. 5.3 and 5.4.

    ``against`` is a version folder, its register.json, or an .xlsx register published before perechen.
    ``observed``: code → the day the journal saw its change made (perechen.clock), the start of the 5.4 clock;
    ``term_from_act`` (``[approval] mode = "act"``): those are the acts' dates, a change without one waits for the act.
    ``baseline``: the baseline already loaded (see :func:`read_with_latest`); ``...`` loads it here.
    Raises PerechenError (exit 2) when the workbook, the baseline or the calendar cannot be read.
    """
    from . import diff, store
    from .renderers.diff import write_diff_reports

    rules = rules or load_rules(config)
    reg = register or read_register(workbook, rules, progress=progress)
    if baseline is ...:
        baseline = store.load_baseline(against, rules) if against is not None else store.latest(config.output_dir)
    report = diff.compare(reg, rules, baseline, today=today or dt.date.today(), calendar=calendar,
                          observed=observed, term_from_act=term_from_act)
    if write_reports:
        out = report_dir if report_dir is not None else new_run_dir(config.output_dir / "reports")
        write_diff_reports(report, rules, out)
    return report


def read_with_latest(workbook: Path, config: Config, rules: Rules, *,
                     progress: Progress | None = None) -> tuple[Register, PublishedVersion | None]:
    """The workbook read and the latest published version loaded at the same time: the stored register.json.gz is
    inflated and parsed in a thread while calamine parses the workbook (which it does without the GIL). Errors as
    in sequence: the workbook's first, then the store's."""
    from concurrent.futures import ThreadPoolExecutor

    from . import store

    with ThreadPoolExecutor(1, thread_name_prefix="perechen-baseline") as pool:
        loading = pool.submit(store.latest, config.output_dir)
        reg = read_register(workbook, rules, progress=progress)
    return reg, loading.result()


def write_diff(report: DiffReport, rules: Rules, config: Config, report_dir: Path | None = None) -> None:
    """diff.json, diff.html and diff.xlsx into ``report_dir`` (a new run folder of output/reports/ by default)."""
    from .renderers.diff import write_diff_reports

    out = report_dir if report_dir is not None else new_run_dir(config.output_dir / "reports")
    write_diff_reports(report, rules, out)

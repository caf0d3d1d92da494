"""The nightly run's summary as typed data: what ``perechen nightly`` did, shown by every consumer.

:class:`NightlySummary` is the one interface between the nightly run (which fills it), the mails, the run
page ``summary.html``, the dashboard ``index.html`` and the command's printed lines. It is stored as
``output/reports/<run>/nightly.json`` and summarised per run into ``output/reports/history.jsonl``
(:class:`HistoryEntry`).

Both files are read back for the dashboard, including files written by earlier versions of perechen: every
field has a default (but a history line's ``run``), unknown keys are ignored, a file or line that does not
validate is skipped like an unreadable one, and the schema version is stored under the JSON key
``"version"`` (``schema_version`` in Python). A file written before the history lines carried a version is
read as version 1 — its shape is the same.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from .text import ru_size

SUMMARY_VERSION = 1
HISTORY_VERSION = 1


_VERSION_KEYS = AliasChoices("version", "schema_version")  # stored as "version"; both accepted when read


class _Part(BaseModel):
    """Lenient on input (files of earlier runs), typed on access; attributes are assigned as the run goes."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False, populate_by_name=True)


# --------------------------------------------------------------------------------------------------
# Parts of the summary
# --------------------------------------------------------------------------------------------------

class FileErrorPart(_Part):
    """Why the run could not check the workbook (unreadable workbook, broken rules, no place for reports)."""

    code: str = "error"
    message: str = ""


class RunError(_Part):
    """A stage that failed (exit code 2), or the dashboard that could not be rewritten."""

    stage: str = ""
    code: str = "error"
    message: str = ""


class RecoveredLock(_Part):
    """The lock of an interrupted run, removed at the start of this one (all None when it was unreadable)."""

    pid: int | None = None
    host: str | None = None
    started: str | None = None  # ISO date-time
    run_dir: str | None = None


class CountItem(_Part):
    value: str = ""
    count: int = 0


class ResponsibleCounts(_Part):
    responsible: str = ""
    errors: int = 0
    warnings: int = 0
    infos: int = 0


class SeverityCounts(_Part):
    errors: int = 0
    warnings: int = 0
    infos: int = 0


class CheckPart(_Part):
    """The check of the workbook: counts, rows by status and channel, findings per responsible person."""

    rows: int = 0
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    by_status: list[CountItem] = Field(default_factory=list)
    by_channel: list[CountItem] = Field(default_factory=list)
    by_responsible: list[ResponsibleCounts] = Field(default_factory=list)
    whole_workbook: SeverityCounts = Field(default_factory=SeverityCounts)


class ChangeItem(_Part):
    """One change waiting for publication (a row by its code, or a field of the «Сведения» sheet)."""

    code: str = ""
    name: str = ""
    kind: str = ""
    clause: str | None = None
    what: str = ""
    title: str = ""
    fields: list[str] = Field(default_factory=list)
    row: int | None = None
    changed_on: str | None = None  # ISO date
    date_from_run: bool = False
    deadline: str | None = None  # ISO date
    working_days_left: int | None = None
    overdue: bool | None = None
    awaits_act: bool = False  # "act" mode: no act approved it yet — no day made, no п. 5.4 term before the act


class StageItem(_Part):
    """One pending change (by code) and its stage: observed, included, approved, placed (issue 12 item 8)."""

    code: str = ""
    cases: list[str] = Field(default_factory=list)
    what: str = ""
    stage: str = ""  # observed | included | approved | placed
    stage_text: str = ""
    made_on: str | None = None  # ISO date the change counts as made (п. 5.4)
    deadline: str | None = None
    working_days_left: int | None = None
    overdue: bool = False


class ApprovalPart(_Part):
    """The approval of the Перечень (п. 5.1): the mode, the act the site cites, what waits for an act."""

    mode: str = "inclusion"  # inclusion | act
    act: str | None = None  # «Перечень утверждён приказом от … № …» (None: no act recorded)
    waiting_for_act: int | None = None  # "act" mode: included changes the last approved draft does not hold
    waiting_since: str | None = None  # ISO date of the earliest of them
    waiting_codes: list[str] = Field(default_factory=list)
    stages: list[StageItem] = Field(default_factory=list)
    demo_act: str | None = None  # the demonstration act recorded by ``nightly --demo``
    warnings: list[str] = Field(default_factory=list)  # typed dates contradicting the journal, a rebuilt journal


class DiffPart(_Part):
    """The comparison with the published version and the 5.4 deadline."""

    baseline: str | None = None
    pending_changes: int = 0
    changes_list: list[ChangeItem] = Field(default_factory=list)
    pending_review: int = 0
    pending_review_codes: list[str] = Field(default_factory=list)
    warnings: list[str | None] = Field(default_factory=list)
    publication_required: bool = False
    earliest_change: str | None = None  # ISO date
    deadline: str | None = None  # ISO date
    working_days_left: int | None = None
    overdue: bool = False
    overdue_working_days: int | None = None
    published_now: bool = False
    first_placement: bool = False  # no published version yet: the placement of п. 5.2, no 5.4 term
    waiting_for_act: int = 0  # "act" mode: codes among the changes no act approved yet (their term starts with it)


class PublishPart(_Part):
    """The automatic publication: why it was not attempted (``reason``), or what it did."""

    auto: bool = False
    attempted: bool = False
    ok: bool | None = None
    target: str | None = None
    version: str | None = None
    text: str = ""
    reason: str | None = None  # auto_off | rule_errors | no_diff | no_changes | unavailable
    error: str | None = None
    status: str | None = None  # published | unchanged | refused | dry_run
    location: str | None = None
    page_url: str | None = None
    page_href: str | None = None
    urls: dict[str, str] = Field(default_factory=dict)
    log_file: str | None = None
    warnings: list[str] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _only_what_happened(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``error`` and what the target answered are stored only when the run got that far (as before)."""
        data: dict[str, Any] = handler(self)
        for key in _OUTCOME_KEYS:
            if key not in self.model_fields_set:
                data.pop(key, None)
        return data


_OUTCOME_KEYS = ("error", "status", "location", "page_url", "page_href", "urls", "log_file", "warnings")


class MailSent(_Part):
    """One mail and whether the SMTP server took it."""

    purpose: str = ""  # keeper | responsible
    to: list[str] = Field(default_factory=list)
    ok: bool = False
    error: str | None = None
    person: str | None = None


class MailPart(_Part):
    enabled: bool = False
    results: list[MailSent] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)  # responsible persons without an address
    text: str = ""


class DiskPart(_Part):
    """One top-level part of output/ and the bytes it holds."""

    name: str = ""  # the folder's name in output/ (``other``: files directly in output/)
    label: str = ""
    bytes: int = 0

    @property
    def size_text(self) -> str:
        return ru_size(self.bytes)


#: What each part of output/ is, for people (unknown folders are shown by their name).
DISK_PART_LABELS = {
    "reports": "отчёты ночных проверок (output/reports)",
    "published": "опубликованные версии — хранятся всегда (output/published)",
    "approvals": "черновики и акты утверждения — хранятся всегда (output/approvals)",
    "site": "страница для сайта (output/site)",
    "logs": "журналы работы (output/logs)",
    "journal": "журнал изменений, приказов и размещений — хранится всегда (output/journal.sqlite)",
    ".remote": "загруженная с сервера копия книги (output/.remote)",
    "other": "прочие файлы в output",
}


class DiskUsage(_Part):
    """The disk used by output/ when the dashboard was made (total and by part, largest first)."""

    total: int = 0
    parts: list[DiskPart] = Field(default_factory=list)

    @property
    def total_text(self) -> str:
        return ru_size(self.total)

    @classmethod
    def from_bytes(cls, usage: dict[str, int]) -> DiskUsage:
        """From :func:`perechen.retention.disk_usage` (``{part: bytes, …, "total": bytes}``)."""
        parts = [DiskPart(name=k, label=DISK_PART_LABELS.get(k, f"output/{k}"), bytes=int(v))
                 for k, v in usage.items() if k != "total"]
        parts.sort(key=lambda p: (-p.bytes, p.name))
        return cls(total=int(usage.get("total", sum(p.bytes for p in parts))), parts=parts)


# --------------------------------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------------------------------

class NightlySummary(_Part):
    """One nightly run (``nightly.json``); ``check`` / ``diff`` / ``publish`` are None for stages not reached."""

    schema_version: int = Field(default=SUMMARY_VERSION, validation_alias=_VERSION_KEYS, serialization_alias="version")
    run: str | None = None  # the run folder's name, YYYY-MM-DD_HHMMSS
    started: str = ""  # ISO date-time
    started_text: str = ""  # DD.MM.YYYY HH:MM
    finished: str | None = None
    today: str = ""  # ISO date the deadlines are counted from
    demo: bool = False
    workbook: str = ""
    status: str | None = None  # ok | warnings | errors | overdue | failed
    exit_code: int | None = None
    file_error: FileErrorPart | None = None
    failure_title: str | None = None
    lock_owner: str | None = None
    agency: str | None = None
    recovered_lock: RecoveredLock | None = None
    check: CheckPart | None = None
    diff: DiffPart | None = None
    publish: PublishPart | None = None
    approval: ApprovalPart | None = None
    mail: MailPart = Field(default_factory=MailPart)
    keeper_email: str | None = None
    report_dir: str | None = None
    files: dict[str, str] = Field(default_factory=dict)  # key -> path relative to the run folder
    errors: list[RunError] = Field(default_factory=list)
    log_file: str | None = None
    overdue: bool = False  # changes still unpublished after the 5.4 deadline (exit code 1)
    timings: dict[str, float] = Field(default_factory=dict)

    def to_json(self) -> str:
        """The text of ``nightly.json``."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2)

    @classmethod
    def load(cls, path: Path) -> NightlySummary | None:
        """A run's ``nightly.json``, or None when it is missing or not a summary."""
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        try:
            return cls.model_validate(data)
        except ValidationError:
            return None


# --------------------------------------------------------------------------------------------------
# The history of runs
# --------------------------------------------------------------------------------------------------

class HistoryEntry(_Part):
    """One line of ``history.jsonl``: a run in a few numbers (the chart and the list of runs)."""

    schema_version: int = Field(default=HISTORY_VERSION, validation_alias=_VERSION_KEYS,
                                serialization_alias="version")
    run: str
    started: str | None = None
    finished: str | None = None
    status: str | None = None  # the summary's status, or "interrupted"
    exit_code: int | None = None
    demo: bool = False
    workbook: str | None = None
    rows: int | None = None
    errors: int | None = None  # None: the workbook was not checked
    warnings: int | None = None
    pending_changes: int | None = None
    pending_review: int | None = None
    deadline: str | None = None
    working_days_left: int | None = None
    overdue: bool = False
    published: bool | None = None  # None: not attempted
    publish_text: str | None = None
    mail_sent: int = 0
    mail_failed: int = 0
    file_error: str | None = None
    keeper_email: str | None = None
    files: dict[str, str] = Field(default_factory=dict)  # key -> path relative to output/reports

    @classmethod
    def from_summary(cls, s: NightlySummary) -> HistoryEntry:
        run = str(s.run)
        chk, diff, pub = s.check, s.diff, s.publish
        sent = [r for r in s.mail.results if r.ok]
        return cls(
            run=run, started=s.started, finished=s.finished, status=s.status, exit_code=s.exit_code, demo=s.demo,
            workbook=s.workbook,
            rows=chk.rows if chk else None, errors=chk.errors if chk else None,
            warnings=chk.warnings if chk else None,
            pending_changes=None if diff is None else (0 if diff.published_now else diff.pending_changes),
            pending_review=diff.pending_review if diff else None,
            deadline=diff.deadline if diff else None,
            working_days_left=diff.working_days_left if diff else None,
            overdue=s.overdue,
            published=pub.ok if pub is not None and pub.attempted else None,
            publish_text=pub.text if pub is not None else None,
            mail_sent=len(sent), mail_failed=len(s.mail.results) - len(sent),
            file_error=s.file_error.message if s.file_error else None,
            keeper_email=s.keeper_email,
            files={k: f"{run}/{v}" for k, v in s.files.items()},
        )

    @classmethod
    def interrupted(cls, run: str, started: dt.datetime, pid: int | None, host: str | None,
                    files: dict[str, str]) -> HistoryEntry:
        """A run killed while holding the lock."""
        return cls(run=run, started=started.isoformat(timespec="seconds"), status="interrupted",
                   file_error=f"Запуск прерван (процесс {pid} на компьютере {host}).", files=files)

    @classmethod
    def parse(cls, data: Any) -> HistoryEntry | None:
        """A line read from ``history.jsonl`` (None for anything that is not a run)."""
        if not isinstance(data, dict) or not data.get("run"):
            return None
        try:
            return cls.model_validate(data)
        except ValidationError:
            return None

    def to_line(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), ensure_ascii=False) + "\n"

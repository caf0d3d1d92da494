"""``perechen nightly``: the scheduled job — lock, read, check, diff, publish, dashboard, mail, log.

Order of work (each step's outcome goes into the run summary ``nightly.json``):

1. take ``output/nightly.lock`` (:mod:`perechen.locks`); held by a running job → :class:`~perechen.locks.LockBusy`
   (exit 2, nothing written); the lock of a killed run is free (the OS released it) and that run is recorded
   in the history as interrupted;
2. open the rotating log ``output/logs/nightly.log``; create ``output/reports/<YYYY-MM-DD_HHMMSS>/``;
3. read the workbook (the reader retries while it is being saved and names who has it open); an unreadable
   workbook still gets ``report.json`` (``{"file_error": …}``) and ``summary.html`` in the run folder;
4. check (all reports of ``perechen check`` into the run folder), then diff against the published version —
   the day each change was made comes from the journal (``output/journal.sqlite``, :mod:`perechen.clock`),
   and this run's observation is recorded there (rows under review as «observed»); ``--demo`` then prepares
   a draft act and records a demonstration act («демонстрационный приказ»);
5. publish only when ``publish.auto = true``, the rows to publish and the sheet as a whole have no rule errors
   (errors of «черновик» / «на проверке» rows never hold it back) and there are changes to place; with
   ``[approval] mode = "act"`` the last approved draft's frozen rows, when they are not on the site yet. The
   placement is recorded in the journal; each pending change's stage goes to the summary (the dashboard);
6. mail the summary (keeper + each responsible person with findings), unless mail is off;
7. write ``nightly.json`` and ``summary.html``, append to ``output/reports/history.jsonl`` and rewrite
   ``output/reports/index.html`` atomically.

Exit code: 2 when the job could not do its work (lock busy, settings/rules broken, workbook unreadable,
diff or publication failed, internal error); else 1 when the check found rule errors or the 5.4 deadline
has passed for changes still unpublished; else 0. A mail that could not be sent is logged and shown in
the summary but does not change the exit code (the register's state does not depend on it).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import bundled, publish, stages
from .config import Config, MailConfig, PublishConfig, TargetConfig
from .diff import CASE_PHRASES, info_labels, restricted
from .fsutil import atomic_write, new_run_dir
from .locks import LockInfo, RunLock
from .models import FileError, PerechenError, Register
from .nightly_log import start_logging, stop_logging
from .nightly_text import OutputLine, output_lines
from .remote import is_url
from .retention import prune_reports
from .summary import (
    SUMMARY_VERSION,
    ApprovalPart,
    ChangeItem,
    CheckPart,
    CountItem,
    DiffPart,
    FileErrorPart,
    HistoryEntry,
    MailPart,
    MailSent,
    NightlySummary,
    PublishPart,
    RecoveredLock,
    ResponsibleCounts,
    RunError,
    SeverityCounts,
    StageItem,
)
from .text import ru_date, ru_date_text, ru_datetime

log = logging.getLogger("perechen.nightly")

SUMMARY_FILE = "nightly.json"
RUN_PAGE = "summary.html"
LOCK_NAME = "nightly.lock"
NO_RESPONSIBLE = "Ответственный не указан"

BUNDLED_WORKBOOK = bundled.sample_workbook()  # ships inside the package (importlib.resources)

# The stages as the log and the dashboard name them (the keys stay in nightly.json's timings).
STAGE_NAMES = {"rules": "загрузка правил", "read": "чтение книги", "check": "проверка", "diff": "сравнение",
               "publish": "публикация", "approval": "утверждение и срок размещения",
               "file_error_report": "отчёт о нечитаемой книге", "mail": "письма", "summary": "итоги запуска"}
# The fields of the summary a printed line reports (``perechen nightly --quiet`` prints only QUIET_FIELDS).
# «overdue»: the deadline lines of a run whose exit code 1 comes from п. 5.4, not from errors — cron says why.
QUIET_FIELDS = frozenset({"file_error", "check", "errors", "overdue", "dashboard"})


@dataclass
class NightlyResult:
    exit_code: int
    summary: NightlySummary
    run_dir: Path | None
    dashboard: Path | None
    log_file: Path | None
    output: list[OutputLine] = field(default_factory=list)  # what the command prints

    @property
    def lines(self) -> list[str]:
        return [ln.text for ln in self.output]

    def printed(self, *, quiet: bool = False) -> list[str]:
        """The lines of ``perechen nightly``; with ``quiet``, only those about QUIET_FIELDS."""
        return [ln.text for ln in self.output if not quiet or ln.field in QUIET_FIELDS]


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------

def demo_config(config: Config) -> Config:
    """The bundled workbook, the folder target, automatic publication, no mail."""
    cfg = config.model_copy(deep=True)
    cfg.workbook = str(BUNDLED_WORKBOOK)
    cfg.publish = PublishConfig(auto=True, target="folder", dataset_code=config.publish.dataset_code)
    cfg.targets = {"folder": TargetConfig(type="folder")}
    cfg.mail = MailConfig(enabled=False)
    return cfg


def run_nightly(config: Config, *, today: dt.date | None = None, demo: bool = False, send_mail: bool = True,
                now: dt.datetime | None = None, workbook: Path | None = None) -> NightlyResult:
    """Run the whole nightly job. Raises :class:`~perechen.locks.LockBusy` when another run holds the lock."""
    if demo:
        config = demo_config(config)
        send_mail = False
    out = config.output_dir
    lock = RunLock(out / LOCK_NAME, max_age=dt.timedelta(hours=config.nightly.lock_max_age_hours))
    lock.acquire()
    try:
        handler, log_file = start_logging(out / "logs", config)
        try:
            return _Run(config, lock, today=today, demo=demo, send_mail=send_mail, now=now,
                        workbook=workbook, log_file=log_file).run()
        finally:
            stop_logging(handler)
    finally:
        lock.release()


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------

class _Run:
    def __init__(self, config: Config, lock: RunLock, *, today: dt.date | None, demo: bool, send_mail: bool,
                 now: dt.datetime | None, workbook: Path | None, log_file: Path | None) -> None:
        self.config = config
        self.lock = lock
        self.started = now or dt.datetime.now()
        self.today = today or self.started.date()
        self.demo = demo
        self.send_mail = send_mail and config.mail.enabled
        self.workbook = Path(workbook) if workbook else config.workbook_path
        self.remote = workbook is None and is_url(config.workbook)  # fetched in _read (perechen.remote)
        self.from_config = workbook is None  # _read asks the config (a fresh folder gets its how-to message)
        self.log_file = log_file
        self.reports_root = config.output_dir / "reports"
        self.run_dir: Path | None = None
        self.rules: Any = None
        self.register: Register | None = None
        self.findings: list[dict[str, Any]] = []
        self.failures: list[str] = []  # reasons for exit code 2
        self.timings: dict[str, float] = {}
        self.report: Any = None
        self.blocking = 0  # rule errors that hold back the publication (publish.blocking_errors)
        self.diff_result: Any = None
        self.calendar: Any = None
        self.journal: Any = None  # perechen.journal.Journal, open from the diff stage to the end of the run
        self.approved: Any = None  # (ActRecord, Draft) of the last recorded act
        self.act_mode = config.approval.mode == "act"
        self.observed_at = dt.datetime.combine(self.today, self.started.time()).replace(microsecond=0)
        self.s = NightlySummary(
            schema_version=SUMMARY_VERSION,
            started=self.started.isoformat(timespec="seconds"),
            started_text=ru_datetime(self.started),
            today=self.today.isoformat(),
            demo=demo,
            workbook=str(self.workbook),
            mail=MailPart(enabled=self.send_mail),
            log_file=str(log_file) if log_file else None,
        )
        self.files = self.s.files

    # -- orchestration ---------------------------------------------------------------------------
    def run(self) -> NightlyResult:
        from .dashboard import STATUS_TEXT, append_history, note_interrupted

        log.info("Ночная проверка начата: книга %s%s", self.workbook, " (демонстрация)" if self.demo else "")
        self._note_recovered(note_interrupted)
        try:
            self.run_dir = new_run_dir(self.reports_root, self.started)
        except PerechenError as e:
            # Nowhere to write reports: say so and stop (exit 2).
            log.error("%s", e.message)
            self.s.file_error = FileErrorPart(code=e.code, message=e.message)
            self.s.status, self.s.exit_code = "failed", 2
            return NightlyResult(2, self.s, None, None, self.log_file,
                                 [OutputLine("file_error", f"Ошибка: {e.message}")])
        self.lock.set_run_dir(self.run_dir)
        self.s.run = self.run_dir.name
        self.s.report_dir = str(self.run_dir)

        readable = self._stage("rules", self._load_rules) and self._stage("read", self._read)
        if readable:
            checked = self._stage("check", self._check)
            if checked:
                diffed = self._stage("diff", self._diff)
                self._stage("publish", lambda: self._publish(diffed))
                if self.journal is not None:
                    self._stage("approval", self._stages)
        else:
            self._stage("file_error_report", self._file_error_report)
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        self._decide_exit()
        self._stage("mail", self._mail)  # SMTP failures are recorded inside; only a bug fails this stage
        self._decide_exit()
        self.s.finished = dt.datetime.now().isoformat(timespec="seconds")
        self.s.timings = self.timings
        if not self._stage("summary", self._write_summary):
            self._decide_exit()
        try:
            append_history(self.reports_root, HistoryEntry.from_summary(self.s),
                           keep=self.config.nightly.history_keep)
        except (OSError, PerechenError) as e:
            log.error("Не удалось дописать историю запусков: %s", e)
        self._prune_reports()
        dashboard = self._dashboard()
        log.info("Ночная проверка завершена: код выхода %s (%s).", self.s.exit_code,
                 STATUS_TEXT.get(self.s.status or "", self.s.status))
        assert self.s.exit_code is not None
        return NightlyResult(self.s.exit_code, self.s, self.run_dir, dashboard, self.log_file,
                             output_lines(self.s, run_dir=self.run_dir, log_file=self.log_file,
                                          dashboard=dashboard))

    def _stage(self, name: str, fn: Callable[[], Any]) -> bool:
        t0 = time.monotonic()
        shown = STAGE_NAMES.get(name, name)
        try:
            result = fn()
            return result is not False
        except PerechenError as e:
            log.error("Этап «%s»: %s", shown, e.message)
            self._fail(name, e.message, code=e.code)
            return False
        except Exception as e:
            log.error("Этап «%s»: внутренняя ошибка %s\n%s", shown, type(e).__name__,
                      "".join(traceback.format_exception(e)))
            self._fail(name, f"внутренняя ошибка perechen ({type(e).__name__}) на этапе «{shown}»; подробности "
                             f"в журнале {self.log_file or 'output/logs'}.", code="internal")
            return False
        finally:
            self.timings[name] = round(time.monotonic() - t0, 3)

    def _fail(self, stage: str, message: str, *, code: str = "error") -> None:
        self.failures.append(message)
        self.s.errors.append(RunError(stage=stage, code=code, message=message))

    def _note_recovered(self, note_interrupted: Callable[..., Any]) -> None:
        held: LockInfo | None = self.lock.recovered
        if held is None and not self.lock.recovered_unreadable:
            return
        if held is None:
            log.warning("Снята повреждённая блокировка прерванного запуска.")
            self.s.recovered_lock = RecoveredLock()
            return
        log.warning("Снята блокировка прерванного запуска (%s).", held.describe())
        self.s.recovered_lock = RecoveredLock(pid=held.pid, host=held.host,
                                              started=held.started.isoformat(timespec="seconds"),
                                              run_dir=held.run_dir)
        try:
            note_interrupted(self.reports_root, held, keep=self.config.nightly.history_keep)
        except (OSError, PerechenError) as e:
            log.error("Не удалось отметить прерванный запуск в истории: %s", e)

    # -- stages ----------------------------------------------------------------------------------
    def _load_rules(self) -> None:
        try:
            self.rules = stages.load_rules(self.config)
        except PerechenError as e:
            self.s.failure_title = "Правила проверки не загружены"
            self.s.file_error = FileErrorPart(code=e.code, message=e.message)
            raise

    def _read(self) -> None:
        from .reader import lock_owner, read_register

        try:
            if self.from_config:
                self.config.fetch_workbook()
            self.register = read_register(self.workbook, self.rules)
        except FileError as e:
            owner = lock_owner(self.workbook)
            msg = e.message
            if owner:
                msg += f" Книга открыта пользователем: {owner}."
                self.s.lock_owner = owner
            self.s.file_error = FileErrorPart(code=e.code, message=msg)
            self.s.failure_title = "Книгу не удалось прочитать"
            raise FileError(e.code, msg, e.path) from None
        self.s.lock_owner = self.register.lock_owner
        if self.register.lock_owner:
            log.info("Книга открыта пользователем %s; проверена последняя сохранённая версия.",
                     self.register.lock_owner)
        log.info("Книга прочитана: лист «%s», строк %d.", self.register.sheet, self.register.n_rows)

    def _file_error_report(self) -> None:
        assert self.run_dir is not None
        fe = self.s.file_error or (self.s.errors[-1] if self.s.errors else FileErrorPart())
        self.s.file_error = FileErrorPart(code=fe.code, message=fe.message)
        doc = {"workbook": str(self.workbook), "file_error": self.s.file_error.model_dump()}
        atomic_write(self.run_dir / "report.json", json.dumps(doc, ensure_ascii=False, indent=2))
        self.files["json"] = "report.json"

    def _check(self) -> None:
        assert self.register is not None and self.run_dir is not None
        report = stages.check_workbook(self.workbook, self.config, rules=self.rules, report_dir=self.run_dir,
                                register=self.register, today=self.today)
        for key, path in report.files.items():
            self.files[key] = _rel(Path(path), self.run_dir)
        self.report = report
        reg = self.register
        self.blocking = len(publish.blocking_errors(report.findings, reg, self.rules))
        by_row = {r.number: r for r in reg.rows}
        code_field = "code"
        per: dict[str, Counter[str]] = {}
        for f in report.findings:
            d = f.to_dict()
            row = by_row.get(f.row) if f.row is not None else None
            if row is not None:
                person = row.text("responsible").strip() or NO_RESPONSIBLE
                d["responsible"] = person
                d["row_code"] = row.text(code_field) or None
            else:
                person = None
                d["responsible"] = None
                d["row_code"] = None
            self.findings.append(d)
            if person is not None:
                per.setdefault(person, Counter())[f.severity.value] += 1
        ordered = sorted(per.items(), key=lambda pc: (-pc[1]["error"], -pc[1]["warning"], pc[0]))
        by_resp = [ResponsibleCounts(responsible=p, errors=c["error"], warnings=c["warning"], infos=c["info"])
                   for p, c in ordered]
        whole = Counter(f.severity.value for f in report.findings if f.row is None or f.row not in by_row)
        self.s.check = CheckPart(
            rows=report.rows,
            errors=report.errors,
            warnings=report.warnings,
            infos=report.infos,
            by_status=self._count_by("status"),
            by_channel=self._count_by("channel"),
            by_responsible=by_resp,
            whole_workbook=SeverityCounts(errors=whole["error"], warnings=whole["warning"], infos=whole["info"]),
        )
        keeper = (reg.info or {}).get("email")
        self.s.keeper_email = keeper or None
        self.s.agency = (reg.info or {}).get("short_name") or (reg.info or {}).get("agency")
        log.info("Проверка: ошибок %d, предупреждений %d, справочно %d.", report.errors, report.warnings,
                 report.infos)

    def _count_by(self, field_name: str) -> list[CountItem]:
        assert self.register is not None
        column = self.rules.columns.get(field_name)
        list_name = getattr(column, "ref_list", None)
        counts: Counter[str] = Counter()
        for row in self.register.rows:
            text = row.text(field_name).strip()
            if not text:
                counts["(не заполнено)"] += 1
                continue
            value = text
            if list_name:
                try:
                    m = self.rules.match(list_name, text)
                except KeyError:
                    m = None
                if m is not None:
                    value = m.item.value
            counts[value] += 1
        order: list[str] = []
        if list_name and list_name in self.rules.lists:
            order = [it.value for it in self.rules.lists[list_name].items]
        items = [CountItem(value=v, count=counts[v]) for v in order if counts.get(v)]
        items += [CountItem(value=v, count=n) for v, n in sorted(counts.items()) if v not in order]
        return items

    def _diff(self) -> bool:
        assert self.run_dir is not None
        from . import clock

        assert self.register is not None
        self.calendar = self._calendar()
        mode = self.config.approval.mode
        appr = self.s.approval = ApprovalPart(mode=mode)
        self.journal, rebuilt = clock.open_journal(self.config.output_dir, self.rules)
        if rebuilt is not None:
            appr.warnings.append(rebuilt.message())
            log.warning("%s", rebuilt.message())
        observed = clock.observed_days(self.journal, clock.included_codes(self.register, self.rules),
                                       today=self.today, mode=mode)
        result = stages.diff_workbook(self.workbook, self.config, rules=self.rules, report_dir=self.run_dir,
                                      register=self.register, today=self.today, write_reports=False,
                                      calendar=self.calendar, observed=observed, term_from_act=self.act_mode)
        clock.observe(self.journal, result, self.register, self.rules, observed_at=self.observed_at)
        if self.demo:
            self._demo_act()
        self.approved = clock.last_approved(self.config.output_dir, self.journal)
        if self.approved is not None:
            appr.act = clock.act_citation(self.journal, upto=self.approved[0])
        if self.act_mode:
            waiting = clock.act_waiting(result, self.approved, self.journal.made_days(by_act=False))
            result.act_waiting = waiting.to_dict()
            appr.waiting_for_act, appr.waiting_codes = waiting.count, list(waiting.codes)
            appr.waiting_since = waiting.since.isoformat() if waiting.since else None
            log.info("Ждут приказа: %d включённых изменений%s.", waiting.count,
                     f" (с {ru_date(waiting.since)})" if waiting.since else "")
        stages.write_diff(result, self.rules, self.config, self.run_dir)
        for key, path in result.files.items():
            self.files[f"diff_{key}"] = _rel(Path(path), self.run_dir)
        self.diff_result = result
        d = self.s.diff = self._diff_summary(result)
        term = (f"срок размещения {ru_date_text(d.deadline)}, осталось рабочих дней {d.working_days_left}"
                if d.deadline else f"ждут приказа {d.waiting_for_act}, срок — со дня приказа" if d.waiting_for_act
                else "срока размещения нет")
        log.info("Сравнение с версией %s: изменений %d, ждут проверки %d, %s%s.",
                 d.baseline or "(нет опубликованной)", d.pending_changes, d.pending_review, term,
                 ", ПРОСРОЧЕНО" if d.overdue else "")
        return True

    def _demo_act(self) -> None:
        """``nightly --demo``: a draft and a demonstration act («демонстрационный приказ») for the bundled register."""
        from .approval import TITLE_SUFFIX_DEMO, ApprovalError, blocking_findings, prepare_draft, record_act

        assert self.register is not None and self.s.approval is not None
        if self.report is not None and blocking_findings(self.register, self.rules, self.report.findings):
            self.s.approval.warnings.append("демонстрационный приказ не подготовлен: в утверждаемых строках есть "
                                            "ошибки.")
            return
        try:
            draft = prepare_draft(self.register, self.rules, self.config.output_dir, self.journal,
                                  now=self.observed_at, demo=True)
        except ApprovalError as e:
            if e.code == "nothing_to_approve":
                return
            raise
        title = ("Об утверждении перечня точек взаимодействия с клиентом" if draft.kind == "approve" else
                 "О внесении изменений в перечень точек взаимодействия с клиентом") + TITLE_SUFFIX_DEMO
        act = record_act(self.config.output_dir, self.journal, draft.id, number="ДЕМО", signed_on=self.today,
                         title=title, today=self.today, now=self.observed_at)
        self.s.approval.demo_act = (f"{act.citation()} «{act.title}» — демонстрационный приказ, записан "
                                    f"автоматически к проекту {draft.id} ({draft.docx}); настоящий приказ "
                                    "подписывает руководитель, его записывает perechen approve --record.")
        log.info("Демонстрация: %s", self.s.approval.demo_act)

    def _stages(self) -> None:
        """Each pending change's stage (observed, included, approved, placed) with working days left."""
        from . import clock

        appr = self.s.approval
        assert appr is not None and self.journal is not None
        rows = clock.pending_stages(self.journal, self.calendar, today=self.today, mode=self.config.approval.mode,
                                    placed_since=self.observed_at)
        appr.stages = [StageItem.model_validate(r.to_dict()) for r in rows]

    def _diff_summary(self, result: Any) -> DiffPart:
        data: dict[str, Any] = result.to_dict()
        cal = self.calendar
        listed: list[ChangeItem] = []
        del cal  # the deadlines are the diff's own (one clock: diff.change_day and diff._deadline)
        for ch in getattr(result, "changes", []):
            what = CASE_PHRASES.get(ch.kind, str(ch.kind))
            item = ChangeItem(code=ch.code, name=ch.name or "", kind=ch.kind, clause=ch.clause, what=what,
                              title=f"{ch.name} — {what}" if ch.name else what, fields=sorted(ch.fields),
                              row=ch.row, changed_on=ch.change_date.isoformat() if ch.change_date else None,
                              date_from_run=bool(getattr(ch, "date_from_run", False)),
                              awaits_act=bool(getattr(ch, "awaits_act", False)))
            if ch.deadline is not None:
                item.deadline = ch.deadline.isoformat()
                item.working_days_left = ch.working_days_left
                item.overdue = ch.overdue
            listed.append(item)
        info_changes = dict(getattr(result, "info_changes", {}) or {})
        if info_changes:
            labels = info_labels(result, self.rules)
            shown = ", ".join(f"«{x}»" for x in labels)
            listed.append(ChangeItem(code="Сведения", name=shown, kind="info",
                                     what="изменение сведений на листе «Сведения» (не случай п. 5.3)",
                                     title=f"Лист «Сведения»: изменено {shown}", fields=labels))
        listed.sort(key=lambda c: (c.deadline or "9999", c.code))
        return DiffPart(
            baseline=data.get("baseline"),
            pending_changes=len(listed),
            changes_list=listed,
            pending_review=len(data.get("pending_review") or []),
            pending_review_codes=list(data.get("pending_review") or [])[:200],
            warnings=[w.get("message") for w in (data.get("warnings") or [])][:200],
            publication_required=bool(data.get("publication_required")),
            earliest_change=data.get("earliest_change"),
            deadline=data.get("deadline"),
            working_days_left=data.get("working_days_left"),
            overdue=bool(data.get("overdue")),
            overdue_working_days=getattr(result, "overdue_working_days", None),
            published_now=False,
            first_placement=result.baseline is None and bool(listed),
            waiting_for_act=len(result.awaiting_act),
        )

    def _calendar(self) -> Any:
        from .workdays import WorkCalendar

        try:
            return WorkCalendar.load(self.rules.directory)
        except Exception as e:
            log.warning("Производственный календарь не загружен: %s", e)
            return None

    def _publish(self, diffed: bool) -> None:
        auto = self.config.publish.auto
        chk = self.s.check
        diff = self.s.diff
        pub = self.s.publish = PublishPart(auto=auto, target=self.config.publish.target)
        if not auto:
            pub.reason = "auto_off"
            pub.text = "не выполнялась: автоматическая публикация выключена (publish.auto = false в perechen.toml)."
            if diff is not None and diff.publication_required:  # what the уполномоченное лицо does next
                pub.text += " Изменения ждут размещения на официальном сайте: разместите их командой perechen publish."
        elif self.act_mode and diffed:
            self._act_publication(pub)
        elif chk is not None and self.blocking:
            pub.reason = "rule_errors"
            pub.text = (f"не выполнялась: ошибки в строках, которые размещаются, или в книге в целом "
                        f"({self.blocking}); на официальном сайте остаётся прежняя версия перечня.")
        elif not diffed or diff is None:
            pub.reason = "no_diff"
            pub.text = "не выполнялась: не удалось сравнить книгу с опубликованной версией."
        elif not diff.publication_required:
            pub.reason = "no_changes"
            pub.text = "не требуется: изменений относительно опубликованной версии, которые нужно разместить, нет."
        if pub.reason is not None:
            log.info("Публикация %s", pub.text)
            return
        pub.attempted = True
        log.info("Публикация: цель «%s».", self.config.publish.target)
        try:
            # The register nightly checked is handed over: one read of the workbook for the whole run.
            result = publish.publish_workbook(self.workbook, self.config, rules=self.rules, register=self.register,
                                              today=self.today, target=self.config.publish.target, observe=False,
                                              now=lambda: self.observed_at)
        except PerechenError as e:
            pub.ok = False
            pub.error = e.message
            pub.text = f"НЕ выполнена: {e.message} Следующий ночной запуск повторит попытку."
            raise
        status = pub.status = result.status
        pub.version = result.version
        pub.location = result.location or None
        pub.page_url = result.page_url
        pub.page_href = _href(pub.page_url)
        pub.urls = dict(result.urls)
        pub.log_file = result.log_file
        pub.warnings = list(result.warnings)
        where = f"цель «{self.config.publish.target}»" + (f" ({pub.location})" if pub.location else "")
        if status in ("published", "unchanged"):
            pub.ok = True
            pub.text = (f"выполнена: {where}, версия {pub.version}." if status == "published" else
                        f"не понадобилась: на сайте ({where}) уже актуальная версия.")
            log.info("Публикация: %s", pub.text)
            appr = self.s.approval
            if diff is not None and self.act_mode and appr is not None and appr.waiting_for_act:
                # Only the approved changes went on the site: the rest still waits for an act, with its own term.
                self.s.diff = self._diff_summary(restricted(self.diff_result, set(appr.waiting_codes), self.rules,
                                                            self.calendar))
            elif diff is not None:
                diff.published_now = True
        else:
            reasons = " ".join(r.message for r in result.reasons) or f"статус «{status}»."
            pub.ok = False
            pub.error = reasons
            pub.text = f"НЕ выполнена: {reasons} Опубликованная версия осталась прежней."
            raise PerechenError("publish_refused", pub.text)

    def _act_publication(self, pub: PublishPart) -> None:
        """``"act"`` mode: place the last approved draft's rows when they are not on the site yet."""
        from . import store

        if self.approved is None:
            pub.reason = "no_act"
            pub.text = ("не выполнялась: перечень утверждается приказом ([approval] mode = \"act\"), а приказ ещё "
                        "не записан (perechen approve, затем perechen approve --record).")
            return
        act, draft = self.approved
        latest = store.latest(self.config.output_dir)
        if latest is not None and latest.fingerprint == draft.fingerprint:
            pub.reason = "no_changes"
            pub.text = (f"не требуется: на официальном сайте уже строки, утверждённые приказом от "
                        f"{ru_date(act.signed_on)} № {act.number}.")

    def _decide_exit(self) -> None:
        chk, diff = self.s.check, self.s.diff
        overdue = bool(diff is not None and diff.overdue and diff.pending_changes and not diff.published_now)
        if self.failures or self.s.file_error:
            status, code = "failed", 2
        elif chk is not None and chk.errors:
            status, code = "errors", 1
        elif overdue:
            status, code = "overdue", 1
        elif chk is not None and chk.warnings:
            status, code = "warnings", 0
        else:
            status, code = "ok", 0
        self.s.status, self.s.exit_code = status, code
        self.s.overdue = overdue

    def _mail(self) -> None:
        from .mail import (
            attachment_for,
            compose_keeper,
            compose_responsible,
            responsible_address,
            send_all,
            split_addresses,
        )

        mcfg = self.config.mail
        m = self.s.mail
        if not self.send_mail:
            # «в perechen.toml» only when there is one: without settings mail is off by default.
            off = (f"mail.enabled = false в {self.config.source.name}" if self.config.source is not None
                   else "почта не настроена: нет perechen.toml с разделом [mail]")
            why = ("демонстрационный запуск" if self.demo else off if not mcfg.enabled else "указан --no-mail")
            m.text = f"не отправлялись: почта выключена ({why})."
            return
        keeper_to = split_addresses(mcfg.keeper) or split_addresses(self.s.keeper_email)
        if not keeper_to and not self.s.keeper_email:
            keeper_to = split_addresses(_last_keeper(self.reports_root))
        xlsx = self.files.get("xlsx")
        attach, note = attachment_for(mcfg, (self.run_dir / xlsx) if xlsx and self.run_dir else None)
        dashboard = (self.reports_root / "index.html").resolve()
        mails = []
        missing: list[str] = []
        per: dict[str, list[dict[str, Any]]] = {}
        for f in self.findings:
            if f.get("responsible") and f.get("severity") in ("error", "warning"):
                per.setdefault(f["responsible"], []).append(f)
        for person, items in sorted(per.items()):
            to = responsible_address(mcfg, person)
            if not to:
                missing.append(person)
                continue
            items.sort(key=lambda f: (f.get("severity") != "error", f.get("row") or 0))
            mails.append(compose_responsible(self.s, person, items, to=to, attachment=attach, attachment_note=note))
        if keeper_to:
            mails.insert(0, compose_keeper(self.s, sorted(self.findings, key=lambda f: (
                f.get("severity") != "error", f.get("row") or 0)), to=keeper_to, attachment=attach,
                missing=missing, dashboard=dashboard, attachment_note=note))
        else:
            log.warning("Адрес уполномоченного лица (п. 2.1), которому отправляется сводка, не известен: укажите "
                        "mail.keeper в perechen.toml или «Электронная почта» на листе «Сведения».")
            m.text = ("Адрес уполномоченного лица (п. 2.1) не известен (mail.keeper или «Электронная "
                      "почта» на листе «Сведения»): сводка ему не отправлена.")
        m.missing = sorted(set(missing))
        if not mails:
            m.text = m.text or "не отправлялись: некому."
            return
        results = send_all(mcfg, mails, base_dir=self.config.base_dir)
        m.results = [MailSent(purpose=r.purpose, to=r.to, ok=r.ok, error=r.error, person=r.person)
                     for r in results]
        sent = sum(1 for r in results if r.ok)
        failed = [r for r in results if not r.ok]
        if failed:
            m.text = (f"отправлено {sent} из {len(results)}; НЕ отправлено: {len(failed)} — "
                      f"{failed[0].error}")
        else:
            m.text = f"отправлено {sent}."
        if missing:
            m.text += f" Нет адреса для: {', '.join(sorted(set(missing)))}."

    # -- outputs ---------------------------------------------------------------------------------
    def _write_summary(self) -> None:
        from .dashboard import render_run_page

        assert self.run_dir is not None
        self.files["summary"] = RUN_PAGE
        self.files["nightly"] = SUMMARY_FILE
        atomic_write(self.run_dir / SUMMARY_FILE, self.s.to_json())
        atomic_write(self.run_dir / RUN_PAGE, render_run_page(self.s, self.findings))

    def _prune_reports(self) -> None:
        """Old report folders go ([retention] in perechen.toml); published versions and acts never. Never fails."""
        r = self.config.retention
        try:
            res = prune_reports(self.config.output_dir, keep_days=r.reports_keep_days, keep_count=r.reports_keep_count,
                                now=self.started, protect=[self.run_dir] if self.run_dir else [])
        except OSError as e:
            log.warning("Старые папки отчётов не удалены: %s", e)
            return
        if res.removed:
            log.info("Удалены старые папки отчётов: %d (освобождено %.1f МБ).", len(res.removed),
                     res.freed_bytes / 1_048_576)
        for err in res.errors:
            log.warning("Не удалось удалить старую папку отчётов %s", err)

    def _dashboard(self) -> Path | None:
        from .dashboard import write_dashboard

        try:
            return write_dashboard(self.reports_root, chart_runs=self.config.nightly.chart_runs,
                                   output_dir=self.config.output_dir)
        except PerechenError as e:  # e.g. index.html open in another program: the run's own work is done
            log.warning("Сводка index.html не обновлена: %s", e.message)
            self.s.errors.append(RunError(stage="dashboard", code=e.code, message=e.message))
            return None
        except Exception as e:
            log.error("Сводка index.html не обновлена: %s\n%s", e, "".join(traceback.format_exception(e)))
            self.s.errors.append(RunError(stage="dashboard", code="dashboard", message=str(e)))
            return None


def _href(url: str | None) -> str | None:
    """A link for the published page: http(s) as is, a local file as a file:// URI."""
    if not url:
        return None
    if url.startswith(("https://", "http://")):
        return url
    p = Path(url)
    return p.resolve().as_uri() if p.is_absolute() else None


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(path, base)


def _last_keeper(reports_root: Path) -> str | None:
    """The keeper's address seen by the latest readable run (for a night when the workbook is unreadable)."""
    from .dashboard import load_history

    for entry in reversed(load_history(reports_root)):
        if entry.keeper_email:
            return entry.keeper_email
    return None

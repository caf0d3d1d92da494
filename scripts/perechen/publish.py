"""``perechen publish``: the approved register on the agency's site (пп. 5.2, 5.4 of the order).

Order of work — the baseline (output/published/LATEST) moves only at the very end:

1. check the workbook (no reports written); a rule error in a row that would be published, or in the sheet as a
   whole, refuses the publication, listing the errors (exit 1) — errors of «черновик» / «на проверке» rows never
   do (:func:`blocking_errors`): a colleague's unfinished draft must not make the agency miss п. 5.4;
2. take the canonical published data (:func:`perechen.canonical.publication_rows`: the «включено» rows, and the
   published rows under review in their last published form) and render the page, the .xlsx and the open data
   (:mod:`perechen.opendata`); a new data version is dated by the day it is placed;
3. the target (:mod:`perechen.targets`) brings the site to that content — writing only what differs —
   and reads every file and the page back, comparing sha256 / the data fingerprint;
4. only then a new version is committed to the store and LATEST moves to it.

A failure at any step raises :class:`~perechen.targets.base.PublishFailed` naming the step; LATEST is left
where it was and a rerun finishes the job without duplicates (targets are idempotent).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import locks, store
from .canonical import INCLUDED, PublishedVersion, canonical_register, canonical_value, with_current_lists
from .config import Config
from .diff import code_changes, compare
from .journal import Journal, journal_path
from .journal_rebuild import NoDeadlineCalendar
from .models import Finding, Notice, PerechenError, Register, Severity
from .opendata import DataVersion, Publication, add_months
from .rules import Rules
from .stages import check_workbook, load_rules
from .targets.base import Action, ProgressFn, PublishFailed, RunContext, SiteContent, StepHook, redact
from .text import ru_date, ru_datetime

STATUS_TEXT = {
    "published": "опубликовано",
    "unchanged": "на сайте уже актуальная версия, ничего не изменено",
    "refused": "публикация отклонена",
    "dry_run": "пробный запуск, на сайте ничего не изменено",
}


@dataclass
class PublishResult:
    status: str  # published | unchanged | refused | dry_run
    target: str
    target_type: str
    location: str = ""
    workbook: str = ""
    fingerprint: str | None = None
    rows: int = 0
    updated: dt.date | None = None
    baseline: str | None = None  # LATEST before this run
    version: str | None = None  # the version committed by this run
    actions: list[Action] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    page_url: str | None = None
    changes: dict[str, list[str]] = field(default_factory=dict)
    errors: list[Finding] = field(default_factory=list)
    reasons: list[Notice] = field(default_factory=list)  # why a publication was refused
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log_file: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "refused" else 0

    @property
    def writes(self) -> list[Action]:
        return [a for a in self.actions if a.writes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "target": self.target,
            "target_type": self.target_type,
            "location": self.location,
            "workbook": self.workbook,
            "fingerprint": self.fingerprint,
            "rows": self.rows,
            "updated": self.updated.isoformat() if self.updated else None,
            "baseline": self.baseline,
            "version": self.version,
            "actions": [a.to_dict() for a in self.actions],
            "changed_on_site": len(self.writes),
            "urls": self.urls,
            "page_url": self.page_url,
            "changes": self.changes,
            "errors": [f.to_dict() for f in self.errors],
            "reasons": [r.message for r in self.reasons],
            "reason_codes": [r.code for r in self.reasons],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "log_file": self.log_file,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def render_text(result: PublishResult) -> str:
    """A short Russian account of the run for the terminal."""
    lines: list[str] = []
    if result.status == "refused":
        lines.append(f"Публикация отклонена: {result.workbook}.")
        lines.extend(f"  {r.message}" for r in result.reasons)
        for f in result.errors:
            where = f"{f.location}: " if f.location else ""
            lines.append(f"  {where}{f.message}")
        if result.errors or any(r.code == "rule_errors" for r in result.reasons):  # not for no_act
            lines.append("Исправьте ошибки (perechen check покажет их подробно) и запустите публикацию снова.")
        return "\n".join(lines)
    head = {"published": "Опубликовано", "unchanged": "Без изменений", "dry_run": "Пробный запуск (--dry-run)"}
    lines.append(f"{head.get(result.status, result.status)}: цель «{result.target}» ({result.target_type}) "
                 f"{result.location}".rstrip())
    if result.updated:
        lines.append(f"Точек взаимодействия: {result.rows}; дата актуализации {ru_date(result.updated)}.")
    ch = result.changes
    if ch:
        parts = [f"{label}: {', '.join(ch[key])}" for key, label in
                 (("added", "новые"), ("changed", "изменены"), ("removed", "исключены")) if ch.get(key)]
        if ch.get("info"):
            parts.append("изменены сведения об органе")
        base = f"с версией {result.baseline}" if result.baseline else "(опубликованных версий ещё нет)"
        lines.append(f"Изменения по сравнению {base}: " + ("; ".join(parts) if parts else "нет") + ".")
    writes = result.writes
    if result.status == "dry_run":
        lines.append("На сайте было бы изменено:" if writes else "На сайте ничего не изменилось бы.")
    elif writes:
        lines.append("На сайте изменено:")
    for a in writes:
        lines.append(f"  {a.describe()}")
    kept = len(result.actions) - len(writes)
    if kept:
        lines.append(f"  файлов на сайте без изменений: {kept}" if writes
                     else f"Файлов на сайте без изменений: {kept}.")
    if result.page_url:
        lines.append(f"Страница: {result.page_url}")
    if result.version:
        lines.append(f"Записана опубликованная версия {result.version} (теперь это базовая версия LATEST).")
    for w in result.warnings:
        lines.append(f"Предупреждение: {w}")
    lines.append(f"Готово за {result.seconds:.1f} с.")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------


def provenance_text(previous: PublishedVersion | None, data: dict[str, Any]) -> str:
    if previous is None:
        return "Первая публикация набора данных."
    ch = code_changes(previous.rows, data["rows"])
    parts = []
    if ch["added"]:
        parts.append("добавлены точки взаимодействия " + ", ".join(ch["added"]))
    if ch["changed"]:
        parts.append("изменены сведения о точках " + ", ".join(ch["changed"]))
    if ch["removed"]:
        parts.append("исключены точки " + ", ".join(ch["removed"]))
    if previous.register.get("info") != data["info"]:
        parts.append("обновлены сведения об органе")
    if not parts:
        return "Актуализация набора данных."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def blocking_errors(findings: list[Finding], register: Register, rules: Rules) -> list[Finding]:
    """The rule errors that stop a publication: those of the rows that would be published and of the sheet as a
    whole (a missing column, «Сведения» …). Errors of «черновик» / «на проверке» / «исключено» rows are reported
    everywhere but never hold back the rows that are ready (п. 5.4)."""
    published: set[int] = set()
    others: set[int] = set()
    for r in register.rows:
        if canonical_value(rules, "status", r.values.get("status")) == INCLUDED:
            published.add(r.number)
        else:
            others.add(r.number)
    out = []
    for f in findings:
        if f.severity is not Severity.ERROR:
            continue
        on_other_row = f.row is not None and f.row in others and (f.sheet in (None, register.sheet))
        if not on_other_row:
            out.append(f)
    return out


def _date(raw: Any) -> dt.date | None:
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw[:10])
        except ValueError:
            return None
    return None


def _placed_on(v: PublishedVersion) -> dt.date | None:
    """The day a version was placed: its data version's day (as recorded), else the day it was committed."""
    od = v.manifest.get("opendata")
    if isinstance(od, dict):
        d = _date(str(od.get("placed_on") or "")) or _date(str(v.manifest.get("updated") or ""))
        if d is not None:
            return d
    at = v.published_at
    return at.date() if at else None


def build_publication(register: Register, rules: Rules, config: Config, versions: list[PublishedVersion],
                      *, today: dt.date, baseline: PublishedVersion | None = None,
                      now: dt.datetime | None = None, data: dict[str, Any] | None = None) -> Publication:
    """The data that goes on the site now plus what the store of published versions tells about the set.

    ``baseline`` is the published version on the site (LATEST): rows under review stay on the site in their
    published form, and a row whose published content did not change keeps its published form.

    Open-data versions (decision for issue 11 item 15): a version is named and dated by the day it is *placed*
    — the day this publication puts it on the site, which is when the file really exists for a consumer; a
    day of *making* the change can lie before the previous version's day (late placement, an old typed date)
    and would reuse or reorder names. So: the same published content as the baseline keeps the baseline's
    version, name and «Дата актуализации»; any other content is a new version dated ``today``; a second new
    version on one day gets the time (ISO 8601 basic, ``YYYYMMDDTHHMMSS``), so no file is ever overwritten.

    ``data``: the rows to place when they are not the workbook's (``[approval] mode = "act"``: the last
    approved draft's frozen rows).
    """
    if data is None:
        data = canonical_register(register, rules,
                                  with_current_lists(baseline, rules) if baseline is not None else None)
    fp = data["fingerprint"]
    base_od = baseline.manifest.get("opendata") if baseline is not None else None
    data_version: str | None = None
    updated = today
    if baseline is not None and baseline.fingerprint == fp and isinstance(base_od, dict):
        kept_day = _placed_on(baseline)
        if isinstance(base_od.get("data_version"), str) and kept_day is not None:
            data_version, updated = str(base_od["data_version"]), kept_day
    previous = next((v for v in reversed(versions) if v.fingerprint != fp), None)
    if previous is not None and not previous.register:
        try:
            previous = store.load_version(previous.path)
        except store.StoreError:
            previous = None
    first = versions[0] if versions else None
    created = None
    if first is not None:
        od = first.manifest.get("opendata")
        created = (_date(str(od.get("created") or "")) if isinstance(od, dict) else None) or _placed_on(first)
    created = min(created or updated, updated)
    history: dict[str, DataVersion] = {}
    for v in versions:
        od = v.manifest.get("opendata")
        if not isinstance(od, dict):
            continue
        name, version = od.get("data_file"), od.get("data_version")
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        path = v.path / name
        if path.is_file():
            history[version] = DataVersion(version, name, path.read_bytes())
    if data_version is None:
        data_version = updated.strftime("%Y%m%d")
        moment = now or dt.datetime.now()
        while data_version in history:  # a second placement on one day: a new name, never an old file overwritten
            data_version = f"{updated:%Y%m%d}T{moment:%H%M%S}"
            moment += dt.timedelta(seconds=1)
    provenance = provenance_text(previous, data)
    if baseline is not None and baseline.fingerprint == fp and isinstance(base_od, dict) and base_od.get(
            "provenance"):
        provenance = str(base_od["provenance"])
    pub = Publication(rules=rules, data=data, updated=updated, dataset_code=config.publish.dataset_code,
                      created=created, provenance=provenance, version=data_version,
                      valid=add_months(updated, config.publish.valid_months))
    pub.history = [h for k, h in sorted(history.items()) if k != pub.data_version]
    return pub


@contextlib.contextmanager
def _publish_lock(output_dir: Path) -> Iterator[None]:
    """One publication at a time per output folder (the lock goes away with the process)."""
    path = store.published_dir(output_dir) / ".publish.lock"
    with locks.exclusive(path, busy=lambda: PerechenError(
            "publish_busy", f"Другая публикация уже идёт (заблокирован {path}). Дождитесь её завершения.")):
        yield


class _Log:
    """output/logs/publish-<stamp>.log: steps, actions and the result — never a secret."""

    def __init__(self, path: Path | None, secrets: list[str]) -> None:
        self.path = path
        self.secrets = secrets
        self._f: TextIO | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._f = open(path, "a", encoding="utf-8")
            except OSError:
                self.path = None

    def __call__(self, line: str) -> None:
        if self._f is not None:
            self._f.write(f"{ru_datetime(dt.datetime.now(), seconds=True)} {redact(line, self.secrets)}\n")
            self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def publish_workbook(workbook: Path, config: Config, *, target: str | None = None, dry_run: bool = False,
                     rules: Rules | None = None, today: dt.date | None = None, progress: ProgressFn | None = None,
                     on_step: StepHook | None = None, now: Callable[[], dt.datetime] | None = None,
                     register: Register | None = None, observe: bool = True) -> PublishResult:
    """Publish the workbook's approved rows to a target (see the module docstring).

    ``[approval] mode = "act"``: the last recorded act's frozen rows are placed, not the workbook's current
    ones (refused, ``no_act``, while no act is recorded). The placement is recorded in the journal
    (perechen.journal) with the act it places; ``observe``: record the workbook's changes first (the nightly
    run has already done it).

    Returns a :class:`PublishResult` (status published / unchanged / refused / dry_run); raises
    :class:`PerechenError` (exit 2) when it cannot run, :class:`PublishFailed` naming the failed step.
    """
    from . import clock
    from .fsutil import stamp
    from .targets import make_target

    t0 = time.monotonic()
    rules = rules or load_rules(config)
    if now is None and today is not None and today != dt.date.today():
        day = today  # a simulated day (--today): the version and the journal are dated by it

        def now() -> dt.datetime:
            return dt.datetime.combine(day, dt.datetime.now().time()).replace(microsecond=0)
    today = today or dt.date.today()
    act_mode = config.approval.mode == "act"
    name = target or config.publish.target
    tcfg = config.target(name)
    result = PublishResult(status="dry_run" if dry_run else "published", target=name, target_type=tcfg.type,
                           workbook=str(workbook))
    secrets: list[str] = []
    log = _Log(None if dry_run else config.output_dir / "logs" / f"publish-{stamp()}.log", secrets)
    result.log_file = str(log.path) if log.path else None
    ctx = RunContext(on_step=on_step, progress=progress, log=log, secrets=secrets)
    journal: Journal | None = None
    try:
        log(f"публикация {workbook} → цель «{name}» ({tcfg.type}){' [пробный запуск]' if dry_run else ''}")
        ctx.step("check")
        report = check_workbook(workbook, config, rules=rules, write_reports=False, today=today, progress=progress,
                                register=register)
        reg = report.register
        assert reg is not None
        errors = blocking_errors(report.findings, reg, rules)
        if report.warnings:
            result.warnings.append(f"в книге предупреждений: {report.warnings} (подробно — perechen check).")
        if not dry_run:
            journal, rebuilt = clock.open_journal(config.output_dir, rules)
            if rebuilt is not None:
                result.warnings.append(rebuilt.message())
        elif journal_path(config.output_dir).is_file():  # a dry run writes nothing, not even to the journal
            journal = Journal.open(journal_path(config.output_dir), create=False)
        if journal is not None and not dry_run:
            now = _not_before(journal, now)
        approved = clock.last_approved(config.output_dir, journal) if journal is not None else None
        if act_mode and approved is None:
            result.status = "refused"
            result.reasons.append(Notice("no_act", "Перечень утверждается приказом ([approval] mode = \"act\"), а "
                                                   "приказ ещё не записан: размещать нечего. Подготовьте проект "
                                                   "(perechen approve) и запишите подписанный приказ (perechen "
                                                   "approve --record)."))
            log("отклонено: приказ не записан")
            return result
        if errors and act_mode:  # the frozen rows were checked when the draft was made; the workbook's
            result.warnings.append(f"в книге ошибок: {len(errors)}; размещаются строки, утверждённые приказом, "
                                   "а не текущие строки книги.")  # errors wait for the next draft
            errors = []
        if errors:
            result.status, result.errors = "refused", errors
            result.reasons.append(Notice("rule_errors", f"В книге ошибок: {len(errors)}. Перечень с ошибками в "
                                                        "размещаемых строках или в книге в целом не размещается "
                                                        "на официальном сайте."))
            log(f"отклонено: ошибок {len(errors)}")
            return result
        if report.errors:
            result.warnings.append(f"ошибок в строках, которые не размещаются («черновик», «на проверке», "
                                   f"«исключено»): {report.errors} — они не задерживают размещение; ответственные "
                                   "лица исправят их до включения (perechen check покажет подробно).")
        damaged: list[str] = []
        versions = store.list_versions(config.output_dir, with_register=False,
                                       on_error=lambda p, e: damaged.append(p.name))
        if damaged:
            result.warnings.append("повреждены и пропущены опубликованные версии: " + ", ".join(damaged) + ".")
        baseline = store.latest(config.output_dir)
        result.baseline = baseline.name if baseline else None
        if observe and journal is not None and not dry_run:
            ctx.step("observe")
            base_report = compare(reg, rules, baseline, today=today, calendar=NoDeadlineCalendar(),
                                  observed=clock.observed_days(journal, clock.included_codes(reg, rules),
                                                               today=today, mode=config.approval.mode),
                                  term_from_act=config.approval.mode == "act")
            clock.observe(journal, base_report, reg, rules, observed_at=now() if now else dt.datetime.now(),
                          source="publish")
        frozen = approved[1].register_data() if act_mode and approved is not None else None
        pub = build_publication(reg, rules, config, versions, today=today, baseline=baseline,
                                now=now() if now else None, data=frozen)
        pub.page_title = tcfg.page_title
        act = approved[0] if approved is not None else None
        pub.approval = clock.act_citation(journal, upto=act) if act is not None and journal is not None else ""
        result.fingerprint, result.rows, result.updated = pub.fingerprint, len(pub.rows), pub.updated
        result.changes = code_changes(baseline.rows if baseline else [], pub.rows)
        if baseline is not None and baseline.register.get("info") != pub.info:
            result.changes["info"] = ["сведения"]
        if not pub.rows:
            result.status = "refused"
            result.reasons.append(Notice("nothing_included", "В книге нет ни одной точки взаимодействия со "
                                                             "статусом «включено»: публиковать нечего."))
            return result
        if not (pub.info.get("inn") or "").strip():
            result.warnings.append("на листе «Сведения» не указан ИНН: идентификатор набора открытых данных "
                                   f"— «{pub.identifier}» без ИНН (методические рекомендации: <ИНН>-<код набора>).")
        site = SiteContent(pub, public_url=tcfg.public_url)
        ctx.step("render")
        with contextlib.ExitStack() as stack:
            if not dry_run:
                stack.enter_context(_publish_lock(config.output_dir))
            tgt = make_target(name, tcfg, config, ctx)
            stack.callback(tgt.close)
            result.location = tgt.location
            if not tcfg.verify_tls and tcfg.type in ("wordpress", "webdav"):
                result.warnings.append("проверка сертификатов TLS отключена (verify_tls = false) — так можно только "
                                       "в тестовой сети.")
            if dry_run:
                result.actions = tgt.plan(site)
                return result
            outcome = tgt.publish(site)
            result.actions, result.urls, result.page_url = outcome.actions, outcome.urls, outcome.page_url
            result.warnings.extend(outcome.warnings)
            for a in outcome.actions:
                log(f"{a.op} {a.name} {a.detail}".rstrip())
            wrote = any(a.writes for a in outcome.actions)
            if not wrote and baseline is not None and baseline.fingerprint == pub.fingerprint:
                result.status = "unchanged"
                log("на сайте уже актуальная версия")
                return result
            ctx.step("commit")
            placed_codes = sorted({c for k in ("added", "changed", "removed") for c in result.changes.get(k, [])})
            files = {f.name: f.content for f in site.relative_files() if f.name not in
                     {h.name for h in pub.history}}
            files.update(outcome.files)
            manifest = {
                "target": name,
                "target_type": tcfg.type,
                "location": tgt.location,
                "page_url": outcome.page_url,
                "url": outcome.page_url,
                "urls": outcome.urls,
                "workbook": str(workbook),
                "workbook_sha256": reg.sha256,
                "updated": pub.updated.isoformat(),
                "actions": [a.to_dict() for a in outcome.actions],
                "opendata": {
                    "identifier": pub.identifier,
                    "data_version": pub.data_version,
                    "data_file": pub.data_name,
                    "structure_file": pub.structure_name,
                    "created": (pub.created or pub.updated).isoformat(),
                    "placed_on": pub.updated.isoformat(),
                    "valid": pub.valid_until.isoformat(),
                    "provenance": pub.provenance,
                },
                "tool": f"perechen {_version()}",
                "approval": {
                    "mode": config.approval.mode,
                    "act_id": act.id if act is not None else None,
                    "draft": act.draft_id if act is not None else None,
                    "citation": pub.approval,
                    "require_act": act_mode,
                    "codes": placed_codes,
                },
            }
            try:
                version = store.commit_version(config.output_dir, pub.data, files, manifest,
                                               now=now() if now else None)
            except PerechenError as e:
                raise PublishFailed("запись опубликованной версии", e.message + " Сайт уже обновлён и проверен; "
                                    "повторный запуск только запишет версию.", target=name) from None
            result.version = version.name
            log(f"записана версия {version.name}")
            assert journal is not None
            journal.record_placement(version.name, placed_at=version.published_at or dt.datetime.now(),
                                     fingerprint=pub.fingerprint, row_count=len(pub.rows), target=name,
                                     act_id=act.id if act is not None else None, require_act=act_mode,
                                     codes=placed_codes)
            log("размещение записано в журнал изменений")
            return result
    except PerechenError as e:
        result.status = "failed"
        log(f"ошибка: {e.message}")
        raise
    finally:
        if journal is not None:
            journal.close()
        result.seconds = time.monotonic() - t0
        log(f"итог: {result.status}, {result.seconds:.2f} с")
        log.close()


def _not_before(journal: Journal, now: Callable[[], dt.datetime] | None) -> Callable[[], dt.datetime] | None:
    """The placement's clock, never before the journal saw the changes it places (the п. 5.4 report stays
    consistent).

    A day of placement (``--today``) before the day a waiting change was seen (or seen «включено») is refused:
    the change would be dated after its placement. The same day with an earlier time of day (a nightly run
    with ``--today`` at a later hour) moves the placement a second after it.
    """
    from . import clock

    floor = clock.last_moment(journal)
    if floor is None:
        return now
    base = now or (lambda: dt.datetime.now().replace(microsecond=0))
    moment = base()
    if moment.date() < floor.date():
        raise PerechenError("publish_before_observed",
                            f"Публикация не выполнена: день размещения {ru_date(moment.date())} раньше дня, когда "
                            f"perechen увидел изменения, ожидающие размещения ({ru_date(floor.date())}, журнал "
                            "изменений). "
                            "Размещение не может предшествовать изменениям, которые оно размещает (п. 5.4); "
                            f"укажите --today не раньше {ru_date(floor.date())} или без --today.")
    if moment > floor:
        return now

    def after() -> dt.datetime:
        return max(base(), floor + dt.timedelta(seconds=1))
    return after


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("perechen")
    except Exception:
        return "?"

"""The files `perechen check` writes into its report folder besides report.json: ``report.html`` and the
annotated copy ``замечания-<книга>.xlsx`` (made by :mod:`perechen.annotate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..errors import describe
from ..fsutil import atomic_write
from ..jinja import TemplateSet, get_template
from ..models import SEVERITY_ORDER, Finding, Severity
from ..presentation import Responsible, finding_value, more_text
from ..report import CheckReport
from ..rules import Rules
from ..text import plural, ru_datetime

Progress = Callable[[str, int, int], None]

HTML_NAME = "report.html"
#: How many findings the HTML page lists per group, and how many groups per section.
HTML_GROUP_LIMIT = 50
HTML_MAX_GROUPS = 100
HTML_VALUE_CHARS = 300


def write_check_reports(report: CheckReport, rules: Rules, out: Path, *, progress: Progress | None = None,
                        annotated: bool = True, sync: bool = True) -> None:
    """Write the annotated workbook copy (unless ``annotated=False``) and the HTML page into ``out``; record them in
    ``report.files`` (``sync``: as :func:`perechen.fsutil.atomic_write`).

    The copy's parts are compressed in worker threads while the HTML page is rendered.
    """
    reg = report.register
    responsible = Responsible(reg, report.findings)
    if annotated and reg is not None and reg.data:
        page = _write_with_copy(report, rules, out, responsible, progress=progress, sync=sync)
    else:  # no copy: the OOXML engine is not even imported (a region run without mail, ~40 ms before its workers)
        page = render_html(report, rules, responsible=responsible)
    report.files["html"] = atomic_write(out / HTML_NAME, page, sync=sync)


def _write_with_copy(report: CheckReport, rules: Rules, out: Path, responsible: Responsible, *,
                     progress: Progress | None, sync: bool) -> str:
    """The annotated copy written (when it can be made); returns the HTML page, which names it or says why not."""
    from ..annotate import AnnotateError, annotated_name, prepare_annotation, workers
    from ..annotate import ods as annotate_ods
    from ..annotate.comments import comment_text

    reg = report.register
    assert reg is not None
    notes: list[str] = []
    xlsx_path: Path | None = None
    finish: Callable[[], bytes] | None = None
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        if progress:
            progress("Книга с замечаниями", 0, 2)
        try:
            if annotate_ods.is_ods(reg.data):  # an OpenDocument register gets an .ods copy
                ods_copy, notes = annotate_ods.annotate(
                    reg.data, report.findings, sheet=reg.sheet, comment_text=comment_text,
                    responsible=responsible.of, value_text=finding_value)
                finish = lambda: ods_copy  # noqa: E731
            else:
                pkg, notes = prepare_annotation(reg.data, report.findings, register=reg, pool=pool,
                                                responsible=responsible)
                finish = pkg.start_output()
        except (AnnotateError, annotate_ods.OdsAnnotateError) as e:
            notes = [f"Книга с замечаниями не создана: {e}."]
        except Exception as e:  # a bug must not cost the clerk the rest of the report
            notes = [f"Книга с замечаниями не создана из-за внутренней ошибки ({describe(e)})."]
        else:
            xlsx_path = out / annotated_name(reg.path, reg.data)
        if progress:
            progress("Книга с замечаниями", 1, 2)
        page = render_html(report, rules, xlsx_name=xlsx_path.name if xlsx_path else None, notes=notes,
                           responsible=responsible)
        if finish is not None and xlsx_path is not None:
            try:
                data = finish()
            except AnnotateError as e:
                notes.append(f"Книга с замечаниями не создана: {e}.")
                page = render_html(report, rules, xlsx_name=None, notes=notes, responsible=responsible)
            else:
                report.files["xlsx"] = atomic_write(xlsx_path, data, sync=sync)
            if progress:
                progress("Книга с замечаниями", 2, 2)
    return page


@dataclass
class _Item:
    where: str
    severity: Severity
    code: str
    title: str
    clause: str
    value: str
    message: str
    who: str


@dataclass
class _Group:
    id: str
    title: str
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    items: list[_Item] = field(default_factory=list)
    more: int = 0
    severity: Severity | None = None
    clause: str = ""
    code: str = ""

    @property
    def total(self) -> int:
        return self.errors + self.warnings + self.infos


def _counts_text(g: _Group) -> str:
    parts = []
    if g.errors:
        parts.append(f"ошибок: {g.errors}")
    if g.warnings:
        parts.append(f"предупреждений: {g.warnings}")
    if g.infos:
        parts.append(f"справочно: {g.infos}")
    return ", ".join(parts) or "замечаний нет"


def _short(text: str, limit: int = HTML_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _build_groups(findings: Sequence[Finding], rules: Rules, responsible: Responsible, *, limit: int,
                  max_groups: int) -> tuple[list[_Group], int, list[_Group], int]:
    by_person: dict[str, _Group] = {}
    by_rule: dict[str, _Group] = {}
    no_person = "Ответственный не указан"
    whole = "Книга в целом"
    titles: dict[str, str] = {}
    for f in findings:
        title = titles.get(f.code)
        if title is None:
            title = titles[f.code] = rules.check(f.code).title if rules.has_check(f.code) else f.code
        who = responsible.of(f)
        pkey = who if who else (no_person if f.row else whole)
        item: _Item | None = None
        for groups, key, gtitle in ((by_person, pkey, pkey), (by_rule, f.code, title)):
            g = groups.get(key)
            if g is None:
                g = groups[key] = _Group(id="", title=gtitle)
                if groups is by_rule:
                    g.severity, g.clause, g.code = f.severity, f.citation, f.code
            if f.severity is Severity.ERROR:
                g.errors += 1
            elif f.severity is Severity.WARNING:
                g.warnings += 1
            else:
                g.infos += 1
            if len(g.items) < limit:
                if item is None:
                    item = _Item(where=f.location or "—", severity=f.severity, code=f.code, title=title,
                                 clause=f.citation, value=_short(finding_value(f)), message=f.message,
                                 who=who or "—")
                g.items.append(item)
            else:
                g.more += 1

    def person_key(g: _Group) -> tuple[int, int, int, str]:
        special = 1 if g.title in (no_person, whole) else 0
        return (special, -g.errors, -g.total, g.title.casefold())

    def rule_key(g: _Group) -> tuple[int, int, str]:
        return (SEVERITY_ORDER[g.severity or Severity.INFO], -g.total, g.code)

    persons = sorted(by_person.values(), key=person_key)
    rules_g = sorted(by_rule.values(), key=rule_key)
    for i, g in enumerate(persons, 1):
        g.id = f"person-{i}"
    for i, g in enumerate(rules_g, 1):
        g.id = f"rule-{i}"
    hidden_p = max(0, len(persons) - max_groups)
    hidden_r = max(0, len(rules_g) - max_groups)
    return persons[:max_groups], hidden_p, rules_g[:max_groups], hidden_r


_PAGES = TemplateSet("check-report", globals={"counts_text": _counts_text, "more_text": more_text,
                                              "plural": plural})



def warm() -> None:
    """Compile the report page's template now (a region run does it once before its worker processes fork)."""
    get_template("report.html.j2", _PAGES)


def render_html(report: CheckReport, rules: Rules, *, xlsx_name: str | None = None, notes: Sequence[str] = (),
                limit: int = HTML_GROUP_LIMIT, max_groups: int = HTML_MAX_GROUPS,
                now: dt.datetime | None = None, responsible: Responsible | None = None) -> str:
    """The report page (Jinja2 with autoescape; no scripts, no external resources)."""
    reg = report.register
    responsible = responsible or Responsible(reg, report.findings)
    persons, hidden_p, rule_groups, hidden_r = _build_groups(report.findings, rules, responsible, limit=limit,
                                                             max_groups=max_groups)
    when = now or dt.datetime.now()
    workbook = Path(report.workbook).name or report.workbook
    return get_template("report.html.j2", _PAGES).render(
        workbook=workbook,
        workbook_path=report.workbook,
        rows=report.rows,
        errors=report.errors,
        warnings=report.warnings,
        infos=report.infos,
        total=len(report.findings),
        when=ru_datetime(when),
        persons=persons,
        hidden_persons=hidden_p,
        rule_groups=rule_groups,
        hidden_rules=hidden_r,
        limit=limit,
        xlsx_name=xlsx_name,
        xlsx_href=quote(xlsx_name) if xlsx_name else None,
        notes=list(notes),
        sheet=reg.sheet if reg is not None else None,
        severity=Severity,
    )

"""The published renderings of the register (п. 5.2 of the order).

Everything here is a pure function of a :class:`Publication` (the canonical published data from
:func:`perechen.canonical.canonical_register` plus a few facts about the publication) and, for the files that
point at other files, of ``links`` (file name -> URL or relative name):

* the HTML page, as a fragment for a CMS and as a standalone page (Jinja2, autoescaped; no scripts, no
  external resources);
* the published table as .xlsx (every text cell a string);
* open data by the methodical recommendations, version 3.0: ``data-<v>-structure-<s>.csv``,
  ``structure-<s>.csv``, ``meta.csv``, and a Frictionless ``datapackage.json``.

The same data always gives the same bytes (no timestamps of the moment inside the files), so a target can
decide "unchanged" by comparing sha256 of what it would upload with what is on the site.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .jinja import TemplateSet, environment, get_template
from .models import CodedError
from .printing import a4_landscape
from .rules import Rules
from .text import ru_date

STANDARD_VERSION = "http://opendata.gosmonitor.ru/standard/3.0"
# The open-data structure is defined here (PUBLISHED_FIELDS); change this date when the field list changes.
STRUCTURE_VERSION = "20240226"
XLSX_NAME = "perechen-tochek-vzaimodeystviya.xlsx"
PAGE_NAME = "index.html"
FRAGMENT_NAME = "fragment.html"
META_NAME = "meta.csv"
DATAPACKAGE_NAME = "datapackage.json"
MULTI_SEPARATOR = "; "
DIGITAL, OFFLINE = "цифровая", "офлайн"
# CSV injection (CWE-1236): a cell is neutralised only when a spreadsheet would execute it — «=…», «@…», a
# TAB/CR before anything, a DDE form («cmd|' /C calc'!A0»), or «+»/«-» starting a formula (a call «SUM(»,
# a reference «A1», an operator, a DDE pipe, a sheet «!»). A phone «+7 (4012) 12-34-56» or a list item
# «- текст» is data and stays verbatim.
_ALWAYS = ("=", "@", "\t", "\r", "\n")
_SIGNED_FORMULA = re.compile(
    r"^[+\-]\s*(?:[=+\-*/^&@]"  # an operator right after the sign («+-», «-=»)
    r"|\$?[A-Za-z]{1,3}\$?\d"  # a cell reference («+A1»)
    r"|.*[^\W\d]\w*(?:\.\w+)*\("  # a call anywhere («+SUM(», «-2+HYPERLINK(»)
    r"|.*\|"  # a DDE pipe
    r"|.*!\$?[A-Za-z]{1,3}\$?\d)",  # a reference to another sheet («!A0»)
    re.DOTALL)
_DDE = re.compile(r"^\s*[^\W\d][\w.]*\|", re.DOTALL)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class OpenField:
    field: str
    english: str  # structure.csv («english description», methodical recommendations 3.0)
    russian: str  # datapackage.json «description»: the consumer of the open data reads Russian
    format: str = "string"


# Fields of the open data set, in order. Internal fields (status, responsible, checked_by, note) are not
# published: status is always «включено», the others are the agency's internal bookkeeping.
PUBLISHED_FIELDS: tuple[OpenField, ...] = (
    OpenField("code", "Touchpoint code",
              "Код точки взаимодействия: уникален и не передаётся другой точке"),
    OpenField("area", "Area of activity and (or) interaction",
              "Направление деятельности и (или) взаимодействия"),
    OpenField("process", "Process within which the client interacts with the agency",
              "Процесс, в рамках которого клиент взаимодействует со Службой"),
    OpenField("name", "Touchpoint name",
              "Наименование точки взаимодействия"),
    OpenField("channel", "Channel: digital (цифровая) or offline (офлайн)",
              "Канал взаимодействия: цифровая или офлайн (п. 3.1 Порядка)"),
    OpenField("kind", "Touchpoint kind (section 4 of the order)",
              "Вид точки взаимодействия (раздел 4 Порядка)"),
    OpenField("clients", "Client category: external, internal, or both",
              "Категория клиентов: внешние, внутренние или внешние и внутренние"),
    OpenField("needs", "Client needs met, separated by '; '",
              "Удовлетворяемые потребности клиента (п. 2.5 Порядка), через «; »"),
    OpenField("other_needs", "Other client needs met",
              "Другие удовлетворяемые потребности клиента (п. 2.5.6 Порядка)"),
    OpenField("key", "Key touchpoint of its area (да/нет)",
              "Ключевая точка направления деятельности (п. 2.2 Порядка): да или нет"),
    OpenField("basis_kind", "Kind of basis: document or administrative action",
              "Вид основания: документ (п. 2.3 Порядка) или распорядительное действие (п. 2.4 Порядка)"),
    OpenField("basis", "Basis for including the touchpoint",
              "Основание включения точки взаимодействия в перечень"),
    OpenField("accessibility", "How clients with special needs are served",
              "Как учитываются особенности клиентов (п. 2.8.4 Порядка)"),
    OpenField("written_features", "Written interaction features, separated by '; '",
              "Функции письменного взаимодействия (п. 3.2.1 Порядка), через «; »"),
    OpenField("changed_on", "Date of the last change (YYYY-MM-DD)",
              "Дата последнего изменения сведений о точке (ГГГГ-ММ-ДД)"),
)

# Columns of the HTML tables (field, header); the name is the row header.
PAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "Код"),
    ("name", "Наименование точки взаимодействия"),
    ("kind", "Вид точки"),
    ("clients", "Категория клиентов"),
    ("needs", "Удовлетворяемые потребности"),
    ("basis", "Основание"),
)


@dataclass(frozen=True)
class DataVersion:
    """An earlier data version of the set that stays on the site (open data keeps its history)."""

    version: str  # YYYYMMDD
    name: str  # data-<version>-structure-<structure>.csv
    content: bytes


@dataclass
class Group:
    key: str
    title: str
    clause: str
    rows: list[dict[str, Any]]


@dataclass
class Publication:
    """The canonical published data and what a publication adds to it."""

    rules: Rules
    data: dict[str, Any]  # canonical.canonical_register(...)
    updated: dt.date  # «Дата актуализации»: the day this data version is placed on the site (meta «modified»)
    dataset_code: str = "touchpoints"
    created: dt.date | None = None  # first publication of the set (meta.csv «created»)
    provenance: str = "Первая публикация набора данных."
    history: list[DataVersion] = field(default_factory=list)
    page_title: str = "Перечень точек взаимодействия с клиентом"
    version: str | None = None  # the data version (YYYYMMDD, or YYYYMMDDTHHMMSS for a second one on a day)
    valid: dt.date | None = None  # meta.csv «valid» (None: a year after ``updated``)
    # The recorded act(s) of п. 5.1 (perechen.clock.act_citation): «Перечень утверждён приказом от … № …».
    # Empty when no act is recorded: then the page, the .xlsx and meta.csv claim no approving document.
    approval: str = ""

    @property
    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.data["rows"]
        return rows

    @property
    def info(self) -> dict[str, str]:
        info: dict[str, str] = self.data["info"]
        return info

    @property
    def fingerprint(self) -> str:
        return str(self.data["fingerprint"])

    @property
    def data_version(self) -> str:
        return self.version or self.updated.strftime("%Y%m%d")

    @property
    def valid_until(self) -> dt.date:
        """meta.csv «valid»: never earlier than the placement (``updated``)."""
        return max(self.valid or valid_until(self.updated), self.updated)

    @property
    def data_name(self) -> str:
        return data_file_name(self.data_version)

    @property
    def structure_name(self) -> str:
        return f"structure-{STRUCTURE_VERSION}.csv"

    @property
    def identifier(self) -> str:
        inn = re.sub(r"\D", "", self.info.get("inn") or "")
        return f"{inn}-{self.dataset_code}" if inn else self.dataset_code

    @property
    def agency(self) -> str:
        return self.info.get("agency") or self.info.get("short_name") or ""

    def groups(self) -> list[Group]:
        """The rows grouped like section 4 of the order: digital (4.1), then offline (4.2).

        Within a group the rows follow the order of the kinds in the reference list, then the workbook.
        """
        kinds = self.rules.lists.get("kinds")
        order = {v: i for i, v in enumerate(kinds.values)} if kinds else {}
        buckets: dict[str, list[tuple[int, int, dict[str, Any]]]] = {DIGITAL: [], OFFLINE: [], "": []}
        for i, row in enumerate(self.rows):
            ch = row.get("channel")
            key = ch if ch in (DIGITAL, OFFLINE) else ""
            buckets[key].append((order.get(row.get("kind") or "", len(order)), i, row))
        titles = {DIGITAL: ("Цифровые точки взаимодействия", "4.1"),
                  OFFLINE: ("Офлайн-точки взаимодействия", "4.2"),
                  "": ("Иные точки взаимодействия", "4")}
        out = []
        for key in (DIGITAL, OFFLINE, ""):
            rows = [r for _, _, r in sorted(buckets[key], key=lambda t: (t[0], t[1]))]
            if rows or key != "":
                title, clause = titles[key]
                out.append(Group(key or "other", title, clause, rows))
        return out


def data_file_name(version: str) -> str:
    return f"data-{version}-structure-{STRUCTURE_VERSION}.csv"


def actualisation_date(rows: Iterable[Mapping[str, Any]], fallback: dt.date) -> dt.date:
    """The latest «Дата изменения» among the given rows (canonical, ISO text or date), else ``fallback``."""
    best: dt.date | None = None
    for r in rows:
        v = r.get("changed_on")
        d: dt.date | None = None
        if isinstance(v, dt.datetime):
            d = v.date()
        elif isinstance(v, dt.date):
            d = v
        elif isinstance(v, str):
            try:
                d = dt.date.fromisoformat(v)
            except ValueError:
                d = None
        if d is not None and (best is None or d > best):
            best = d
    return best or fallback


# ------------------------------------------------------------------------------------------------------------
# Cell text


def cell_text(value: Any) -> str:
    """A canonical value as the text of one cell (lists joined with «; », None as empty)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return MULTI_SEPARATOR.join(str(v) for v in value if v is not None)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def executable(text: str) -> bool:
    """True when a spreadsheet opening the CSV would execute the cell (see the rules above)."""
    if not text:
        return False
    if text.startswith(_ALWAYS) or _DDE.match(text):
        return True
    return text[0] in "+-" and bool(_SIGNED_FORMULA.match(text))


def _needs_apostrophe(text: str) -> bool:
    # An apostrophe before an executable text is doubled, so that unneutralise is exact.
    while text.startswith("'"):
        text = text[1:]
    return executable(text)


def neutralise(text: str) -> str:
    """Prefix an apostrophe to a CSV cell a spreadsheet would execute; every other text stays verbatim.

    An apostrophe typed before such a text gets one more, so :func:`unneutralise` is exact.
    """
    return "'" + text if _needs_apostrophe(text) else text


def unneutralise(text: str) -> str:
    """The inverse of :func:`neutralise`."""
    if text.startswith("'") and _needs_apostrophe(text[1:]):
        return text[1:]
    return text


def open_rows(pub: Publication) -> list[dict[str, str]]:
    """The data set's rows as plain text by open-data field name (before CSV neutralising)."""
    return [{f.field: cell_text(r.get(f.field)) for f in PUBLISHED_FIELDS} for r in pub.rows]


def _csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=",", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        w.writerow([neutralise(c) for c in row])
    return buf.getvalue().encode("utf-8")


def read_csv(content: bytes) -> list[dict[str, str]]:
    """Read a CSV written here back into rows by header (neutralising undone)."""
    text = content.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", quotechar='"')
    rows = list(reader)
    if not rows:
        return []
    header = [unneutralise(h) for h in rows[0]]
    return [dict(zip(header, (unneutralise(c) for c in r), strict=True)) for r in rows[1:]]


# ------------------------------------------------------------------------------------------------------------
# Open data files


def render_data_csv(pub: Publication) -> bytes:
    names = [f.field for f in PUBLISHED_FIELDS]
    return _csv_bytes([names, *([r[n] for n in names] for r in open_rows(pub))])


def russian_description(rules: Rules, name: str) -> str:
    col = rules.columns.get(name)
    base = col.header if col else name
    if col is not None and col.multi:
        base += " (через «; »)"
    if col is not None and col.type == "date":
        base += " (ГГГГ-ММ-ДД)"
    return base


def render_structure_csv(pub: Publication) -> bytes:
    rows = [["field name", "english description", "russian description", "format"]]
    for f in PUBLISHED_FIELDS:
        rows.append([f.field, f.english, russian_description(pub.rules, f.field), f.format])
    return _csv_bytes(rows)


def _ymd(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months (the last day of a shorter month when the day does not exist)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(d, day.day))
        except ValueError:
            continue
    return dt.date(year, month, 28)


def valid_until(updated: dt.date) -> dt.date:
    """«valid» by default: a year after the placement (``[publish] valid_months`` in perechen.toml)."""
    return add_months(updated, 12)


def meta_rows(pub: Publication, links: Mapping[str, str]) -> list[tuple[str, str]]:
    info = pub.info
    short = info.get("short_name") or pub.agency
    title = f"{pub.page_title}" + (f" ({short})" if short else "")
    created = min(pub.created or pub.updated, pub.updated)
    description = ("Точки взаимодействия с клиентами (цифровые и офлайн-точки), включённые в перечень: наименование, "
                   "канал и вид точки, категория клиентов, удовлетворяемые потребности, основание включения."
                   + (f" {pub.approval}" if pub.approval else ""))
    rows: list[tuple[str, str]] = [
        ("standardversion", STANDARD_VERSION),
        ("identifier", pub.identifier),
        ("title", title),
        ("description", description),
        ("creator", pub.agency),
        ("created", _ymd(created)),
        ("modified", _ymd(pub.updated)),
        ("subject", "точки взаимодействия, клиентоцентричность, обращения, перечень"),
        ("format", "CSV"),
        ("provenance", pub.provenance),
        ("valid", _ymd(pub.valid_until)),
        ("publishername", info.get("keeper") or ""),
        ("publisherphone", info.get("phone") or ""),
        ("publishermbox", info.get("email") or ""),
    ]
    versions = {v.version: v.name for v in pub.history}
    versions[pub.data_version] = pub.data_name
    for version in sorted(versions, reverse=True):  # newest first
        name = versions[version]
        rows.append((f"data-{version}-structure-{STRUCTURE_VERSION}", links.get(name, name)))
    rows.append((f"structure-{STRUCTURE_VERSION}", links.get(pub.structure_name, pub.structure_name)))
    return rows


def render_meta_csv(pub: Publication, links: Mapping[str, str] | None = None) -> bytes:
    return _csv_bytes([["property", "value"], *([k, v] for k, v in meta_rows(pub, links or {}))])


def render_datapackage(pub: Publication, data_csv: bytes) -> bytes:
    """A Frictionless (Data Package v1) descriptor of the current data file, next to it in one folder."""
    rows = open_rows(pub)
    all_dates = all(_is_iso_date(r["changed_on"]) for r in rows if r["changed_on"])
    fields = []
    for f in PUBLISHED_FIELDS:
        col = pub.rules.columns.get(f.field)
        spec: dict[str, Any] = {"name": f.field, "title": russian_description(pub.rules, f.field),
                                "description": f.russian, "type": "string"}
        if f.field == "changed_on" and all_dates:
            spec["type"] = "date"
        if col is not None and col.required:
            spec["constraints"] = {"required": True}
        fields.append(spec)
    fields_by_name = {f["name"]: f for f in fields}
    fields_by_name["code"].setdefault("constraints", {})["unique"] = True
    descriptor = {
        "profile": "tabular-data-package",
        "name": re.sub(r"[^a-z0-9._-]+", "-", pub.identifier.lower()).strip("-") or "touchpoints",
        "title": dict(meta_rows(pub, {}))["title"],
        "version": pub.data_version,
        "created": pub.updated.isoformat() + "T00:00:00Z",
        "resources": [{
            "profile": "tabular-data-resource",
            "name": "data",
            "path": pub.data_name,
            "title": f"{pub.page_title}, версия от {ru_date(pub.updated)}",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": len(data_csv),
            "hash": "sha256:" + hashlib.sha256(data_csv).hexdigest(),
            "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "lineTerminator": "\r\n",
                        "header": True},
            "schema": {"fields": fields, "primaryKey": ["code"]},
        }],
    }
    return (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


# ------------------------------------------------------------------------------------------------------------
# XLSX


def render_xlsx(pub: Publication) -> bytes:
    """The published table: header row frozen, autofilter, wrapped text; every text cell a string."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Перечень"
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_font = Font(bold=True)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    # Named styles: assigning one per cell is far cheaper than assigning border/alignment objects.
    head = NamedStyle(name="perechen-header", font=head_font, fill=PatternFill("solid", fgColor="DCE6F1"),
                      border=border, alignment=Alignment(wrap_text=True, vertical="center"))
    body = NamedStyle(name="perechen-text", border=border, alignment=wrap_top)
    day = NamedStyle(name="perechen-date", border=border, alignment=wrap_top, number_format="DD.MM.YYYY")
    for style in (head, body, day):
        wb.add_named_style(style)

    headers = [russian_description(pub.rules, f.field) for f in PUBLISHED_FIELDS]
    for c, text in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=c)
        _set_text(cell, text)
        cell.style = "perechen-header"
        col = pub.rules.columns.get(PUBLISHED_FIELDS[c - 1].field)
        ws.column_dimensions[get_column_letter(c)].width = col.width if col else 20
    for r, row in enumerate(open_rows(pub), start=2):
        for c, f in enumerate(PUBLISHED_FIELDS, start=1):
            cell = ws.cell(row=r, column=c)
            text = row[f.field]
            if f.field == "changed_on" and _is_iso_date(text):
                cell.value = dt.date.fromisoformat(text)
                cell.style = "perechen-date"
                continue
            if text:
                _set_text(cell, text)
            cell.style = "perechen-text"
    last = get_column_letter(len(PUBLISHED_FIELDS))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{max(1, len(pub.rows) + 1)}"
    a4_landscape(ws)

    info = wb.create_sheet("Сведения")
    info.column_dimensions["A"].width = 32
    info.column_dimensions["B"].width = 100
    a4_landscape(info, title_rows=0)
    facts = [
        ("Орган", pub.agency),
        ("Документ, утверждающий перечень", pub.approval),
        ("Дата актуализации", ru_date(pub.updated)),
        ("Точек взаимодействия", str(len(pub.rows))),
        ("Идентификатор набора открытых данных", pub.identifier),
    ]
    for r, (k, v) in enumerate(facts, start=1):
        _set_text(info.cell(row=r, column=1), k)
        info.cell(row=r, column=1).font = head_font
        if v:
            _set_text(info.cell(row=r, column=2), v)
        info.cell(row=r, column=2).alignment = wrap_top

    wb.properties.title = pub.page_title
    wb.properties.creator = "perechen"
    stamp = dt.datetime.combine(pub.updated, dt.time())
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return reproducible_zip(buf.getvalue(), stamp)


def _set_text(cell: Any, text: str) -> None:
    """Write ``text`` as a string cell, even when it starts with = + - @ (never a formula)."""
    cell.value = text
    cell.data_type = "s"


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def reproducible_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite an OOXML zip with fixed entry times and document dates, so the same data gives the same bytes."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(lambda m: m.group(1) + iso + m.group(2), content)
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, content)
    return out.getvalue()


def make_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip of ``files`` (in name order) with fixed entry times: the same files give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            zi = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, files[name])
    return out.getvalue()


# ------------------------------------------------------------------------------------------------------------
# HTML


@dataclass(frozen=True)
class Download:
    href: str
    label: str
    size: str


def _finalize(value: Any) -> Any:
    from markupsafe import Markup, escape

    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    # Square brackets as entities: a CMS (WordPress) must never run a «[shortcode]» typed in a cell.
    escaped = str(escape(text)).replace("[", "&#91;").replace("]", "&#93;")
    return Markup(escaped)  # noqa: S704 - already escaped above


_PAGES = TemplateSet("published", keep_trailing_newline=True, finalize=_finalize)


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} Б"
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} КБ"
    return f"{n / 1024 / 1024:.1f} МБ".replace(".", ",")


_SAFE_HREF = re.compile(r"^(?:https?://[^\s\"'<>]+|[A-Za-z0-9._/-]+)$")


class UnsafeLinkError(CodedError, ValueError):
    """A link that is neither http(s) nor a plain relative name (a ValueError too, for callers that check values)."""

    default_code = "unsafe_link"


def safe_href(href: str) -> str:
    """Only http(s) URLs and plain relative names end up in a link (never ``javascript:``)."""
    if not _SAFE_HREF.match(href) or href.lower().startswith(("javascript:", "data:", "vbscript:")):
        raise UnsafeLinkError(f"Недопустимая ссылка на странице перечня: {href[:80]!r}.")
    return href


def downloads(pub: Publication, links: Mapping[str, str], sizes: Mapping[str, int]) -> list[Download]:
    """The download links of the page, in a fixed order, for the files present in ``links``."""
    labels = [
        (XLSX_NAME, "Перечень в формате Excel (XLSX)"),
        (pub.data_name, f"Открытые данные: набор данных (CSV, версия от {ru_date(pub.updated)})"),
        (pub.structure_name, "Открытые данные: структура набора (CSV)"),
        (META_NAME, "Открытые данные: паспорт набора (CSV)"),
        (DATAPACKAGE_NAME, "Описание набора в формате Frictionless Data Package (JSON)"),
    ]
    out = []
    for name, label in labels:
        if name in links:
            out.append(Download(safe_href(links[name]), label, human_size(sizes[name]) if name in sizes else ""))
    return out


def _page_context(pub: Publication, links: Mapping[str, str], sizes: Mapping[str, int]) -> dict[str, Any]:
    groups = []
    for g in pub.groups():
        rows = []
        for r in g.rows:
            needs = list(r.get("needs") or [])
            other = r.get("other_needs")
            rows.append({
                "code": r.get("code") or "",
                "name": r.get("name") or "",
                "kind": r.get("kind") or "",
                "clients": r.get("clients") or "",
                "needs": [n for n in needs if n != "другое"] + ([f"другое: {other}"] if other else
                                                                ["другое"] if "другое" in needs else []),
                "basis": r.get("basis") or "",
                "basis_kind": r.get("basis_kind") or "",
            })
        groups.append({"id": f"perechen-{g.key}", "title": g.title, "clause": g.clause, "rows": rows})
    return {
        "pub": pub,
        "title": pub.page_title,
        "agency": pub.agency,
        "approval": pub.approval,
        "updated": pub.updated,
        "updated_text": ru_date(pub.updated),
        "fingerprint": pub.fingerprint,
        "downloads": downloads(pub, links, sizes),
        "columns": PAGE_COLUMNS,
        "groups": groups,
        "total": len(pub.rows),
    }


def render_fragment(pub: Publication, links: Mapping[str, str], sizes: Mapping[str, int] | None = None) -> str:
    """The page body for a CMS: one ``<div class="perechen-register">`` with its own scoped CSS."""
    return str(get_template("published_fragment.html", _PAGES).render(**_page_context(pub, links, sizes or {})))


def render_page(pub: Publication, links: Mapping[str, str], sizes: Mapping[str, int] | None = None) -> str:
    """A standalone HTML page (lang="ru", inline CSS, no scripts, a CSP that forbids them)."""
    ctx = _page_context(pub, links, sizes or {})
    env = environment(_PAGES)
    from markupsafe import Markup

    # The fragment is our own autoescaped template output.
    fragment = Markup(env.get_template("published_fragment.html").render(**ctx))  # noqa: S704
    return str(env.get_template("published.html").render(fragment=fragment, **ctx))


def wordpress_content(fragment: str) -> str:
    """The fragment wrapped in a Custom HTML block, so the block editor keeps it as it is."""
    return "<!-- wp:html -->\n" + fragment.strip("\n") + "\n<!-- /wp:html -->"


_FP_RE = re.compile(r'data-perechen-fingerprint="([0-9a-f]{64})"')


def page_fingerprint(html: str) -> str | None:
    """The data fingerprint a published page carries (None when it is not one of ours)."""
    m = _FP_RE.search(html)
    return m.group(1) if m else None

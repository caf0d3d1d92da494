"""Find the register sheet among the workbook's sheets and build the Register: calamine reads the values,
the header row is found by the schema's headers, data rows become the register's columns (models.Table), and what
the raw scan saw (error cells, formulas without a value, merged cells, hidden rows) becomes findings at their cells."""

from __future__ import annotations

import functools
import io
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cells import col_index, col_letter, ref_key
from ..models import FileError, Finding, Register, Table
from ..rules import Rules
from ..text import header_key, mixed_script_words, normalize
from . import chunks
from .extent import check_extent
from .guards import _damaged, _short, read_part
from .owner import lock_owner
from .package import Package, Progress, SheetPart
from .scan import RawScan, scan_sheet_xml, sheet_prefix
from .values import _blank, _CellInfo, _CellValues

_REF_SPLIT = re.compile(r"([A-Z]+)(\d+)")


class _SheetReader(_CellValues):
    def __init__(self, path: Path, rules: Rules, pkg: Package, data: bytes, started: float,
                 progress: Progress | None) -> None:
        self.path, self.rules, self.pkg, self.data = path, rules, pkg, data
        self.started = started
        self.progress = progress
        self.findings: list[Finding] = []
        self._norm_cache: dict[str, str] = {}
        self._cell_cache: dict[str, _CellInfo] = {}
        self._distinct: dict[str, float] = {}
        self._plans: dict[str, chunks.Plan] = {}
        self._pieces: dict[str, chunks.Pieces | None] = {}
        self._early: dict[str, _EarlyRows] = {}

    # -- helpers ---------------------------------------------------------------------------------
    def _fail(self, code: str, detail: str = "") -> FileError:
        return FileError(code, self.rules.file_error(code, self.path, detail), self.path)

    def _budget(self) -> None:
        limit = self.rules.schema.limits.max_read_seconds
        if time.monotonic() - self.started > limit:
            raise self._fail("timeout", f"{limit:g}")

    def _finding(self, code: str, sheet: str | None, cell: str | None, row: int | None, column: str | None,
                 value: Any = None, field_name: str | None = None, **fmt: Any) -> Finding:
        chk = self.rules.check(code)
        header = self.rules.columns[field_name].header if field_name in self.rules.columns else ""
        msg = chk.message.format(header=header, value=value if value is not None else "", clause=chk.clause or "",
                                 detail=fmt.get("detail", ""), expected=fmt.get("expected", ""))
        return Finding(code=code, severity=chk.severity, clause=chk.clause, message=msg, sheet=sheet, cell=cell,
                       row=row, column=column, field=field_name, value=value, title=chk.title)

    def _calamine_error(self, e: BaseException, sheet: SheetPart | None = None) -> FileError:
        """Name the damaged part when calamine stumbles over one; else say what calamine said."""
        import python_calamine as pc
        from defusedxml import ElementTree as DET

        if isinstance(e, pc.PasswordError):
            return self._fail("encrypted")
        for info in self.pkg.zf.infolist():
            try:
                self.pkg.zf.read(info)
            except Exception as ze:
                return _damaged(self.path, self.rules, info.filename, ze)
        if self.pkg.kind == "ods":  # calamine's own (English) reason is not shown to the clerk
            return self._fail("read_failed", "таблицы в части content.xml записаны так, как их не записывает ни "
                                             "одна офисная программа (например, число повторов ячеек со знаком "
                                             "или пробелами)")
        if sheet is not None:
            # A worksheet calamine could not parse: name its part (the XML error is calamine's, in English).
            # calamine's reason is English: say where the markup breaks from our own (safe) parse of the part.
            why = "разметка XML повреждена"
            try:
                DET.fromstring(self.pkg.zf.read(sheet.part))
            except Exception as pe:
                why = _short(pe)
            return self._fail("xml_broken", f"{sheet.part} (лист «{sheet.name}»: {why})")
        # Opening failed ("Cannot detect file format" hides the reason): find the broken part ourselves.
        names = set(self.pkg.zf.namelist())
        for part in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/workbook.xml",
                     "xl/styles.xml", "xl/sharedStrings.xml"):
            if part not in names:
                continue
            try:
                DET.fromstring(self.pkg.zf.read(part))
            except Exception as pe:
                return self._fail("xml_broken", f"{part} ({_short(pe)})")
        if "detect file format" in str(e):
            missing = [p for p in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/styles.xml")
                       if p not in names]
            detail = ("части книги не согласуются друг с другом"
                      + (f" (нет частей: {', '.join(missing)})" if missing else " (связи между частями нарушены)"))
            return self._fail("read_failed", detail)
        return self._fail("read_failed", _short(e))

    # -- main ------------------------------------------------------------------------------------
    def _prepare_sheets(self) -> dict[str, bytes]:
        """Inflate every worksheet once and refuse sizes calamine cannot hold; scan the raw XML. The largest
        sheet (the register) is returned unscanned: it is scanned while calamine parses it."""
        if self.pkg.kind == "ods":
            return {}  # content.xml was walked by _open_ods
        infos = {i.filename: i for i in self.pkg.zf.infolist()}
        sheets = [sp for sp in self.pkg.parts if sp.kind == "worksheet"]
        for sp in sheets:
            if sp.part not in infos:
                raise _damaged(self.path, self.rules, f"{sp.part} (лист «{sp.name}»)")
        largest = max(sheets, key=lambda sp: infos[sp.part].file_size, default=None)  # one inflated sheet kept
        out: dict[str, bytes] = {}
        for sp in sheets:
            xml = read_part(self.pkg, sp.part, self.path, self.rules)
            prefix = sheet_prefix(xml)
            plan = chunks.plan(xml, self.pkg) if sp is largest and not prefix else None
            if plan is None:
                check_extent(xml, sp.name, self.path, self.rules, prefix)
            else:
                # Guarded piece by piece while calamine parses (reader/chunks.py); its workbook of pieces is opened
                # now, while the other sheets are inflated and guarded.
                self._plans[sp.name] = plan
                self._pieces[sp.name] = chunks.Pieces.start(xml, plan, self.pkg, self.data)
            if sp is largest:
                out[sp.name] = xml
            else:
                sp.scan = scan_sheet_xml(xml, prefix)
            del xml
            self._budget()
        return out

    def read(self) -> Register:
        try:
            return self._read()
        finally:
            for started in self._pieces.values():  # a sheet not reached (an error on the way): its parser stops
                if started is not None:
                    started.close()
            self._pieces.clear()

    def _read(self) -> Register:
        import python_calamine as pc

        if self.progress:
            self.progress("Чтение книги", 0, 1)
        # calamine opens the workbook (shared strings, styles, the sheet list — no worksheet) in a thread while
        # the extent guard inflates and scans the worksheets here: calamine releases the GIL while it works.
        opening = _Background(lambda: pc.CalamineWorkbook.from_filelike(io.BytesIO(self.data)))
        try:
            xmls = self._prepare_sheets()
        finally:
            opened = opening.wait()
        try:
            wb = opened()
            meta = list(wb.sheets_metadata)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # CalamineError … and pyo3's PanicException
            raise self._calamine_error(e) from None
        spec = self.rules.schema.register_spec
        parts = {sp.name: sp for sp in self.pkg.parts}
        candidates: list[tuple[str, SheetPart, int, dict[int, str], list[list[Any]]]] = []
        info_sheet: tuple[str, list[list[Any]]] | None = None
        sheet_names = [name for name, _, _ in self.pkg.sheets]
        for i, md in enumerate(meta):
            sp = parts.get(md.name)
            if sp is None or sp.kind != "worksheet" or md.typ != pc.SheetTypeEnum.WorkSheet:
                continue  # chart sheets
            xml = xmls.pop(md.name, None)
            plan = self._plans.pop(md.name, None)
            started = self._pieces.pop(md.name, None)
            early = _EarlyRows(self, md.name) if xml and started else None
            pieces = started.read(self.rules, self._budget, early) if xml and started else None
            if pieces is not None:
                rows, sp.scan = pieces
                del xml
                if early is not None and early.out:
                    self._early[md.name] = early
            else:
                if xml is not None:
                    if plan is not None:  # not read in pieces after all: the whole sheet is guarded first
                        check_extent(xml, md.name, self.path, self.rules, b"")
                    # calamine parses the sheet (without the GIL) while its raw XML is scanned here.
                    parsing = _Background(functools.partial(wb.get_sheet_by_index, i))
                    try:
                        sp.scan = scan_sheet_xml(xml)
                    finally:
                        del xml
                        parsed = parsing.wait()
                elif sp.scan is None:
                    continue  # anything the extent guard has not seen
                else:
                    parsed = _Background(functools.partial(wb.get_sheet_by_index, i), thread=False).wait()
                try:
                    rows = parsed().to_python(skip_empty_area=False)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as e:
                    raise self._calamine_error(e, sp) from None
            self._budget()
            found = self._find_header(rows[: spec.header_search_rows])
            if found is not None:
                hdr_idx, mapping = found
                candidates.append((md.name, sp, hdr_idx, mapping, rows))
            if info_sheet is None and header_key(md.name) == header_key(self.rules.schema.info.sheet):
                info_sheet = (md.name, rows)
            elif found is None:
                del rows
        if not candidates:
            listed = ", ".join(f"«{n}»" for n in sheet_names)
            raise self._fail("no_register", f"Листы книги: {listed}.")
        visible = [c for c in candidates if c[1].state == "visible"]
        if len(candidates) > 1 and len(visible) == 1:
            candidates = visible  # a hidden helper sheet that looks like the register is not it
        if len(candidates) > 1:
            raise self._fail("many_registers", ", ".join(f"«{c[0]}»" for c in candidates))
        name, sp, hdr_idx, mapping, rows = candidates[0]
        reg = self._read_rows(name, sp.scan or RawScan(), hdr_idx, mapping, rows, self._early.pop(name, None))
        self._early.clear()
        reg.sheet_names = sheet_names
        if info_sheet is not None:
            reg.info_sheet = info_sheet[0]
            reg.info = self._read_info(info_sheet[1])
        else:
            self.findings.append(self._finding("info-sheet-missing", None, None, None, None,
                                               detail=self.rules.schema.info.sheet))
        reg.findings = self.findings
        return reg

    def _find_header(self, rows: list[list[Any]]) -> tuple[int, dict[int, str]] | None:
        best: tuple[int, dict[int, str]] | None = None
        best_n = 0
        idx = self.rules.header_index
        most = len(set(idx.values()))
        max_cols = self.rules.schema.limits.max_columns
        for i, row in enumerate(rows):
            mapping: dict[int, str] = {}
            for j, v in enumerate(row[:max_cols]):
                if isinstance(v, str) and v and len(v) < 500:
                    f = idx.get(header_key(v))
                    if f is not None:
                        mapping[j] = f
            n = len(set(mapping.values()))
            if n > best_n:
                best, best_n = (i, mapping), n
                if n == most:
                    break  # every field's header in this row: no later row can name more (the data rows' texts,
                    # new to header_key's cache in every workbook, are not keyed: ~1.5 ms of a 2,000-row read)
        spec = self.rules.schema.register_spec
        if best is not None and best_n >= spec.min_header_matches:
            ident = sum(1 for f in set(best[1].values()) if f in spec.identity_fields)
            if ident >= spec.min_identity_matches:
                return best
        return None

    def _columns(self, sheet: str, header_cells: list[Any], header_row_no: int, mapping: dict[int, str],
                 findings: list[Finding]) -> tuple[dict[str, str], dict[str, str], list[tuple[int, str]]]:
        """The header row: field -> column letter, field -> header as written, (column index, field) of the
        columns read; findings about the header go to ``findings``."""
        rules = self.rules
        columns: dict[str, str] = {}
        headers: dict[str, str] = {}
        col_fields: list[tuple[int, str]] = []
        for j, v in enumerate(header_cells):
            text = normalize(str(v)) if v not in (None, "") else ""
            if not text:
                continue
            letter = col_letter(j)
            ref = f"{letter}{header_row_no}"
            for word, latin in mixed_script_words(text):
                findings.append(self._finding("mixed-script", sheet, ref, header_row_no, letter, value=text,
                                              detail=word, expected=", ".join(latin)))
            f = mapping.get(j)
            if f is None:
                if header_key(text) in rules.ignored_headers:
                    continue
                findings.append(self._finding("unknown-column", sheet, ref, header_row_no, letter, value=text))
                continue
            if f in columns:
                # A second column of a never-published field (a «Комментарий» beside «Примечание»): a warning.
                code = ("duplicate-note-column" if rules.has_check("duplicate-note-column")
                        and f in rules.check("duplicate-note-column").params.get("fields", []) else "duplicate-column")
                findings.append(self._finding(code, sheet, ref, header_row_no, letter, value=text, field_name=f))
                continue
            columns[f] = letter
            headers[f] = text
            col_fields.append((j, f))
        for col in rules.schema.columns:
            if col.required and col.field not in columns:
                findings.append(self._finding("missing-column", sheet, f"A{header_row_no}", header_row_no, None,
                                              field_name=col.field))
        return columns, headers, col_fields

    def _read_rows(self, sheet: str, scan: RawScan, hdr_idx: int, mapping: dict[int, str],
                   rows: list[list[Any]], early: _EarlyRows | None = None) -> Register:
        rules = self.rules
        lim = rules.schema.limits
        header_row_no = hdr_idx + 1
        width = max((len(r) for r in rows[: hdr_idx + 1]), default=0)
        if width > lim.max_columns:
            raise self._fail("too_many_columns", f"«{sheet}» {width}")
        columns, headers, col_fields = self._columns(sheet, rows[hdr_idx], header_row_no, mapping, self.findings)
        self._budget()
        # Data rows: stop at the last non-empty row; skip blank rows in between.
        last = len(rows)
        while last > hdr_idx + 1 and _blank(rows[last - 1]):
            last -= 1
        n_data = last - hdr_idx - 1
        if n_data > lim.max_rows:
            raise self._fail("too_many_rows", f"«{sheet}» {n_data}")
        problem_cells: set[str] = set()
        hidden = set(scan.hidden_rows)
        date_fields = {c.field for c in rules.schema.columns if c.type == "date"}
        table: Table | None = None
        if (early is not None and early.out is not None and early.matches(sheet, hdr_idx, col_fields)
                and early.done_to >= last):
            table = early.out  # converted while calamine parsed the sheet's later pieces
            findings_early = early.findings
            pos = {f: n for n, (_, f) in enumerate(col_fields)}
            findings_early.sort(key=lambda x: (pos.get(x.field or "", -1), x.row or 0))  # as column by column
            self.findings.extend(findings_early)
        else:
            table = self._convert_rows(sheet, rows, hdr_idx, last, col_fields, columns, date_fields, hidden)
        total = n_data
        findings = self.findings
        data_cols = {letter for letter in columns.values()}
        numbers = table.numbers
        last_row = numbers[-1] if numbers else header_row_no
        table.hidden = hidden.intersection(numbers) if hidden else set()
        index_of: dict[int, int] = {}

        def data_row(rn: int) -> int | None:
            """The index of sheet row ``rn`` among the data rows (None: not a data row)."""
            if not index_of:
                index_of.update(zip(numbers, range(len(numbers)), strict=True))
            return index_of.get(rn)

        def in_data(ref: str) -> tuple[str, int] | None:
            m = _REF_SPLIT.fullmatch(ref)
            if not m:
                return None
            letter, rn = m.group(1), int(m.group(2))
            if rn <= header_row_no or letter not in data_cols:
                return None
            return letter, rn

        field_of = {letter: f for f, letter in columns.items()}
        for ref, text in sorted(scan.errors.items(), key=lambda kv: ref_key(kv[0])):
            loc = in_data(ref)
            if loc is None:
                continue
            letter, rn = loc
            problem_cells.add(ref)
            f = field_of[letter]
            i = data_row(rn)
            if i is not None:
                table.cols[f][i] = None
                table.originals.setdefault(i, {})[f] = text
            findings.append(self._finding("error-value", sheet, ref, rn, letter, value=text, field_name=f))
        stale = {ref: "" for ref in scan.formulas_cached} if self.pkg.stale_formulas else {}
        for ref, ftext in sorted({**stale, **scan.formulas_without_value}.items(), key=lambda kv: ref_key(kv[0])):
            loc = in_data(ref)
            if loc is None or ref in problem_cells:
                continue
            letter, rn = loc
            problem_cells.add(ref)
            f = field_of[letter]
            if not ftext:  # cached by a writer that does not calculate (fullCalcOnLoad): not to be trusted
                ftext = "(значение не пересчитано)"
                i = data_row(rn)
                if i is not None:
                    col = table.cols[f]
                    if col[i] is not None:
                        table.originals.setdefault(i, {}).setdefault(f, col[i])
                    col[i] = None
            findings.append(self._finding("formula-no-value", sheet, ref, rn, letter, value=ftext,
                                          field_name=f, detail=ftext))
        data_idx = sorted(col_index(letter) for letter in data_cols)
        for rng in scan.merged:
            a, _, b = rng.partition(":")
            ma, mb = _REF_SPLIT.fullmatch(a), _REF_SPLIT.fullmatch(b or a)
            if not ma or not mb:
                continue
            c1, r1, c2, r2 = col_index(ma.group(1)), int(ma.group(2)), col_index(mb.group(1)), int(mb.group(2))
            if r2 <= header_row_no or r1 > last_row:
                continue
            touched = [col_letter(c) for c in data_idx if c1 <= c <= c2]
            if not touched:
                continue
            for rn in range(max(r1, header_row_no + 1), min(r2, last_row) + 1):
                for letter in touched:
                    problem_cells.add(f"{letter}{rn}")
            letter = col_letter(c1) if col_letter(c1) in data_cols else touched[0]
            findings.append(self._finding("merged-cells", sheet, a, r1, letter, value=rng,
                                          field_name=field_of.get(letter), detail=rng))
        hidden_data = sorted(table.hidden)
        if hidden_data:
            by = " фильтром" if scan.autofilter else ""
            findings.append(self._finding("hidden-rows", sheet, f"A{hidden_data[0]}", hidden_data[0], None,
                                          detail=_ranges(hidden_data), expected=by))
        reg = Register(path=self.path, sheet=sheet, header_row=header_row_no, columns=columns, headers=headers,
                       table=table)
        reg.problem_cells = problem_cells
        reg.formula_cells = scan.formulas
        reg.lock_owner = lock_owner(self.path)
        if reg.lock_owner:
            findings.append(self._finding("workbook-open", None, None, None, None, detail=reg.lock_owner))
        if self.progress:
            self.progress("Чтение строк", total, total)
        return reg

    def _read_info(self, rows: list[list[Any]]) -> dict[str, str]:
        labels = {header_key(f.label): f.key for f in self.rules.schema.info.fields}
        out: dict[str, str] = {}
        for row in rows:
            if len(row) < 2:
                continue
            k, v = row[0], row[1]
            if not isinstance(k, str):
                continue
            key = labels.get(header_key(k))
            if key is None:
                continue
            if isinstance(v, float) and v.is_integer():
                v = str(int(v))
            out[key] = normalize(str(v)) if v not in (None, "") else ""
        return out


def _ranges(nums: list[int]) -> str:
    parts: list[str] = []
    start = prev = nums[0]
    for n in nums[1:]:
        if n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}–{prev}" if prev > start else str(start))
        start = prev = n
    parts.append(f"{start}–{prev}" if prev > start else str(start))
    if len(parts) > 10:
        parts = [*parts[:10], f"… (всего {len(nums)})"]
    return ", ".join(parts)


class _Background:
    """A call run in a thread (calamine releases the GIL while it opens and parses); ``wait()`` returns a
    callable that gives the result or raises what the call raised (BaseException too: pyo3's PanicException)."""

    def __init__(self, fn: Callable[[], Any], *, thread: bool = True) -> None:
        self._fn = fn
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if thread:
            self._thread = threading.Thread(target=self._run, name="perechen-calamine", daemon=True)
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        try:
            self._result = self._fn()
        except BaseException as e:
            self._error = e

    def wait(self) -> Callable[[], Any]:
        if self._thread is not None:
            self._thread.join()
        error, result = self._error, self._result
        self._error = self._result = None

        def get() -> Any:
            if error is not None:
                raise error
            return result
        return get


class _EarlyRows:
    """Turns a sheet's rows into columns piece by piece while calamine parses the next piece (the sheet read
    in pieces, reader/chunks.py): the header is found in the first rows as :meth:`_SheetReader.read` finds it, and
    the rows after it converted as they come. Used by :meth:`_SheetReader._read_rows` only when the header and
    columns it finds are the same; findings about the cells are collected apart and put in the reader's order."""

    def __init__(self, reader: _SheetReader, sheet: str) -> None:
        self.reader, self.sheet = reader, sheet
        self.hdr_idx = -1
        self.col_fields: list[tuple[int, str]] = []
        self.columns: dict[str, str] = {}
        self.done_to = 0
        self.out: Table | None = None
        self.findings: list[Finding] = []
        self.dead = False
        self._dates = {c.field for c in reader.rules.schema.columns if c.type == "date"}

    def matches(self, sheet: str, hdr_idx: int, col_fields: list[tuple[int, str]]) -> bool:
        return not self.dead and sheet == self.sheet and hdr_idx == self.hdr_idx and col_fields == self.col_fields

    def __call__(self, rows: list[list[Any]], start: int, hidden: set[int]) -> None:
        if self.dead:
            return
        r = self.reader
        if self.hdr_idx < 0:
            need = r.rules.schema.register_spec.header_search_rows
            if len(rows) < need:
                return  # the header is looked for in as many rows as a whole read looks in
            found = r._find_header(rows[:need])
            if found is None:
                self.dead = True
                return
            self.hdr_idx, mapping = found
            if max((len(x) for x in rows[: self.hdr_idx + 1]), default=0) > r.rules.schema.limits.max_columns:
                self.dead = True  # the whole read says so
                return
            self.columns, _, self.col_fields = r._columns(self.sheet, rows[self.hdr_idx], self.hdr_idx + 1, mapping,
                                                          [])
            self.done_to = self.hdr_idx + 1
        kept, r.findings = r.findings, self.findings
        try:
            got = r._convert_rows(self.sheet, rows, self.done_to - 1, len(rows), self.col_fields, self.columns,
                                  self._dates, hidden)
            if self.out is None:
                self.out = got
            else:
                self.out.extend(got)
        finally:
            r.findings = kept
        self.done_to = len(rows)

"""The report writers on a 100,000-row register with 1 % of its cells flagged.

The workbook is built fast by writing the sheet XML straight into a template made by `perechen init`
(shared strings, like a workbook saved by Excel); the Register is built without reading it: reading is
not what is measured here. Other tests import :func:`big_register` for long sheets.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from perechen.models import Finding, Register, Row, Severity
from perechen.renderers.check import write_check_reports
from perechen.report import CheckReport
from perechen.rules import Rules
from perechen.template import build_workbook

SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def big_workbook(rules: Rules, n_rows: int, *, seed: int = 1) -> tuple[bytes, list[str]]:
    """Return (xlsx bytes, responsible person of each data row) for a register with ``n_rows`` rows."""
    rnd = random.Random(seed)
    template = build_workbook(rules, [], None)
    cols = rules.schema.columns
    people = [f"Специалист отдела № {i} Службы гостехнадзора" for i in range(1, 41)]
    strings: list[str] = []
    index: dict[str, int] = {}

    def sst(s: str) -> int:
        i = index.get(s)
        if i is None:
            i = index[s] = len(strings)
            strings.append(s)
        return i

    letters = [chr(65 + j) if j < 26 else "A" + chr(65 + j - 26) for j in range(len(cols))]
    header = "".join(f'<c r="{letters[j]}1" s="1" t="s"><v>{sst(c.header)}</v></c>' for j, c in enumerate(cols))
    rows = [f'<row r="1" spans="1:{len(cols)}" ht="45" customHeight="1">{header}</row>']
    who: list[str] = []
    for i in range(2, n_rows + 2):
        person = people[rnd.randrange(len(people))]
        who.append(person)
        cells = []
        for j, c in enumerate(cols):
            if c.field == "code":
                v = f"ТВ-{i:06d}"
            elif c.field == "responsible":
                v = person
            elif c.field == "changed_on":
                cells.append(f'<c r="{letters[j]}{i}" s="3"><v>{45300 + i % 400}</v></c>')
                continue
            elif c.ref_list:
                items = rules.lists[c.ref_list].items
                v = items[(i + j) % len(items)].value
            else:
                v = f"{c.header} для процесса номер {i % 5000}"
            cells.append(f'<c r="{letters[j]}{i}" s="2" t="s"><v>{sst(v)}</v></c>')
        rows.append(f'<row r="{i}" spans="1:{len(cols)}">' + "".join(cells) + "</row>")
    zin = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                body = "<sheetData>" + "".join(rows) + "</sheetData>"
                text = re.sub(r"<sheetData>.*</sheetData>|<sheetData\s*/>", lambda _m, b=body: b, text, flags=re.S)
                text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:{letters[-1]}{n_rows + 1}"', text)
                data = text.encode("utf-8")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CT}"/>'
                                    "</Types>".encode())
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdSst" Type="{SST_RT}" '
                                    'Target="sharedStrings.xml"/></Relationships>'.encode())
            zout.writestr(info, data)
        sst_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.'
                   f'org/spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'
                   + "".join(f"<si><t>{_esc(s)}</t></si>" for s in strings) + "</sst>")
        zout.writestr("xl/sharedStrings.xml", sst_xml)
    return out.getvalue(), who


def big_register(rules: Rules, n_rows: int, path: Path, *, flagged: float = 0.01,
                 seed: int = 2) -> tuple[Register, list[Finding]]:
    """A Register over ``big_workbook`` (without reading it) and findings on ``flagged`` of its cells."""
    data, who = big_workbook(rules, n_rows)
    path.write_bytes(data)
    cols = rules.schema.columns
    letters = [chr(65 + j) for j in range(len(cols))]
    reg = Register(path=path, sheet=rules.schema.register_spec.sheet, header_row=1,
                   columns={c.field: letters[j] for j, c in enumerate(cols)}, headers={c.field: c.header for c in cols},
                   rows=[Row(number=i + 2, values={"responsible": w}) for i, w in enumerate(who)], data=data)
    rnd = random.Random(seed)
    n_cells = n_rows * len(cols)
    picks = sorted(set(rnd.sample(range(n_cells), int(n_cells * flagged))))
    sev = [Severity.ERROR, Severity.WARNING, Severity.INFO]
    findings = []
    for k in picks:
        i, j = divmod(k, len(cols))
        rn = i + 2
        findings.append(Finding(code="required", severity=sev[k % 3], clause="2.1.2",
                                message=f"Заполните «{cols[j].header}»: значение не соответствует Порядку.",
                                sheet=reg.sheet, cell=f"{letters[j]}{rn}", row=rn, column=letters[j],
                                field=cols[j].field, value=f"значение {k}"))
    return reg, findings


@pytest.mark.slow
def test_reports_for_100k_rows_list_every_finding(rules: Rules, tmp_path: Path) -> None:
    """A 100,000-row register with 1 % of its cells flagged: every finding reaches «Замечания».

    Speed is measured by bench/bench_render.py, not here (house rule: no timed tests).
    """
    reg, findings = big_register(rules, 100_000, tmp_path / "big.xlsx", flagged=0.01)
    report = CheckReport(workbook=str(reg.path), rows=len(reg.rows), findings=findings, register=reg)
    out = tmp_path / "out"
    out.mkdir()
    write_check_reports(report, rules, out)
    ws = openpyxl.load_workbook(report.files["xlsx"], read_only=True)["Замечания"]
    assert ws.max_row == len(findings) + 1

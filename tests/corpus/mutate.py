"""Mutation fuzzer over real .xlsx bytes (issue 7, part 2).

``mutate(data, rnd)`` applies one to three mutations: byte flips, truncation, zip-level surgery
(drop, duplicate, shuffle, rename, swap members; stored instead of deflated) and XML-level damage
inside a member (deleted or repeated slices, junk, broken tags, wild cell references, styles and
types, DOCTYPEs and entities, odd encodings). The same (data, seed) always gives the same bytes, so
a crash is reproduced from its seed alone.

``run(seeds, seconds, base_seed)`` reads mutated files in a forked child process with resource limits
and reports every input that raised anything but the tool's own errors, killed the child (calamine
aborts on a failed allocation), or took longer than the per-file budget.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import random
import re
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WILD_REFS = ["XFD1048576", "A1048576", "S1048576", "ZZ150000", "A0", "", "a1", "A1:B2", "AAAA1", "A99999999999",
             "S2", "XFD1", "A-1", "$A$1", "A1 ", "1A", "A00002"]
WILD_TYPES = ["s", "e", "str", "b", "d", "n", "inlineStr", "x", ""]
WILD_TEXT = ["&lol;", "&#0;", "&#xD800;", "&#xFFFF;", "&#1114111;", "&amp", "<", "]]>", "\x00", "\udcff", "&#x1F600;",
             "Ѐ" * 40_000, "=1+1", "#REF!", "#N/A", "\ufeff", "\u202e", "\r\n", "Telegrаm"]
PROLOGS = ['<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.0" encoding="KOI8-R"?>',
           '<!DOCTYPE x [<!ENTITY a "b">]>', '<?xml version="1.1"?>', "\ufeff", '<?xml version="2.0"?>']


def _members(data: bytes) -> list[tuple[str, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [(i.filename, zf.read(i)) for i in zf.infolist()]
    except Exception:
        return None


def _zip(parts: list[tuple[str, bytes]], rnd: random.Random) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if rnd.random() < 0.15 else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, body in parts:
            zi = zipfile.ZipInfo(name, date_time=(2024, 2, 26, 0, 0, 0))
            zi.compress_type = method
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                zf.writestr(zi, body)
    return buf.getvalue()


# -- byte level -------------------------------------------------------------------------------------

def m_flip(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    if not b:
        return data
    for _ in range(rnd.choice([1, 1, 2, 8, 64])):
        i = rnd.randrange(len(b))
        b[i] ^= rnd.randrange(1, 256)
    return bytes(b)


def m_truncate(data: bytes, rnd: random.Random) -> bytes:
    return data[: rnd.randrange(len(data) + 1)] if data else data


def m_splice(data: bytes, rnd: random.Random) -> bytes:
    if len(data) < 4:
        return data
    i, j = sorted(rnd.randrange(len(data)) for _ in range(2))
    return data[:i] + data[j:] if rnd.random() < 0.5 else data[:j] + data[i:j] + data[j:]


# -- zip level --------------------------------------------------------------------------------------

def m_zip(data: bytes, rnd: random.Random) -> bytes:
    parts = _members(data)
    if not parts:
        return m_flip(data, rnd)
    op = rnd.choice(["drop", "dup", "shuffle", "rename", "swap", "restore", "empty"])
    k = rnd.randrange(len(parts))
    if op == "drop":
        parts.pop(k)
    elif op == "dup":
        parts.insert(rnd.randrange(len(parts) + 1), (parts[k][0], parts[rnd.randrange(len(parts))][1]))
    elif op == "shuffle":
        rnd.shuffle(parts)
    elif op == "rename":
        name = rnd.choice(["xl/worksheets/sheet9.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "XL/WORKBOOK.XML",
                           "../evil.xml", "/abs.xml", "xl/worksheets/sheet1.xml", "xl\\workbook.xml"])
        parts[k] = (name, parts[k][1])
    elif op == "swap":
        j = rnd.randrange(len(parts))
        parts[k], parts[j] = (parts[k][0], parts[j][1]), (parts[j][0], parts[k][1])
    elif op == "empty":
        parts[k] = (parts[k][0], b"")
    return _zip(parts, rnd)


# -- XML level --------------------------------------------------------------------------------------

def _xml_targets(parts: list[tuple[str, bytes]]) -> list[int]:
    return [i for i, (n, _) in enumerate(parts) if n.endswith((".xml", ".rels"))]


def x_slice(xml: bytes, rnd: random.Random) -> bytes:
    if len(xml) < 2:
        return xml
    i = rnd.randrange(len(xml))
    j = min(len(xml), i + rnd.choice([1, 5, 50, 500, 5000]))
    return xml[:i] + xml[j:] if rnd.random() < 0.6 else xml[:j] + xml[i:j] * rnd.choice([2, 10, 1000]) + xml[j:]


def x_junk(xml: bytes, rnd: random.Random) -> bytes:
    i = rnd.randrange(len(xml) + 1)
    junk = rnd.choice([b"<", b">", b"</c>", b"<c>", b"<row>", b"<v>", b"\x00", b"\xff\xfe", b"&", b"]]>",
                       b"<!--", b"-->", b"<![CDATA[", b'"', b"'", b"<?", b"?>",
                       bytes(rnd.randrange(256) for _ in range(16))])
    return xml[:i] + junk + xml[i:]


def x_ref(xml: bytes, rnd: random.Random) -> bytes:
    refs = [m.span(1) for m in re.finditer(rb'\br="([^"]*)"', xml)]
    if not refs:
        return x_junk(xml, rnd)
    out = xml
    for _ in range(rnd.choice([1, 1, 3, 30])):
        a, b = refs[rnd.randrange(len(refs))]
        new = rnd.choice(WILD_REFS).encode()
        if len(out) == len(xml):  # spans still valid only for the first edit
            out = out[:a] + new + out[b:]
        else:
            out = re.sub(rb'\br="[A-Z]+\d+"', b'r="' + new + b'"', out, count=1)
    if rnd.random() < 0.2:
        out = re.sub(rb'\sr="[^"]*"', b"", out, count=rnd.choice([1, 10, 0]))
    return out


def x_attr(xml: bytes, rnd: random.Random) -> bytes:
    op = rnd.choice(["t", "s", "v", "merge", "dim", "hidden", "date1904", "sheetname", "target", "numfmt", "formula",
                     "count"])
    if op == "t":
        return re.sub(rb'\bt="[^"]*"', b't="' + rnd.choice(WILD_TYPES).encode() + b'"', xml, count=rnd.choice([1, 0]))
    if op == "s":
        return re.sub(rb'\bs="\d+"', b's="' + str(rnd.choice([0, 99999, -1, 2**40])).encode() + b'"', xml,
                      count=rnd.choice([1, 0]))
    if op == "v":
        val = rnd.choice(["99999999", "-1", "1e308", "1e-308", "NaN", "inf", "", "abc", "2958466", "0.5", "60",
                          "-693594", "1" * 400])
        return re.sub(rb"<v>[^<]*</v>", b"<v>" + val.encode() + b"</v>", xml, count=rnd.choice([1, 5, 0]))
    if op == "merge":
        rng = rnd.choice(["A1:XFD1048576", "B3:A1", "ZZZZ1:A1", "A2:A2", "S2:S1048576", "A:A", "1:1"])
        cell = f'<mergeCells count="1"><mergeCell ref="{rng}"/></mergeCells>'.encode()
        return xml.replace(b"</sheetData>", b"</sheetData>" + cell, 1)
    if op == "dim":
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + rnd.choice(WILD_REFS).encode() + b'"', xml)
    if op == "hidden":
        return re.sub(rb"<row ", b'<row hidden="1" ', xml, count=rnd.choice([1, 100, 0]))
    if op == "date1904":
        return xml.replace(b"<workbookPr", b'<workbookPr date1904="' + rnd.choice([b"1", b"true", b"x"]) + b'"', 1)
    if op == "count":
        n = rnd.choice(["4000000000", "18446744073709551615", "-1", "0", "99999", " 4000000000"]).encode()
        return re.sub(rb'(uniqueCount|count)="[^"]*"', rb'\1="' + n + b'"', xml, count=2)
    if op == "sheetname":
        name = rnd.choice(["", "Перечень", "Сведения", "'", "a" * 300, "&lt;", "Лист1"]).encode()
        return re.sub(rb'name="[^"]*"', b'name="' + name + b'"', xml, count=1)
    if op == "target":
        tgt = rnd.choice(["", "../../../../etc/passwd", "/xl/worksheets/sheet1.xml", "worksheets/../../x.xml",
                          "http://example.invalid/x.xml", "worksheets/sheet1.xml#frag", "worksheets/sheet2.xml"])
        return re.sub(rb'Target="[^"]*"', b'Target="' + tgt.encode() + b'"', xml, count=1)
    if op == "numfmt":
        code = rnd.choice(["dd.mm.yyyy", "[$-419]D MMMM YYYY", "@", "0.00E+00", '"date"', "yyyy-mm-dd hh:mm:ss",
                           "[h]:mm", ";;;", "\\"]).encode()
        return re.sub(rb'formatCode="[^"]*"', b'formatCode="' + code + b'"', xml, count=1)
    return re.sub(rb"(<c [^>]*>)", rb"\1<f>" + rnd.choice([b"1+1", b"", b"A1&amp;B1", b"#REF!+1"]) + b"</f>", xml,
                  count=rnd.choice([1, 5]))


def x_text(xml: bytes, rnd: random.Random) -> bytes:
    t = rnd.choice(WILD_TEXT).encode("utf-8", "surrogatepass")
    repl = rb"<t\1>" + t.replace(b"\\", b"\\\\") + b"</t>"
    return re.sub(rb"<t([^>]*)>[^<]*</t>", repl, xml, count=rnd.choice([1, 3]))


def x_prolog(xml: bytes, rnd: random.Random) -> bytes:
    p = rnd.choice(PROLOGS).encode("utf-8")
    if xml.startswith(b"<?xml"):
        xml = xml.split(b"?>", 1)[-1]
    if rnd.random() < 0.2:
        return b"\xff\xfe" + (p + xml).decode("utf-8", "replace").encode("utf-16-le")
    return p + xml


FAR_REFS = ["XFD{r}", "xfd{r}", "ZZ{r}", "GS{r}", "A{r}", "S{r}", "$XFD${r}", "XFD0{r}"]
CELL_FORMS = ['<c r="{ref}"><v>1</v></c>', "<c r='{ref}'><v>1</v></c>", '<c r = "{ref}"><v>1</v></c>',
              '<c r="A1" r="{ref}"><v>1</v></c>', '<c foo="a>b" r="{ref}"><v>1</v></c>',
              '<c r="{ref}" t="inlineStr"><is/></c>', '<c r="{ref}"><x:v xmlns:x="urn:x">1</x:v></c>',
              '<x:c xmlns:x="urn:x" r="{ref}"><x:v>1</x:v></x:c>', '<c r="{ref}"><v> </v></c>',
              '<c r="{ref}"><f>1</f></c>', '<c r="{ref}" s="1"/>', "<c><v>1</v></c>" * 300,
              '<c r="{ref}"><!-- --><v>1</v></c>', '<c\tr="{ref}"><v>1</v></c>',
              '<c r="{ref}"><!-- </c> --><v>1</v></c>', '<c r="{ref}" foo="a/>b"><v>1</v></c>',
              '<c r="{ref}"><?pi </c>?><v>1</v></c>',
              '<c r="{ref}" t="inlineStr"><is><t><![CDATA[</c><c r="A1">]]></t></is></c>',
              '<c r="A1" x="<" r="{ref}"><v>1</v></c>', '<c r="{ref}"><f x="</c>">1</f><v>1</v></c>',
              '<c r="A1" x=\'<c r="B1"/>\' r="{ref}"><v>1</v></c>', '<c r="{ref}" x="/>"><v>1</v></c>']


def x_far_cell(xml: bytes, rnd: random.Random) -> bytes:
    """Cells far away, written in the ways calamine accepts (the extent guard must see every one)."""
    r = rnd.choice([3, 200, 60_001, 199_000, 200_031, 1_048_576])
    ref = rnd.choice(FAR_REFS).format(r=r)
    cell = rnd.choice(CELL_FORMS).format(ref=ref)
    row = rnd.choice([f'<row r="{r}">', f"<row r='{r}'>", "<row>"])
    tail = '<row r="199000"><c r="A199000"><v>1</v></c></row>' if rnd.random() < 0.5 else ""
    return xml.replace(b"</sheetData>", f"{row}{cell}</row>{tail}</sheetData>".encode(), 1)


XML_OPS: list[Callable[[bytes, random.Random], bytes]] = [x_slice, x_junk, x_ref, x_ref, x_attr, x_attr, x_attr,
                                                         x_text, x_prolog, x_far_cell, x_far_cell]


def m_xml(data: bytes, rnd: random.Random) -> bytes:
    parts = _members(data)
    if not parts:
        return m_splice(data, rnd)
    targets = _xml_targets(parts)
    if not targets:
        return m_zip(data, rnd)
    # Mostly the register sheet and the workbook/sharedStrings parts.
    weighted = [i for i in targets for _ in range(4 if "sheet1" in parts[i][0] or "workbook" in parts[i][0]
                                                  or "shared" in parts[i][0] else 1)]
    k = rnd.choice(weighted)
    name, body = parts[k]
    for _ in range(rnd.choice([1, 1, 2, 4])):
        body = rnd.choice(XML_OPS)(body, rnd)
    parts[k] = (name, body)
    return _zip(parts, rnd)


MUTATORS: list[Callable[[bytes, random.Random], bytes]] = [m_flip, m_truncate, m_splice, m_zip, m_zip, m_xml, m_xml,
                                                           m_xml, m_xml, m_xml]


def mutate(data: bytes, rnd: random.Random) -> bytes:
    for _ in range(rnd.choice([1, 1, 1, 2, 3])):
        data = rnd.choice(MUTATORS)(data, rnd)
    return data


def case_bytes(seeds: list[tuple[str, bytes]], base_seed: int, i: int) -> tuple[str, bytes]:
    """The i-th fuzz input of a campaign: deterministic in (seeds, base_seed, i)."""
    rnd = random.Random(f"{base_seed}:{i}")
    name, data = seeds[rnd.randrange(len(seeds))]
    return name, mutate(data, rnd)


# -- running ----------------------------------------------------------------------------------------

@dataclass
class Crash:
    index: int
    seed_name: str
    kind: str  # exception | reader_bug | died | hang | slow | memory
    detail: str
    data: bytes = b""


def _child(seeds: list[tuple[str, bytes]], base_seed: int, start: int, stop_at: float, cur: Any, conn: Any,
           workdir: str, per_file_seconds: float, mem_bytes: int, whole_check: bool) -> None:
    import resource  # POSIX only; test_fuzz_mutation skips without fork

    resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
    from perechen.config import Config
    from perechen.models import FileError, PerechenError
    from perechen.reader import read_register
    from perechen.rules import Rules

    root = Path(__file__).resolve().parents[2]
    rules = Rules.load(root / "rules")
    config = Config(base_dir=root) if whole_check else None
    path = Path(workdir) / "перечень.xlsx"
    i = start
    while time.monotonic() < stop_at:
        cur.value = i
        name, data = case_bytes(seeds, base_seed, i)
        path.write_bytes(data)
        os.utime(path, (time.time() - 3600, time.time() - 3600))  # a finished file: no waiting for a writer
        t0 = time.monotonic()
        try:
            reg = read_register(path, rules)
            if whole_check and config is not None:
                from perechen.api import check_workbook

                check_workbook(path, config, rules=rules, write_reports=False, register=reg)
        except FileError as e:
            if e.code == "reader_bug":
                conn.send((i, name, "reader_bug", e.message + "\n" + "".join(traceback.format_exception(e))))
            elif "не хватило памяти" in e.message:
                conn.send((i, name, "memory", e.message))
        except PerechenError:
            pass
        except BaseException as e:
            conn.send((i, name, "exception", "".join(traceback.format_exception(e))[-3000:]))
        took = time.monotonic() - t0
        if took > per_file_seconds:
            conn.send((i, name, "slow", f"{took:.1f} s"))
        i += 1
    cur.value = -i  # finished normally: the next index, negated
    conn.close()


def run(seeds: list[tuple[str, bytes]], seconds: float, base_seed: int = 0, *, per_file_seconds: float = 5.0,
        hang_seconds: float = 20.0, mem_bytes: int = 2_000_000_000, whole_check: bool = True,
        workdir: Path | None = None) -> tuple[int, list[Crash]]:
    """Fuzz for `seconds`; returns (inputs tried, crashes). Restarts the child after each fatal crash."""
    import tempfile

    ctx = mp.get_context("fork")
    crashes: list[Crash] = []
    deadline = time.monotonic() + seconds
    i = 0
    wd = Path(workdir or tempfile.mkdtemp(prefix="perechen-fuzz-"))
    while time.monotonic() < deadline:
        cur = ctx.Value("q", i)
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_child, args=(seeds, base_seed, i, deadline, cur, send, str(wd), per_file_seconds,
                                             mem_bytes, whole_check), daemon=True)
        p.start()
        send.close()
        last, since = cur.value, time.monotonic()
        while p.is_alive():
            p.join(0.2)
            while recv.poll():
                try:
                    idx, name, kind, detail = recv.recv()
                except EOFError:
                    break
                crashes.append(Crash(idx, name, kind, detail, case_bytes(seeds, base_seed, idx)[1]))
            if cur.value != last:
                last, since = cur.value, time.monotonic()
            elif time.monotonic() - since > hang_seconds:
                p.kill()
                p.join()
                crashes.append(Crash(last, case_bytes(seeds, base_seed, last)[0], "hang",
                                     f"no progress for {hang_seconds:.0f} s", case_bytes(seeds, base_seed, last)[1]))
                break
        while recv.poll():
            try:
                idx, name, kind, detail = recv.recv()
            except EOFError:
                break
            crashes.append(Crash(idx, name, kind, detail, case_bytes(seeds, base_seed, idx)[1]))
        recv.close()
        v = cur.value
        if v < 0 or (p.exitcode == 0 and time.monotonic() >= deadline):
            i = -v if v < 0 else v
            break
        if p.exitcode not in (0, None) and not (crashes and crashes[-1].kind == "hang" and crashes[-1].index == v):
            name, data = case_bytes(seeds, base_seed, v)
            crashes.append(Crash(v, name, "died", f"child exit code {p.exitcode}", data))
        i = v + 1
    return i, crashes


def save_crashes(crashes: list[Crash], outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for c in crashes:
        p = outdir / f"crash-{c.index}-{c.kind}.xlsx"
        p.write_bytes(c.data)
        (outdir / f"crash-{c.index}-{c.kind}.txt").write_text(f"seed file: {c.seed_name}\n{c.detail}\n")
        paths.append(p)
    return paths


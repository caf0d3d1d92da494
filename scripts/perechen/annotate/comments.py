"""Cell notes: the comments part and the legacy VML drawing that shows them."""

from __future__ import annotations

import re

from ..cells import col_letter, parse_ref
from ..models import SEVERITY_ORDER, Finding, Severity
from .ooxml import NS_MAIN, XML_DECL, Elem, SheetSkip, apply_edits, children, find_root, get_attr, xml_text

AUTHOR = "perechen"
_VML_NS = (b' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
           b' xmlns:x="urn:schemas-microsoft-com:office:excel"')
_SHAPETYPE = (b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
              b'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


_CAP_LABELS = {sev: sev.label.capitalize() for sev in Severity}


def comment_text(fs: list[Finding]) -> str:
    if len(fs) > 1:
        fs = sorted(fs, key=lambda f: (SEVERITY_ORDER[f.severity], f.code))
    parts = []
    for f in fs:
        meta = f.rule if f.citation in f.message else f"{f.citation}; {f.rule}"  # the source named once
        parts.append(f"{_CAP_LABELS[f.severity]} [{meta}]: {f.message}")
    return "\n".join(parts)


def _comment_runs(p: str, text: str, lead: str = "") -> str:
    """Two runs: the bold author line and the text (Tahoma 9, as Excel writes notes)."""
    font = f'<{p}sz val="9"/><{p}rFont val="Tahoma"/><{p}family val="2"/></{p}rPr><{p}t xml:space="preserve">'
    return (f"<{p}r><{p}rPr><{p}b/>{font}{xml_text(lead + AUTHOR)}:</{p}t></{p}r>"
            f"<{p}r><{p}rPr>{font}\n{xml_text(text)}</{p}t></{p}r>")


def _vml_shape(shape_id: int, row: int, col: int, text: str) -> str:
    """A hidden note box for the cell at 0-based (row, col)."""
    height = min(30, 3 + text.count("\n") + len(text) // 60)
    top = max(0, row - 1)
    return (f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            f'margin-top:1.5pt;width:300pt;height:{12 * height}pt;z-index:{shape_id % 1024 + 1};visibility:hidden" '
            f'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col + 1}, 15, {top}, 10, {col + 5}, 15, {top + height}, 4</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>")


Entry = tuple[tuple[int, int], str]  # ((row, column index), comment text)


def new_comments(entries: list[Entry]) -> bytes:
    out = [XML_DECL, f'<comments xmlns="{NS_MAIN}"><authors><author>{AUTHOR}</author></authors><commentList>'.encode()]
    letters = [col_letter(c) for c in range(max((c for (_, c), _ in entries), default=0) + 1)]
    for (r, c), text in entries:
        out.append(f'<comment ref="{letters[c]}{r}" authorId="0"><text>{_comment_runs("", text)}</text></comment>'
                   .encode())
    out.append(b"</commentList></comments>")
    return b"".join(out)


def merge_comments(xml: bytes, part: str, entries: list[Entry]) -> tuple[bytes, set[tuple[int, int]]]:
    root = find_root(xml, part)
    p = root.prefix
    ps = p.decode("ascii")
    kids = {k.name: k for k in children(xml, root.content_start, root.content_end)}
    authors, clist = kids.get(b"authors"), kids.get(b"commentList")
    if authors is None or clist is None or authors.empty:
        raise SheetSkip(f"часть {part} без авторов или списка примечаний")
    edits: list[tuple[int, int, bytes]] = []
    names = [xml[a.tag_end:a.content_end]
             for a in children(xml, authors.tag_end, authors.content_end) if a.name == b"author"]
    if AUTHOR.encode() in names:
        author_id = names.index(AUTHOR.encode())
    else:
        author_id = len(names)
        edits.append((authors.content_end, authors.content_end, f"<{ps}author>{AUTHOR}</{ps}author>".encode()))
    existing: dict[tuple[int, int], Elem] = {}
    if not clist.empty:
        for com in children(xml, clist.tag_end, clist.content_end):
            if com.name != b"comment":
                continue
            pos = parse_ref((get_attr(xml[com.start:com.tag_end], b"ref") or b"").decode("ascii", "replace"))
            if pos is not None:
                existing[pos] = com
    merged: set[tuple[int, int]] = set()
    new: list[str] = []
    for pos, text in entries:
        el = existing.get(pos)
        if el is not None:
            body = children(xml, el.tag_end, el.content_end)
            t = next((b for b in body if b.name == b"text"), None)
            if t is None or t.empty:
                raise SheetSkip(f"примечание {pos} в части {part} без текста")
            inner = children(xml, t.tag_end, t.content_end)
            at = next((b.start for b in inner if b.name in (b"rPh", b"phoneticPr")), t.content_end)
            edits.append((at, at, _comment_runs(ps, text, lead="\n\n").encode("utf-8")))
            merged.add(pos)
        else:
            r, c = pos
            new.append(f'<{ps}comment ref="{col_letter(c)}{r}" authorId="{author_id}"><{ps}text>'
                       f"{_comment_runs(ps, text)}</{ps}text></{ps}comment>")
    ins = "".join(new).encode("utf-8")
    if clist.empty:
        tag = xml[clist.start:clist.tag_end]
        edits.append((clist.start, clist.end, tag[:-2].rstrip() + b">" + ins + p.join((b"</", b"commentList>"))))
    else:
        edits.append((clist.content_end, clist.content_end, ins))
    return apply_edits(xml, edits), merged


def new_vml(shapes: list[Entry], block: int) -> bytes:
    n_blocks = len(shapes) // 1024 + 1
    data = ",".join(str(block + i) for i in range(n_blocks))
    out = [f'<xml{_VML_NS.decode()}>\n<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{data}"/>'
           f"</o:shapelayout>".encode(), _SHAPETYPE]
    sid = block * 1024 + 1
    for (r, c), text in shapes:
        out.append(_vml_shape(sid, r - 1, c, text).encode())
        sid += 1
    out.append(b"</xml>")
    return b"\n".join(out)


def merge_vml(xml: bytes, shapes: list[Entry], free_block: int) -> bytes:
    if not shapes:
        return xml
    end = xml.rfind(b"</xml>")
    if end < 0:
        raise SheetSkip("рисунок примечаний повреждён")
    ids = [int(m.group(1)) for m in re.finditer(rb"_x0000_s(\d+)", xml)]
    edits: list[tuple[int, int, bytes]] = []
    start_id = max(ids) + 1 if ids else free_block * 1024 + 1
    last_id = start_id + len(shapes) - 1
    blocks = set(range(start_id // 1024, last_id // 1024 + 1))
    m = re.search(rb"(<o:idmap\b[^>]*\bdata\s*=\s*[\"'])([\d,\s]*)([\"'])", xml)
    root_start = xml.find(b"<xml")
    root_end = xml.find(b">", root_start) + 1
    if root_start < 0 or root_end <= 0:
        raise SheetSkip("рисунок примечаний повреждён")
    if m:
        have = {int(b) for b in m.group(2).split(b",") if b.strip().isdigit()}
        if not blocks <= have:
            edits.append((m.start(2), m.end(2), ",".join(str(b) for b in sorted(have | blocks)).encode()))
    else:
        edits.append((root_end, root_end, b'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="'
                      + ",".join(str(b) for b in sorted(blocks)).encode() + b'"/></o:shapelayout>'))
    out: list[str] = []
    if b'id="_x0000_t202"' not in xml:
        out.append(_SHAPETYPE.decode())
    sid = start_id
    for (r, c), text in shapes:
        out.append(_vml_shape(sid, r - 1, c, text))
        sid += 1
    root_tag = xml[root_start:root_end]
    shapes_xml = "\n".join(out).encode("utf-8")
    if b"xmlns:v=" not in root_tag or b"xmlns:x=" not in root_tag or b"xmlns:o=" not in root_tag:
        shapes_xml = (shapes_xml.replace(b"<v:shape ", b"<v:shape" + _VML_NS + b" ")
                      .replace(b"<v:shapetype ", b"<v:shapetype" + _VML_NS + b" "))
    edits.append((end, end, shapes_xml + b"\n"))
    return apply_edits(xml, edits)

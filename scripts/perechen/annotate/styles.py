"""Appending fills, fonts and cell formats to ``xl/styles.xml``."""

from __future__ import annotations

import re

from ..models import Severity
from .ooxml import (
    CT_STYLES,
    FILL_RGB,
    HEADER_RGB,
    LINK_RGB,
    NS_MAIN,
    RT_STYLES,
    XML_DECL,
    AnnotateError,
    Elem,
    apply_edits,
    children,
    find_root,
    parse_small,
    set_attr,
)
from .package import Package
from .parts import Book

_MINIMAL_STYLES = (XML_DECL + b'<styleSheet xmlns="' + NS_MAIN.encode() + b'">'
                   b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
                   b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
                   b'<fill><patternFill patternType="gray125"/></fill></fills>'
                   b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                   b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                   b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
                   b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                   b"</styleSheet>")
_XF = re.compile(rb"<(?:\w+:)?xf\b(?:(?:[^\"'>]|\"[^\"]*\"|'[^']*')*?/>"
                 rb"|(?:[^\"'>]|\"[^\"]*\"|'[^']*')*>.*?</(?:\w+:)?xf>)", re.S)


class Styles:
    """Appends fills, fonts and cell formats to xl/styles.xml."""

    def __init__(self, pkg: Package, book: Book) -> None:
        self.pkg = pkg
        rels = book.rels.by_type(RT_STYLES)
        if rels and rels[0].target and pkg.has(rels[0].target):
            self.part = rels[0].target
            self.xml = pkg.read(self.part)
        else:
            self.part = "xl/styles.xml" if not pkg.has("xl/styles.xml") else pkg.unique_name("xl/styles{}.xml")
            self.xml = _MINIMAL_STYLES
            pkg.write(self.part, self.xml)
            book.rels.add(RT_STYLES, self.part)
            book.ct.override(self.part, CT_STYLES)
        parse_small(self.part, self.xml)
        root = find_root(self.xml, self.part)
        self.p = root.prefix
        kids = {k.name: k for k in children(self.xml, root.content_start, root.content_end)}
        for need in (b"fonts", b"fills", b"cellXfs"):
            if need not in kids:
                raise AnnotateError(f"в {self.part} нет раздела {need.decode()}")
        self.kids = kids
        self.n_fonts = self._count(kids[b"fonts"], b"font")
        self.n_fills = self._count(kids[b"fills"], b"fill")
        xfs = kids[b"cellXfs"]
        self.xfs = [m.group(0) for m in _XF.finditer(self.xml, xfs.tag_end, xfs.content_end)]
        self.has_style_xfs = b"cellStyleXfs" in kids
        self.new_fonts: list[bytes] = []
        self.new_fills: list[bytes] = []
        self.new_xfs: list[bytes] = []
        if self.n_fills < 2:  # fills 0 and 1 are reserved (none, gray125)
            for pattern in (b"none", b"gray125")[self.n_fills:]:
                pf = self._e(b"patternFill", b"", b' patternType="' + pattern + b'"')
                self.new_fills.append(self._e(b"fill", pf))
        self._fill_ids: dict[str, int] = {}
        self._font_ids: dict[str, int] = {}
        self._clones: dict[tuple[int, Severity], int] = {}
        self._named: dict[str, int] = {}

    def _e(self, name: bytes, content: bytes = b"", attrs: bytes = b"") -> bytes:
        p = self.p
        if not content:
            return b"<" + p + name + attrs + b"/>"
        return b"<" + p + name + attrs + b">" + content + b"</" + p + name + b">"

    def _count(self, el: Elem, child: bytes) -> int:
        if el.empty:
            return 0
        return sum(1 for k in children(self.xml, el.tag_end, el.content_end) if k.name == child)

    def fill(self, rgb: str) -> int:
        fid = self._fill_ids.get(rgb)
        if fid is None:
            pf = self._e(b"patternFill", self._e(b"fgColor", attrs=b' rgb="' + rgb.encode() + b'"')
                         + self._e(b"bgColor", attrs=b' indexed="64"'), b' patternType="solid"')
            self.new_fills.append(self._e(b"fill", pf))
            fid = self.n_fills + len(self.new_fills) - 1
            self._fill_ids[rgb] = fid
        return fid

    def font(self, kind: str) -> int:
        fid = self._font_ids.get(kind)
        if fid is None:
            style = self._e(b"b") if kind == "bold" else self._e(b"u")
            color = self._e(b"color", attrs=b' rgb="' + LINK_RGB.encode() + b'"') if kind == "link" else b""
            self.new_fonts.append(self._e(b"font", style + self._e(b"sz", attrs=b' val="11"') + color
                                          + self._e(b"name", attrs=b' val="Calibri"')
                                          + self._e(b"family", attrs=b' val="2"')))
            fid = self.n_fonts + len(self.new_fonts) - 1
            self._font_ids[kind] = fid
        return fid

    def _add_xf(self, xf: bytes) -> int:
        self.new_xfs.append(xf)
        return len(self.xfs) + len(self.new_xfs) - 1

    def flagged(self, base: int, sev: Severity) -> int:
        """A cell format like ``base`` but with the severity's fill."""
        key = (base, sev)
        xid = self._clones.get(key)
        if xid is not None:
            return xid
        fill = self.fill(FILL_RGB[sev])
        if 0 <= base < len(self.xfs):
            src = self.xfs[base]
        elif 0 <= base - len(self.xfs) < len(self.new_xfs):
            src = self.new_xfs[base - len(self.xfs)]
        elif self.xfs:
            src = self.xfs[0]
        else:
            src = self._e(b"xf", attrs=b' numFmtId="0" fontId="0" fillId="0" borderId="0"')
        end = src.find(b">") + 1
        tag = src[:end]
        tag = set_attr(tag, b"fillId", str(fill).encode())
        tag = set_attr(tag, b"applyFill", b"1")
        xid = self._add_xf(tag + src[end:])
        self._clones[key] = xid
        return xid

    def named(self, kind: str) -> int:
        """Formats of the «Замечания» sheet: header, text, link, and the severity fills."""
        xid = self._named.get(kind)
        if xid is not None:
            return xid
        font, fill, wrap, valign = 0, 0, True, b"top"
        if kind == "header":
            font, fill, valign = self.font("bold"), self.fill(HEADER_RGB), b"center"
        elif kind == "link":
            font, wrap = self.font("link"), False
        elif kind.startswith("sev-"):
            fill = self.fill(FILL_RGB[Severity(kind[4:])])
        attrs = (b' numFmtId="0" fontId="' + str(font).encode() + b'" fillId="' + str(fill).encode()
                 + b'" borderId="0"' + (b' xfId="0"' if self.has_style_xfs else b"")
                 + (b' applyFont="1"' if font else b"") + (b' applyFill="1"' if fill else b"")
                 + b' applyAlignment="1"')
        align = self._e(b"alignment", attrs=b' vertical="' + valign + b'"' + (b' wrapText="1"' if wrap else b""))
        xid = self._add_xf(self._e(b"xf", align, attrs))
        self._named[kind] = xid
        return xid

    def save(self) -> None:
        if not (self.new_fills or self.new_fonts or self.new_xfs):
            return
        xml = self.xml
        edits: list[tuple[int, int, bytes]] = []
        for name, new, count in ((b"fonts", self.new_fonts, self.n_fonts),
                                 (b"fills", self.new_fills, self.n_fills),
                                 (b"cellXfs", self.new_xfs, len(self.xfs))):
            if not new:
                continue
            el = self.kids[name]
            tag = xml[el.start:el.tag_end]
            total = str(count + len(new)).encode()
            if el.empty:  # self-closing
                open_tag = set_attr(tag, b"count", total)
                open_tag = open_tag[:-2].rstrip() + b">"
                edits.append((el.start, el.end, open_tag + b"".join(new) + b"</" + self.p + name + b">"))
            else:
                edits.append((el.start, el.tag_end, set_attr(tag, b"count", total)))
                close = el.content_end
                edits.append((close, close, b"".join(new)))
        self.pkg.write(self.part, apply_edits(xml, edits))

"""Namespaces, content types, escaping and tag-level helpers for string surgery on OOXML parts.

Parts are patched as bytes (never re-serialised), after :func:`check_xml_bytes` refused any DTD; small parts
are parsed with defusedxml first to prove they are well-formed.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape as _sax_escape

from ..errors import describe
from ..models import CodedError, Severity

# ARGB fills of flagged cells.
FILL_RGB = {Severity.ERROR: "FFFF9C9C", Severity.WARNING: "FFFFEB84", Severity.INFO: "FFBDD7EE"}
HEADER_RGB = "FFD9D9D9"
LINK_RGB = "FF0563C1"
EXCEL_TEXT_LIMIT = 32_767


NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
RT_WORKSHEET = NS_R + "/worksheet"
RT_COMMENTS = NS_R + "/comments"
RT_VML = NS_R + "/vmlDrawing"
RT_STYLES = NS_R + "/styles"
RT_CALC_CHAIN = NS_R + "/calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_MACRO_WB = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


class AnnotateError(CodedError):
    """The workbook's package cannot be patched (the message is Russian, for the report)."""

    default_code = "annotate_failed"


class SheetSkip(AnnotateError):
    """This sheet cannot be painted; its findings are still listed on «Замечания» (caught by the engine:
    the copy is still made, with a note)."""


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BAD_CHARS = re.compile("[\ufffe\uffff\ud800-\udfff]")
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


_NEEDS_ESCAPE = re.compile("[&<>\"\r_\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(s: str, limit: int = EXCEL_TEXT_LIMIT) -> str:
    """Escape ``s`` for an OOXML string (element text or attribute value).

    ``_xHHHH_`` sequences are Excel's own escapes, so a literal one is protected as ``_x005F_xHHHH_``;
    control characters XML cannot hold are written as ``_xHHHH_``; the result is XML-escaped.
    """
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    if _NEEDS_ESCAPE.search(s) is None:
        return s
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _OOXML_ESCAPE.sub(r"_x005F_\1", s)
    s = _ILLEGAL_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    s = _BAD_CHARS.sub("\ufffd", s)
    return _sax_escape(s, {'"': "&quot;"})


_ROOT_START = re.compile(rb"<[A-Za-z_]")


def check_xml_bytes(name: str, data: bytes) -> None:
    """Refuse a DTD (and with it entity declarations): it can only stand in the prolog, before the root."""
    m = _ROOT_START.search(data)
    prolog_end = m.start() if m else len(data)
    if data.find(b"<!DOCTYPE", 0, prolog_end) >= 0 or data.find(b"<!ENTITY", 0, prolog_end) >= 0:
        raise AnnotateError(f"часть {name} содержит объявление DTD")


def parse_small(name: str, data: bytes) -> Any:
    """Parse a small part with defusedxml (proves it is well-formed; refuses DTDs and entities)."""
    from defusedxml import ElementTree as DET

    check_xml_bytes(name, data)
    try:
        return DET.fromstring(data, forbid_dtd=True)
    except Exception as e:  # ParseError, DefusedXmlException
        raise AnnotateError(f"часть {name} повреждена ({describe(e)})") from None


TAG = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>"
                  rb"|<(/?)([A-Za-z_][\w.:-]*)((?:[^\"'>]|\"[^\"]*\"|'[^']*')*?)(/?)>", re.S)
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")


def local_name(name: bytes) -> bytes:
    return name.rsplit(b":", 1)[-1]


@dataclass
class Elem:
    name: bytes  # local name
    start: int
    end: int  # after the end tag (or the self-closing tag)
    tag_end: int  # after the start tag
    content_end: int = -1  # at the end tag (== tag_end when self-closing)

    @property
    def empty(self) -> bool:
        return self.content_end <= self.tag_end


def children(xml: bytes, start: int, end: int) -> list[Elem]:
    """Direct children of the element whose content spans [start, end)."""
    out: list[Elem] = []
    depth = 0
    cur: Elem | None = None
    for m in TAG.finditer(xml, start, end):
        name = m.group(2)
        if name is None:
            continue
        if m.group(1):
            depth -= 1
            if depth == 0 and cur is not None:
                cur.end = m.end()
                cur.content_end = m.start()
                out.append(cur)
                cur = None
            if depth < 0:
                raise AnnotateError("нарушена вложенность элементов XML")
            continue
        if m.group(4):
            if depth == 0:
                out.append(Elem(local_name(name), m.start(), m.end(), m.end(), m.end()))
            continue
        if depth == 0:
            cur = Elem(local_name(name), m.start(), -1, m.end())
        depth += 1
    if depth != 0:
        raise AnnotateError("нарушена вложенность элементов XML")
    return out


@dataclass
class Root:
    prefix: bytes  # b"" or b"x:"
    name: bytes
    content_start: int  # after the root start tag
    content_end: int  # at the root end tag
    start_tag: tuple[int, int]


def find_root(xml: bytes, part: str) -> Root:
    for m in TAG.finditer(xml):
        name = m.group(2)
        if name is None:
            continue
        if m.group(1) or m.group(4):
            raise AnnotateError(f"часть {part}: пустой корневой элемент")
        prefix = name[: name.rfind(b":") + 1]
        close = b"</" + name + b">"
        ce = xml.rfind(close)
        if ce < m.end():
            raise AnnotateError(f"часть {part}: нет закрывающего тега")
        return Root(prefix, local_name(name), m.end(), ce, (m.start(), m.end()))
    raise AnnotateError(f"часть {part}: нет корневого элемента")


_ATTR_CACHE: dict[bytes, re.Pattern[bytes]] = {}


def _attr_re(name: bytes) -> re.Pattern[bytes]:
    p = _ATTR_CACHE.get(name)
    if p is None:
        p = re.compile(rb"\s" + re.escape(name) + rb"\s*=\s*(\"[^\"]*\"|'[^']*')")
        _ATTR_CACHE[name] = p
    return p


def get_attr(tag: bytes, name: bytes) -> bytes | None:
    m = _attr_re(name).search(tag)
    return m.group(1)[1:-1] if m else None


def set_attr(tag: bytes, name: bytes, value: bytes) -> bytes:
    """Set an attribute in a start tag (``<x a="1">`` or ``<x/>``)."""
    m = _attr_re(name).search(tag)
    if m:
        return tag[: m.start()] + b" " + name + b'="' + value + b'"' + tag[m.end():]
    end = len(tag) - (2 if tag.endswith(b"/>") else 1)
    while end > 0 and tag[end - 1:end] in (b" ", b"\t", b"\n", b"\r"):
        end -= 1
    return tag[:end] + b" " + name + b'="' + value + b'"' + tag[end:].lstrip()


def del_attr(tag: bytes, name: bytes) -> bytes:
    m = _attr_re(name).search(tag)
    return tag[: m.start()] + tag[m.end():] if m else tag


def apply_edits(xml: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    if not edits:
        return xml
    edits.sort(key=lambda e: (e[0], e[1]))
    view = memoryview(xml)
    parts: list[bytes | memoryview] = []
    pos = 0
    for s, e, rep in edits:
        if s < pos:
            raise AnnotateError("пересекающиеся правки XML")
        parts.append(view[pos:s])
        parts.append(rep)
        pos = e
    parts.append(view[pos:])
    return b"".join(parts)


def rels_name(part: str) -> str:
    d, n = posixpath.split(part)
    return posixpath.join(d, "_rels", n + ".rels")


def resolve_target(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def relative_target(from_part: str, to_part: str) -> str:
    return posixpath.relpath(to_part, posixpath.dirname(from_part) or ".")


def xbytes(s: str) -> bytes:
    return xml_text(s).encode("utf-8")

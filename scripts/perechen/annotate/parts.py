"""The package's bookkeeping parts: relationships, ``[Content_Types].xml``, ``xl/workbook.xml`` and
``docProps/app.xml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..printing import PRINT_TITLES_NAME
from .ooxml import (
    CT_WORKSHEET,
    NS_MAIN,
    NS_PKG_REL,
    NS_R,
    NS_STRICT,
    RT_CALC_CHAIN,
    RT_WORKSHEET,
    XML_DECL,
    AnnotateError,
    apply_edits,
    children,
    find_root,
    get_attr,
    parse_small,
    relative_target,
    rels_name,
    resolve_target,
    set_attr,
    xbytes,
)
from .package import Package


@dataclass
class Rel:
    id: str
    type: str
    target: str  # resolved part name ("" for external)


class Rels:
    """A .rels part: read, add relationships, remove some."""

    def __init__(self, pkg: Package, source_part: str) -> None:
        self.pkg = pkg
        self.source = source_part
        self.name = rels_name(source_part)
        self.rels: list[Rel] = []
        self.xml: bytes | None = None
        self.dirty = False
        if pkg.has(self.name):
            self.xml = pkg.read(self.name)
            root = parse_small(self.name, self.xml)
            for el in root:
                if el.tag.rsplit("}", 1)[-1] != "Relationship":
                    continue
                rid, typ, tgt = el.get("Id") or "", el.get("Type") or "", el.get("Target") or ""
                external = (el.get("TargetMode") or "") == "External"
                self.rels.append(Rel(rid, typ, "" if external else resolve_target(source_part, tgt)))
        self.original = list(self.rels)
        self.new: list[bytes] = []
        self.drop: set[str] = set()

    def by_type(self, typ: str) -> list[Rel]:
        return [r for r in self.rels if r.type == typ and r.id not in self.drop]

    def by_id(self, rid: str) -> Rel | None:
        return next((r for r in self.rels if r.id == rid), None)

    def add(self, typ: str, part: str) -> str:
        ids = {r.id for r in self.rels}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rid = f"rId{n}"
        self.rels.append(Rel(rid, typ, part))
        target = relative_target(self.source, part)
        self.new.append(b'<Relationship Id="' + xbytes(rid) + b'" Type="' + xbytes(typ) + b'" Target="'
                        + xbytes(target) + b'"/>')
        self.dirty = True
        return rid

    def remove(self, rid: str) -> None:
        self.drop.add(rid)
        self.dirty = True

    def render(self) -> bytes | None:
        """The new bytes of the .rels part (None when nothing changed)."""
        if not self.dirty:
            return None
        if self.xml is None or not self.original:  # none, or an empty <Relationships/>: write it afresh
            xml = XML_DECL + b'<Relationships xmlns="' + NS_PKG_REL.encode() + b'"></Relationships>'
        else:
            xml = self.xml
        root = find_root(xml, self.name)
        p = root.prefix
        edits: list[tuple[int, int, bytes]] = []
        for ch in children(xml, root.content_start, root.content_end):
            tag = xml[ch.start:ch.tag_end]
            rid = get_attr(tag, b"Id")
            if rid is not None and rid.decode("utf-8", "replace") in self.drop:
                edits.append((ch.start, ch.end, b""))
        ins = b"".join(x.replace(b"<Relationship ", b"<" + p + b"Relationship ", 1) for x in self.new)
        edits.append((root.content_end, root.content_end, ins))
        return apply_edits(xml, edits)

    def save(self) -> None:
        data = self.render()
        if data is not None:
            self.pkg.write(self.name, data)


class ContentTypes:
    NAME = "[Content_Types].xml"

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self.xml = pkg.read(self.NAME)
        root = parse_small(self.NAME, self.xml)
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        for el in root:
            local = el.tag.rsplit("}", 1)[-1]
            if local == "Default":
                self.defaults[(el.get("Extension") or "").lower()] = el.get("ContentType") or ""
            elif local == "Override":
                self.overrides[(el.get("PartName") or "").lstrip("/")] = el.get("ContentType") or ""
        self.new: list[bytes] = []
        self.drop: set[str] = set()

    def type_of(self, part: str) -> str:
        if part in self.overrides:
            return self.overrides[part]
        ext = part.rsplit(".", 1)[-1].lower() if "." in part else ""
        return self.defaults.get(ext, "")

    def override(self, part: str, ctype: str) -> None:
        if self.overrides.get(part) == ctype:
            return
        if part in self.overrides:
            self.drop.add(part)
        self.overrides[part] = ctype
        self.new.append(b'<Override PartName="/' + xbytes(part) + b'" ContentType="' + xbytes(ctype) + b'"/>')

    def default(self, ext: str, ctype: str) -> None:
        if ext.lower() in self.defaults:
            return
        self.defaults[ext.lower()] = ctype
        self.new.insert(0, b'<Default Extension="' + xbytes(ext) + b'" ContentType="' + xbytes(ctype) + b'"/>')

    def remove(self, part: str) -> None:
        if part in self.overrides:
            self.drop.add(part)
            del self.overrides[part]

    def save(self) -> None:
        xml = self.xml
        root = find_root(xml, self.NAME)
        p = root.prefix
        edits: list[tuple[int, int, bytes]] = []
        for ch in children(xml, root.content_start, root.content_end):
            if ch.name != b"Override":
                continue
            pn = get_attr(xml[ch.start:ch.tag_end], b"PartName")
            if pn is not None and pn.decode("utf-8", "replace").lstrip("/") in self.drop:
                edits.append((ch.start, ch.end, b""))
        ins = b"".join(x.replace(b"<", b"<" + p, 1) for x in self.new)
        edits.append((root.content_end, root.content_end, ins))
        self.pkg.write(self.NAME, apply_edits(xml, edits))


@dataclass
class SheetRef:
    name: str
    part: str
    rid: str
    worksheet: bool


class Book:
    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        root_rels = Rels(pkg, "")  # _rels/.rels
        self.ct = ContentTypes(pkg)
        main = "xl/workbook.xml"
        for r in root_rels.rels:
            if r.type.endswith("/officeDocument") and r.target:
                main = r.target
        self.part = main
        self.xml = pkg.read(main)
        root_el = parse_small(main, self.xml)
        if root_el.tag.startswith("{" + NS_STRICT):
            raise AnnotateError("книга сохранена в формате Strict Open XML")
        if not root_el.tag.startswith("{" + NS_MAIN):
            raise AnnotateError("неизвестный формат xl/workbook.xml")
        self.rels = Rels(pkg, main)
        self.sheets: list[SheetRef] = []
        for el in root_el.iter(f"{{{NS_MAIN}}}sheet"):
            rid = el.get(f"{{{NS_R}}}id") or ""
            rel = self.rels.by_id(rid)
            part = rel.target if rel else ""
            self.sheets.append(SheetRef(el.get("name") or "", part, rid,
                                         rel is not None and rel.type == RT_WORKSHEET))
        self.new_sheet: tuple[str, str] | None = None  # (name, part)
        self.new_filter: str | None = None
        self.new_print_titles: str | None = None

    def sheet_by_name(self, name: str) -> SheetRef | None:
        for s in self.sheets:
            if s.name == name and s.worksheet and s.part and self.pkg.has(s.part):
                return s
        low = name.casefold()
        for s in self.sheets:
            if s.name.casefold() == low and s.worksheet and s.part and self.pkg.has(s.part):
                return s
        return None

    def free_sheet_name(self, wanted: str) -> str:
        taken = {s.name.casefold() for s in self.sheets}
        if wanted.casefold() not in taken:
            return wanted
        for i in range(2, 1000):
            cand = f"{wanted} ({i})"
            if cand.casefold() not in taken:
                return cand
        raise AnnotateError("нет свободного имени для листа замечаний")  # pragma: no cover

    def vml_blocks_in_use(self) -> int:
        """Highest VML shape-id block used by any drawing in the package."""
        top = 0
        for name in self.pkg.names | set(self.pkg.changed):
            if name.lower().endswith(".vml") and not name.startswith("["):
                try:
                    text = self.pkg.read(name)
                except AnnotateError:
                    continue
                for m in re.finditer(rb"idmap\b[^>]*\bdata\s*=\s*[\"']([\d,\s]+)[\"']", text):
                    for b in m.group(1).split(b","):
                        if b.strip().isdigit():
                            top = max(top, int(b))
                for m in re.finditer(rb"_x0000_s(\d+)", text):
                    top = max(top, int(m.group(1)) // 1024)
        return top

    def add_first_sheet(self, name: str, xml: bytes, filter_range: str | None,
                        print_titles: str | None = None) -> None:
        part = self.pkg.unique_name("xl/worksheets/sheet{}.xml")
        self.pkg.write(part, xml)
        self.ct.override(part, CT_WORKSHEET)
        rid = self.rels.add(RT_WORKSHEET, part)
        self.new_sheet = (name, rid)
        self.new_filter = filter_range
        self.new_print_titles = print_titles

    def save(self) -> None:
        xml = self.xml
        root = find_root(xml, self.part)
        p = root.prefix
        kids = children(xml, root.content_start, root.content_end)
        edits: list[tuple[int, int, bytes]] = []
        by = {k.name: k for k in kids}
        if self.new_sheet is not None:
            name, rid = self.new_sheet
            sheets = by.get(b"sheets")
            if sheets is None or sheets.empty:
                raise AnnotateError("в xl/workbook.xml нет списка листов")
            ids = [int(v) for v in re.findall(rb"\ssheetId\s*=\s*[\"'](\d+)[\"']", xml[sheets.start:sheets.end])]
            sheet_id = max(ids, default=0) + 1
            edits.append((sheets.tag_end, sheets.tag_end,
                          b"<" + p + b'sheet xmlns:r="' + NS_R.encode() + b'" name="' + xbytes(name)
                          + b'" sheetId="' + str(sheet_id).encode() + b'" r:id="' + xbytes(rid) + b'"/>'))
            # Views: keep the clerk's active sheet active (its index moves by one).
            views = by.get(b"bookViews")
            view_list = ([v for v in children(xml, views.tag_end, views.content_end) if v.name == b"workbookView"]
                         if views is not None and not views.empty else [])
            if views is not None and view_list:
                for v in view_list:
                    if v.name != b"workbookView":
                        continue
                    tag = xml[v.start:v.tag_end]
                    new = tag
                    at = get_attr(tag, b"activeTab")
                    new = set_attr(new, b"activeTab", str((int(at) if at and at.isdigit() else 0) + 1).encode())
                    fs = get_attr(tag, b"firstSheet")
                    if fs and fs.isdigit() and int(fs) > 0:
                        new = set_attr(new, b"firstSheet", str(int(fs) + 1).encode())
                    edits.append((v.start, v.tag_end, new))
            else:
                new_views = b"<" + p + b"bookViews><" + p + b'workbookView activeTab="1"/></' + p + b"bookViews>"
                if views is not None:
                    edits.append((views.start, views.end, new_views))
                else:
                    edits.append((sheets.start, sheets.start, new_views))
            # Defined names: sheet-local ones move by one; the new sheet's filter range.
            dn = by.get(b"definedNames")
            filt = b""
            if self.new_filter:
                filt = (b"<" + p + b'definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                        + xbytes(self.new_filter) + b"</" + p + b"definedName>")
            if self.new_print_titles:  # the header row on every printed page
                filt += (b"<" + p + b'definedName name="' + PRINT_TITLES_NAME.encode() + b'" localSheetId="0">'
                         + xbytes(self.new_print_titles) + b"</" + p + b"definedName>")
            if dn is not None:
                for d in children(xml, dn.tag_end, dn.content_end):
                    tag = xml[d.start:d.tag_end]
                    ls = get_attr(tag, b"localSheetId")
                    if ls is not None and ls.strip().isdigit():
                        edits.append((d.start, d.tag_end,
                                      set_attr(tag, b"localSheetId", str(int(ls) + 1).encode())))
                if filt:
                    if dn.empty:  # <definedNames/>
                        edits.append((dn.start, dn.end, b"<" + p + b"definedNames>" + filt + b"</" + p
                                      + b"definedNames>"))
                    else:
                        edits.append((dn.tag_end, dn.tag_end, filt))
            elif filt:
                after = [k for k in kids if k.name in (b"sheets", b"functionGroups", b"externalReferences")]
                where = max(k.end for k in after)
                edits.append((where, where, b"<" + p + b"definedNames>" + filt + b"</" + p + b"definedNames>"))
        self.pkg.write(self.part, apply_edits(xml, edits))
        # calcChain refers to sheets by position in some writers; it is only a cache: drop it.
        for r in self.rels.by_type(RT_CALC_CHAIN):
            self.rels.remove(r.id)
            if r.target:
                self.pkg.remove(r.target)
                self.ct.remove(r.target)
        self.rels.save()
        self._save_app()
        self.ct.save()

    def _save_app(self) -> None:
        name = "docProps/app.xml"
        if self.new_sheet is None or not self.pkg.has(name):
            return
        try:
            xml = self.pkg.read(name)
            parse_small(name, xml)
        except AnnotateError:
            return
        hp = re.search(rb"<(?:\w+:)?HeadingPairs>(.*?)</(?:\w+:)?HeadingPairs>", xml, re.S)
        tp = re.search(rb"<(?:\w+:)?TitlesOfParts>\s*(<(\w+:)?vector\b[^>]*>)", xml, re.S)
        if not hp or not tp:
            return
        i4 = re.search(rb"<(?:\w+:)?i4>(\d+)</(?:\w+:)?i4>", hp.group(1))
        vec_tag = tp.group(1)
        size = get_attr(vec_tag, b"size")
        if not i4 or size is None or not size.isdigit():
            return
        vp = tp.group(2) or b""
        edits: list[tuple[int, int, bytes]] = [
            (hp.start(1) + i4.start(1), hp.start(1) + i4.end(1), str(int(i4.group(1)) + 1).encode()),
            (tp.start(1), tp.end(1), set_attr(vec_tag, b"size", str(int(size) + 1).encode())),
            (tp.end(1), tp.end(1), b"<" + vp + b"lpstr>" + xbytes(self.new_sheet[0]) + b"</" + vp + b"lpstr>"),
        ]
        self.pkg.write(name, apply_edits(xml, edits))

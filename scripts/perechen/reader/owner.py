"""Who has the workbook open: the user named in Excel's «~$» owner file or LibreOffice's «.~lock…#» file."""

from __future__ import annotations

from pathlib import Path


def lock_owner(path: Path) -> str | None:
    """The user named in Excel's «~$» lock file or LibreOffice's «.~lock…#» file, if one is present."""
    candidates = [path.with_name("~$" + path.name)]
    if len(path.name) > 2:
        candidates.append(path.with_name("~$" + path.name[2:]))
    for lock in candidates:
        try:
            raw = lock.read_bytes()[:512]
        except OSError:
            continue
        name = parse_excel_lock(raw)
        if name:
            return name
    lo = path.with_name(f".~lock.{path.name}#")
    try:
        text = lo.read_text("utf-8", "replace")
    except OSError:
        return None
    parts = text.split(",")
    return (parts[0] or (parts[2] if len(parts) > 2 else "")).strip() or None


def parse_excel_lock(raw: bytes) -> str | None:
    """Excel's owner file: a length byte and the ANSI name, then at 0x36 the name in UTF-16."""
    if len(raw) < 2:
        return None
    if len(raw) >= 0x38 + 2:
        n = raw[0x36]
        if 0 < n <= 54:
            chunk = raw[0x38:0x38 + 2 * n]
            try:
                name = chunk.decode("utf-16-le").strip("\x00 ")
                if name and name.isprintable():
                    return name
            except UnicodeDecodeError:
                pass
    n = raw[0]
    if 0 < n <= 53:
        try:
            name = raw[1:1 + n].decode("cp1251").strip("\x00 ")
            return name or None
        except UnicodeDecodeError:
            return None
    return None

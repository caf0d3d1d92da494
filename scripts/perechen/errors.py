"""What went wrong, in Russian, for an exception raised by Python, a parser or a library.

The tool's own errors carry Russian messages (models.PerechenError); this module is for the others — an
OSError, a broken zip or XML part, a TOML or JSON syntax error — whose text is English (or glibc's, or
Windows' in the user's language). A clerk sees what happened and where (line, column, byte), never the
library's English sentence. Python's class names and messages stay out of it as well.
"""

from __future__ import annotations

import errno
import json
import re
import tomllib
import zipfile
import zlib
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

from .models import PerechenError

_ERRNO = {
    errno.ENOENT: "файл или папка не найдены",
    errno.EACCES: "нет прав доступа",
    errno.EPERM: "операция не разрешена",
    errno.ENOSPC: "на диске нет места",
    errno.EROFS: "диск доступен только для чтения",
    errno.EISDIR: "указана папка, а не файл",
    errno.ENOTDIR: "часть пути — не папка",
    errno.EEXIST: "файл уже существует",
    errno.EBUSY: "файл занят другой программой",
    errno.ETIMEDOUT: "время ожидания истекло",
    errno.ECONNREFUSED: "соединение отклонено",
    errno.ECONNRESET: "соединение разорвано",
    errno.EHOSTUNREACH: "узел недоступен",
    errno.ENETUNREACH: "сеть недоступна",
    errno.ENAMETOOLONG: "слишком длинное имя файла",
    errno.EMFILE: "открыто слишком много файлов",
    errno.EIO: "ошибка ввода-вывода на диске",
}
# Windows error codes that matter for files on a share or open in Excel.
_WINERROR = {
    2: "файл не найден",
    3: "путь не найден",
    5: "нет доступа (файл открыт в другой программе или нет прав)",
    32: "файл открыт в другой программе",
    33: "часть файла заблокирована другой программой",
    53: "сетевой путь не найден",
    64: "сетевое имя больше недоступно",
    112: "на диске нет места",
}
_POSITION = re.compile(r"line (\d+),? column (\d+)")


def _at(line: int | None, column: int | None) -> str:
    if line is None:
        return ""
    return f" в строке {line}" + (f", позиции {column}" if column is not None else "")


def valid_regex(pattern: str) -> str:
    """``pattern`` if it compiles; otherwise a ValueError saying in Russian where it breaks (for validators)."""
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(describe(e)) from None
    return pattern


def describe(e: BaseException) -> str:
    """A short Russian description of ``e`` for a message (no English, no class names)."""
    if isinstance(e, PerechenError):
        return e.message
    if isinstance(e, re.error):
        return "некорректное регулярное выражение" + (f" (позиция {e.pos + 1})" if e.pos is not None else "")
    if isinstance(e, MemoryError):
        return "не хватило памяти"
    if isinstance(e, ExpatError):
        return "разметка XML повреждена" + _at(getattr(e, "lineno", None), getattr(e, "offset", None))
    if isinstance(e, ParseError):
        line, col = getattr(e, "position", (None, None))
        return "разметка XML повреждена" + _at(line, col)
    if isinstance(e, tomllib.TOMLDecodeError):
        m = _POSITION.search(str(e))
        return "ошибка синтаксиса" + (_at(int(m[1]), int(m[2])) if m else "")
    if isinstance(e, json.JSONDecodeError):
        return "данные JSON повреждены" + _at(e.lineno, e.colno)
    if isinstance(e, UnicodeDecodeError):
        return f"текст не в кодировке {e.encoding.upper()} (байт {e.start + 1})"
    if isinstance(e, UnicodeEncodeError):
        return f"символ, которого нет в кодировке {e.encoding.upper()}"
    if isinstance(e, zipfile.BadZipFile):
        return "архив повреждён или обрывается"
    if isinstance(e, zlib.error):
        return "сжатые данные повреждены"
    if isinstance(e, EOFError):
        return "файл обрывается раньше, чем должен"
    if isinstance(e, KeyError):
        return "в файле нет нужной части"
    if isinstance(e, OSError):
        winerror = getattr(e, "winerror", None)
        if isinstance(winerror, int) and winerror in _WINERROR:
            return _WINERROR[winerror]
        if isinstance(e, TimeoutError):
            return "время ожидания истекло"
        if e.errno in _ERRNO:
            return _ERRNO[e.errno]
        return f"ошибка ввода-вывода (код {e.errno})" if e.errno else "ошибка ввода-вывода"
    text = str(e).strip()
    if re.search("[А-Яа-яЁё]", text):
        return text.splitlines()[0][:200]  # already Russian (our own ValueError texts)
    return "непредвиденная ошибка"

"""No library English reaches a clerk (issue 11 item 20, house rule 3): perechen.errors.describe says in Russian
what went wrong for the exceptions Python, the parsers and the OS raise, and the messages that used to carry
their English text (a damaged worksheet, a broken rules file, a damaged published version) now carry it."""

from __future__ import annotations

import errno
import json
import re
import subprocess
import sys
import tomllib
import zipfile
import zlib
from pathlib import Path
from xml.parsers import expat

import pytest

from perechen.errors import describe
from perechen.models import PerechenError

ROOT = Path(__file__).resolve().parents[1]
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")


def _raised(fn) -> BaseException:  # type: ignore[no-untyped-def]
    try:
        fn()
    except BaseException as e:
        return e
    raise AssertionError("nothing raised")


def _expat() -> None:
    p = expat.ParserCreate()
    p.Parse(b"<a><b></a>", True)


CASES = [
    (_raised(_expat), "разметка XML повреждена в строке 1"),
    (_raised(lambda: tomllib.loads("a = = 1")), "ошибка синтаксиса в строке 1"),
    (_raised(lambda: json.loads("{\n  x")), "данные JSON повреждены в строке 2"),
    (_raised(lambda: b"\xff".decode("utf-8")), "кодировке UTF-8"),
    (_raised(lambda: zlib.decompress(b"not zlib")), "сжатые данные повреждены"),
    (zipfile.BadZipFile("File is not a zip file"), "архив повреждён"),
    (OSError(errno.ENOENT, "No such file or directory"), "не найдены"),
    (OSError(errno.ENOSPC, "No space left on device"), "нет места"),
    (PermissionError(errno.EACCES, "Permission denied"), "нет прав"),
    (MemoryError(), "не хватило памяти"),
    (RuntimeError("Something odd happened in a library"), "непредвиденная ошибка"),
    (PerechenError("x", "Книга не найдена."), "Книга не найдена."),
]


@pytest.mark.parametrize(("exc", "expected"), CASES, ids=[type(c[0]).__name__ + str(i) for i, c in enumerate(CASES)])
def test_describe_is_russian(exc: BaseException, expected: str) -> None:
    text = describe(exc)
    assert expected in text
    assert not ENGLISH_WORD.search(text.replace("XML", "").replace("UTF", "").replace("JSON", "")), text


def test_windows_sharing_violation_is_named() -> None:
    e = OSError(13, "Отказано в доступе")
    e.winerror = 32  # type: ignore[attr-defined]
    assert describe(e) == "файл открыт в другой программе"


def test_damaged_worksheet_message_has_no_library_english(tmp_path: Path) -> None:
    src = ROOT / "workbook" / "perechen.xlsx"
    bad = tmp_path / "книга.xlsx"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(bad, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data[: len(data) // 2] + b"<<>>" + data[len(data) // 2:]
            out.writestr(info, data)
    run = subprocess.run([sys.executable, "-m", "perechen", "check", str(bad), "--no-report"], capture_output=True,
                         text=True, encoding="utf-8", cwd=tmp_path, check=False)
    assert run.returncode == 2
    message = run.stderr.strip().splitlines()[-1]
    assert "разметка XML повреждена в строке 1, позиции" in message
    rest = message.replace(str(bad), "").replace("xl/worksheets/sheet2.xml", "").replace("XML", "")
    assert not ENGLISH_WORD.search(rest), message
    assert "Traceback" not in run.stderr


def test_broken_rules_file_message_is_russian(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    import shutil

    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    (rules / "lists.toml").write_text("[broken\n", encoding="utf-8")
    (tmp_path / "perechen.toml").write_text("", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "perechen", "rules", "--config", str(tmp_path / "perechen.toml")],
                         capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, check=False)
    assert run.returncode == 2, run.stdout + run.stderr
    message = run.stderr.strip()
    assert "ошибка синтаксиса в строке 1" in message, message
    rest = message.replace(str(rules / "lists.toml"), "").replace("TOML", "")
    assert not ENGLISH_WORD.search(rest), message


def test_broken_regex_in_rules_is_russian(tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    schema = rules / "schema.toml"
    text = schema.read_text(encoding="utf-8")
    start = text.index("code_pattern")
    end = text.index("\n", start)
    schema.write_text(text[:start] + "code_pattern = '[ТВ'" + text[end:], encoding="utf-8")
    (tmp_path / "perechen.toml").write_text("", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "perechen", "rules", "--config", str(tmp_path / "perechen.toml")],
                         capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, check=False)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "некорректное регулярное выражение (позиция 1)" in run.stderr, run.stderr
    assert "unterminated" not in run.stderr

"""The reader's test for a column of texts that need no normalising (reader/values._plain_texts): it must say yes
exactly when every text is what normalize() would leave as it is, the way it said so when it tested NFC itself and
looked at the texts' ends with startswith/endswith."""

from __future__ import annotations

import random
import sys
import unicodedata
from pathlib import Path

from perechen.reader import read_register
from perechen.reader.values import _PLAIN_JOINED, _plain_texts
from perechen.rules import Rules
from perechen.text import normalize


def _plain_chars() -> list[str]:
    return [chr(i) for i in range(sys.maxunicode + 1)
            if not 0xD800 <= i <= 0xDFFF and _PLAIN_JOINED.search(chr(i)) is None]


def test_a_text_of_plain_characters_is_in_nfc() -> None:
    """Why _plain_texts does not test NFC: every plain character is a starter, in NFC by itself, and never the second
    character of a canonical decomposition — so it never composes with the character before it (NFC_Quick_Check =
    Yes for every one: a text of them is in NFC whatever their order)."""
    plain = _plain_chars()
    assert "ё" in plain and "№" in plain and "\x00" in plain and "\t" not in plain and "\u0306" not in plain
    seconds = set()
    for i in range(sys.maxunicode + 1):
        parts = unicodedata.decomposition(chr(i)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):  # canonical pairs only (compatibility ones are <tagged>)
            seconds.add(chr(int(parts[1], 16)))
    for c in plain:
        assert unicodedata.combining(c) == 0, hex(ord(c))
        assert unicodedata.is_normalized("NFC", c), hex(ord(c))
        assert c not in seconds, hex(ord(c))
    rnd = random.Random(14)
    for a in plain:  # every pair, both ways round, with a few others
        for b in rnd.sample(plain, 40):
            assert unicodedata.is_normalized("NFC", a + b + a)


def _old_plain_texts(texts: list[str]) -> bool:
    """_plain_texts as it was before it stopped testing NFC and looked at the ends with strip()."""
    if not texts:
        return True
    joined = "\x00".join(texts)
    return (_PLAIN_JOINED.search(joined) is None and "  " not in joined
            and not any(t.startswith((" ", "\n")) for t in texts)
            and not any(t.endswith((" ", "\n")) for t in texts) and unicodedata.is_normalized("NFC", joined))


def test_plain_texts_says_what_it_said_and_what_normalize_agrees_with() -> None:
    rnd = random.Random(3)
    pieces = ["Приём", "заявлений", "ЁЛКА", "№ 5", "«да»", "", " ", "\n", "  ", "\t", "\u00a0", "e", "Й", "И\u0306",
              "е\u0308", "2025-06-02", "(1)", "%", "\r", "x y", "ё\n", "\ufeff", "–"]
    cases = [[], [""], [" "], ["\n"], ["а "], [" а"], ["а\n"], ["\nа"], ["а  б"], ["а б"], ["И\u0306"], ["Й"],
             ["а", "б "], ["а", " б"], ["а\tб"]]
    for _ in range(3000):
        cases.append(["".join(rnd.choices(pieces, k=rnd.randint(0, 4))) for _ in range(rnd.randint(1, 4))])
    for texts in cases:
        got = _plain_texts(texts)
        assert got == _old_plain_texts(texts), texts
        if got:  # what it calls plain normalize() leaves as it is
            assert all(normalize(t) == t.strip() == t or t == "" for t in texts), texts


def test_a_column_keeps_one_object_per_text_and_its_values(tmp_path: Path) -> None:
    """Repeated texts (calamine makes one str object per cell) become one object per distinct text in the register's
    columns, in plain columns and in columns normalize() changes alike; the values are what the cells say."""
    import xlsxwriter

    path = tmp_path / "r.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Перечень")
    rules = Rules.load()
    fields = ["code", "area", "process", "name", "channel", "kind"]
    for j, f in enumerate(fields):
        ws.write(0, j, rules.columns[f].header)
    areas = ["Лицензирование", "Надзор", ""]
    names = ["Приём  заявлений", " Консультация", "Выдача"]
    for i in range(1, 61):
        ws.write_row(i, 0, [f"ТВ-{i:03d}", areas[i % 3], f"Процесс {i % 4}", names[i % 3], "Очно", "Вид"])
    wb.close()
    reg = read_register(path, rules)
    table = reg._columns()
    assert table is not None and len(table) == 60
    for f in ("area", "name", "channel"):
        col = table.cols[f]
        distinct = {id(v) for v in col if v is not None}
        assert len(distinct) == len({v for v in col if v is not None}), f
    assert table.cols["area"][:3] == ["Надзор", None, "Лицензирование"]
    assert table.cols["name"][:3] == ["Консультация", "Выдача", "Приём заявлений"]
    assert table.originals[0]["name"] == " Консультация" and table.originals[2]["name"] == "Приём  заявлений"
    assert table.cols["code"][:2] == ["ТВ-001", "ТВ-002"]

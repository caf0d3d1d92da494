"""The reader's test for a column of texts that need no normalising (reader/values._plain_texts): it must say yes
exactly when every text is what normalize() would leave as it is, the way it said so when it tested NFC itself and
looked at the texts' ends with startswith/endswith."""

from __future__ import annotations

import random
import sys
import unicodedata

from perechen.reader.values import _PLAIN_JOINED, _as_is, _plain_texts
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


def test_as_is_told_whether_the_column_has_an_empty_cell() -> None:
    col = ("а", "", "б")
    assert _as_is(col) == _as_is(col, True) == ["а", None, "б"]
    assert _as_is(("а", "б")) == _as_is(("а", "б"), False) == ["а", "б"]

"""The header row the reader finds (register._SheetReader._find_header) is the first row naming the most fields, also
now that it stops at a row naming every field."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from perechen.reader.package import Package
from perechen.reader.register import _SheetReader
from perechen.rules import Rules
from perechen.text import header_key


def _reference(rules: Rules, rows: list[list[Any]]) -> tuple[int, dict[int, str]] | None:
    """_find_header as it was: every row looked at."""
    best: tuple[int, dict[int, str]] | None = None
    best_n = 0
    for i, row in enumerate(rows):
        mapping = {j: f for j, v in enumerate(row[:rules.schema.limits.max_columns])
                   if isinstance(v, str) and v and len(v) < 500 and (f := rules.header_index.get(header_key(v)))}
        n = len(set(mapping.values()))
        if n > best_n:
            best, best_n = (i, mapping), n
    spec = rules.schema.register_spec
    if best is not None and best_n >= spec.min_header_matches:
        if sum(1 for f in set(best[1].values()) if f in spec.identity_fields) >= spec.min_identity_matches:
            return best
    return None


def test_the_first_row_naming_the_most_fields_wins(rules: Rules, tmp_path: Path) -> None:
    import zipfile

    reader = _SheetReader(tmp_path / "x.xlsx", rules, Package(zf=zipfile.ZipFile(tmp_path / "z.zip", "w")), b"",
                          time.monotonic(), None)
    headers = [c.header for c in rules.schema.columns if c.header]
    variants = [*headers, *(h.upper() for h in headers), *(h + " " for h in headers), "Примечание", "№", "", None,
                1.0, "Код", "Приём заявлений", "x" * 600]
    rnd = random.Random(9)
    for _ in range(400):
        rows: list[list[Any]] = []
        for _ in range(rnd.randint(0, 12)):
            kind = rnd.random()
            if kind < 0.25:  # a complete header row, shuffled, maybe with extra cells
                row: list[Any] = list(headers)
                rnd.shuffle(row)
                row += rnd.choices(variants, k=rnd.randint(0, 3))
            elif kind < 0.5:  # a partial one
                row = rnd.sample(headers, rnd.randint(1, len(headers)))
            else:
                row = rnd.choices(variants, k=rnd.randint(0, 25))
            rows.append(row)
        assert reader._find_header(rows) == _reference(rules, rows), rows

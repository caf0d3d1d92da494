"""`read_register` of a git revision's reader package against the work tree's, on the very same files, in one process:
a region's agencies (a folder of workbooks, read one after another as a region worker reads them) or a large register.

    .venv/bin/python -m bench.reader_ab --old main output/bench/region_60x2000/workbooks
    .venv/bin/python -m bench.reader_ab --old main output/bench/register_100000_ss.xlsx --repeats 5

Old and new run alternately, file by file (CPU time of the whole process, time.process_time, so that a busy machine
slows both alike, and the reader's background threads count too), and every register must be the same both ways:
sheet, header row, columns, headers, the columns' values and originals, hidden rows, findings (code, cell, row,
message, value, in order), problem and formula cells, info, sheet names, sha256. The old package is
``scripts/perechen/reader/`` of the revision, imported as ``perechen._old_reader`` (its relative imports of models,
rules, text … resolve to the work tree's). The cache of header keys (shared by both) is emptied before every read: in a
region's worker each agency's first rows are new to it.
"""

from __future__ import annotations

import argparse
import gc
import glob
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _old_reader(rev: str, folder: Path) -> ModuleType:
    """scripts/perechen/reader/ of ``rev`` as the package perechen._old_reader (as bench/checks_ab.py imports a
    revision's checks)."""
    from bench.checks_ab import _old_package

    return _old_package(rev, folder, "reader")


def facts(reg: Any) -> tuple[Any, ...]:
    """Everything read_register returns that a caller can see (the columns before any Row is built)."""
    t = reg._columns()
    table = None if t is None else (t.fields, t.numbers, {f: [(v.__class__, v) for v in c] for f, c in t.cols.items()},
                                    {k: {f: (v.__class__, v) for f, v in o.items()} for k, o in t.originals.items()},
                                    t.hidden)
    return (reg.sheet, reg.header_row, reg.columns, reg.headers, table, reg.info, reg.info_sheet,
            [(tuple(f.to_dict().items()), repr(f.value)) for f in reg.findings], reg.sheet_names, reg.lock_owner,
            reg.sha256, reg.problem_cells, reg.formula_cells, len(reg.data))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", nargs="+", help="workbooks, or folders of workbooks")
    ap.add_argument("--old", default="main", help="git revision of the reader to compare with (default main)")
    ap.add_argument("--files", type=int, default=60, help="workbooks taken from each folder (default 60)")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()

    from perechen.reader import read_register
    from perechen.rules import Rules
    from perechen.text import header_key

    files: list[str] = []
    for arg in args.input:
        p = Path(arg)
        files += sorted(glob.glob(str(p / "*.xlsx")))[:args.files] if p.is_dir() else [str(p)]
    rules = Rules.load()
    with tempfile.TemporaryDirectory(prefix="perechen-reader-ab-") as tmp:
        old = _old_reader(args.old, Path(tmp))
        runs: dict[str, Callable[..., Any]] = {"old": old.read_register, "new": read_register}
        for f in files:
            if facts(runs["old"](f, rules)) != facts(runs["new"](f, rules)):
                sys.exit(f"different registers: {f}")
        times: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(args.repeats):
            # Alternated file by file (which one goes first, too): a busy spell of the machine slows both alike.
            spent = {"old": 0.0, "new": 0.0}
            for k, f in enumerate(files):
                for name in (("old", "new") if (i + k) % 2 == 0 else ("new", "old")):
                    header_key.cache_clear()  # as in a region's worker: an agency's first rows are new to the cache
                    c = time.process_time()
                    runs[name](f, rules)
                    spent[name] += time.process_time() - c
            for name in spent:
                times[name].append(spent[name])
            gc.collect()

    def ms(name: str) -> str:
        t = sorted(times[name])
        return f"min {t[0] * 1000:.0f} ms, median {t[len(t) // 2] * 1000:.0f} ms"

    ratios = sorted(n / o for n, o in zip(times["new"], times["old"], strict=True))
    print(f"read_register of {len(files)} workbook(s), process CPU of {args.repeats} repeats each (old and new "
          f"alternated file by file); same registers")
    print(f"  {args.old}: {ms('old')}")
    print(f"  work tree: {ms('new')}")
    print(f"  new/old: {sum(times['new']) / sum(times['old']):.3f} (total), {ratios[len(ratios) // 2]:.3f} (median of "
          f"the repeats' ratios, {ratios[0]:.3f}–{ratios[-1]:.3f})")


if __name__ == "__main__":
    main()

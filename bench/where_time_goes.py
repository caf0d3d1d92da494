"""Where `perechen check` spends its time, stage by stage, in one process (the figures of bench/README.md,
«Where the time goes now»).

    .venv/bin/python -m bench.where_time_goes check output/bench/register_100000_ss.xlsx
    .venv/bin/python -m bench.where_time_goes small output/bench/region_60x2000/workbooks

``check FILE``: wall-clock marks (seconds since the interpreter started this script) around the imports, the
preparation of the sheets, the reading in pieces (with the time the main thread waited for calamine's parser and
the time it spent turning pieces into rows), the rest of the reader and run_checks; then the bare calamine read
of the same file in the same process (open, parse, to_python, touching every cell).
``small DIR``: the first 20 workbooks of DIR (a region's agencies) read by calamine alone and by read_register,
CPU milliseconds per file, and the checks per file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import io
import time
from collections.abc import Callable
from typing import Any

T0 = time.perf_counter()


def _check(path: str) -> None:
    from perechen.checks import run_checks
    from perechen.reader import chunks, read_register
    from perechen.reader import register as reg_mod
    from perechen.rules import Rules

    marks: list[tuple[float, str]] = []
    spent: dict[str, float] = {}

    def mark(name: str) -> None:
        marks.append((time.perf_counter() - T0, name))

    def timed(obj: Any, attr: str, name: str) -> None:
        import threading

        orig: Callable[..., Any] = getattr(obj, attr)

        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                if threading.current_thread() is threading.main_thread():  # not the parser's own waits
                    spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
        setattr(obj, attr, wrapper)

    mark("imports")
    timed(reg_mod._SheetReader, "_prepare_sheets", "prepare the sheets")
    timed(chunks.Pieces, "read", "read in pieces")
    timed(chunks, "build_package", "write the pieces' workbook")
    timed(reg_mod._EarlyRows, "__call__", "rows from the pieces (main thread)")
    timed(chunks.threading.Event, "wait", "main thread waiting for the parser")
    rules = Rules.load()
    reg = read_register(path, rules)
    mark("read_register")
    findings = run_checks(reg, rules, today=dt.date(2025, 6, 2))
    mark("run_checks")
    for t, name in marks:
        print(f"{t:7.2f} s  {name}")
    for name, v in spent.items():
        print(f"  {v:6.2f} s  {name}")
    print(f"  rows {len(reg.rows)}, findings {len(findings)}")

    import python_calamine as pc

    with open(path, "rb") as f:
        data = f.read()
    t = time.perf_counter()
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    t1 = time.perf_counter()
    sheet = wb.get_sheet_by_index(0)
    t2 = time.perf_counter()
    rows = sheet.to_python(skip_empty_area=False)
    t3 = time.perf_counter()
    n = sum(1 for row in rows for v in row if v != "")
    t4 = time.perf_counter()
    print(f"bare calamine, first sheet: open {t1 - t:.2f} + parse {t2 - t1:.2f} + to_python {t3 - t2:.2f} "
          f"+ touching {n} cells {t4 - t3:.2f} = {t4 - t:.2f} s")


def _small(folder: str) -> None:
    from python_calamine import CalamineWorkbook

    from perechen.checks import run_checks
    from perechen.reader import read_register
    from perechen.rules import Rules

    rules = Rules.load()
    files = sorted(glob.glob(f"{folder}/*.xlsx"))[:20]
    read_register(files[0], rules)  # warm: imports, caches
    c = time.process_time()
    for f in files:
        wb = CalamineWorkbook.from_path(f)
        for name in wb.sheet_names:
            for row in wb.get_sheet_by_name(name).to_python():
                for _ in row:
                    pass
    cal = (time.process_time() - c) / len(files)
    c = time.process_time()
    regs = [read_register(f, rules) for f in files]
    rd = (time.process_time() - c) / len(files)
    c = time.process_time()
    for r in regs:
        run_checks(r, rules, today=dt.date(2025, 6, 2))
    ch = (time.process_time() - c) / len(files)
    print(f"{len(files)} workbooks: calamine {cal * 1000:.1f} ms, read_register {rd * 1000:.1f} ms, "
          f"run_checks {ch * 1000:.1f} ms of CPU per file")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    sub.add_parser("check").add_argument("file")
    sub.add_parser("small").add_argument("folder")
    args = ap.parse_args()
    if args.what == "check":
        _check(args.file)
    else:
        _small(args.folder)


if __name__ == "__main__":
    main()

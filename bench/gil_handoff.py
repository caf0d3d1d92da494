"""How long another thread waits for the GIL while the main thread runs the extent guard's passes over the pieces of
a large sheet (reader/chunks.py: calamine's parser thread takes the GIL back after every piece it parses), a
revision's reader against the work tree's, alternately, in one process.

    .venv/bin/python -m bench.gil_handoff --old main output/bench/register_100000.xlsx

The main thread runs ``plain_markup`` and ``within_fast_limits`` on --pieces pieces of the file's first sheet (cut as
chunks.plan cuts it) under the switch interval the reader uses while it reads in pieces (5 ms, the interpreter's
default, before 6645e1c; 0.5 ms since), while a helper thread sleeps 2 ms again and again: how much longer than 2 ms
each sleep takes is the time it waited to get the GIL back. Also the main thread's CPU for the passes (the same work
both ways).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any


def _round(ext: ModuleType, interval: float, pieces: list[bytes], rules: Any) -> tuple[float, float, list[float]]:
    saved = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    stop = False
    late: list[float] = []

    def helper() -> None:
        while not stop:
            t = time.perf_counter()
            time.sleep(0.002)
            late.append(time.perf_counter() - t - 0.002)

    h = threading.Thread(target=helper)
    h.start()
    try:
        t, c = time.perf_counter(), time.thread_time()
        for piece in pieces:
            ext.plain_markup(piece)
            ext.within_fast_limits(piece, rules)
        wall, cpu = time.perf_counter() - t, time.thread_time() - c
    finally:
        stop = True
        h.join()
        sys.setswitchinterval(saved)
    return wall, cpu, late


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", help="a large workbook (its first worksheet is cut into pieces)")
    ap.add_argument("--old", default="main", help="git revision of the reader to compare with (default main)")
    ap.add_argument("--old-interval", type=float, default=0.005, help="the old reader's switch interval (s)")
    ap.add_argument("--pieces", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from bench.reader_ab import _old_reader
    from perechen.reader import chunks, extent
    from perechen.rules import Rules

    rules = Rules.load()
    with zipfile.ZipFile(args.file) as z:
        xml = z.read("xl/worksheets/sheet1.xml")

    class _Pkg:
        kind, strict = "xlsx", False

    plan = chunks.plan(xml, _Pkg(), min_bytes=1)  # type: ignore[arg-type]
    assert plan is not None, "not a sheet chunks.plan cuts"
    pieces = [xml[a:b] for a, b in plan.pieces[:args.pieces]]
    del xml
    new_interval = min(0.0005, sys.getswitchinterval())
    with tempfile.TemporaryDirectory(prefix="perechen-gil-") as tmp:
        old = _old_reader(args.old, Path(tmp)).extent
        got: dict[str, list[tuple[float, float, list[float]]]] = {"old": [], "new": []}
        for i in range(args.repeat):
            for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
                ext, interval = (old, args.old_interval) if name == "old" else (extent, new_interval)
                got[name].append(_round(ext, interval, pieces, rules))
    for name, rounds in got.items():
        late = sorted(x for _, _, lt in rounds for x in lt)
        cpu = statistics.median(c for _, c, _ in rounds)
        print(f"{name}: main thread CPU {cpu * 1000:.0f} ms for {len(pieces)} pieces (median of {args.repeat}); the "
              f"helper's wait for the GIL after a 2 ms sleep: median {statistics.median(late) * 1000:.2f} ms, 90th "
              f"percentile {late[int(len(late) * 0.9)] * 1000:.2f} ms ({len(late)} sleeps)")


if __name__ == "__main__":
    main()

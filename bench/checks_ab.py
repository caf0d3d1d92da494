"""`run_checks` of a git revision's checks package against the work tree's, on the very same registers, in one
process: a large register (`perechen check`) or the first workbooks of a folder (a region's agencies).

    .venv/bin/python -m bench.checks_ab --old main output/bench/register_100000_ss.xlsx
    .venv/bin/python -m bench.checks_ab --old main output/bench/region_60x2000/workbooks
    .venv/bin/python -m bench.checks_ab --old main --reader output/bench/region_60x2000/workbooks

The registers are read once by the work tree's reader; then old and new run alternately (CPU time, so that a busy
machine slows both alike), each repeat starting without the tables shared between runs with one Rules object, and
every register's findings (code, cell, row, message, value, in order) must be the same. The old package is
``scripts/perechen/checks/`` of the revision, imported as ``perechen._old_checks`` (its relative imports of models and
rules resolve to the work tree's: a revision from before the reader kept columns, 93302b4, does not fit).

``--reader`` compares the reader too: ``scripts/perechen/reader/`` of the revision (``perechen._old_reader``) reads
the registers the old checks get, the work tree's reader those the new checks get, and the reads themselves are timed
the same way (old and new alternately, CPU) — for a change in what the reader hands the checks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import glob
import importlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2025, 6, 2)  # bench.make_register's default: the figures of bench/README use it


def _old_package(rev: str, folder: Path, name: str) -> ModuleType:
    """scripts/perechen/``name``/ of ``rev`` as the package perechen._old_``name``."""
    import perechen

    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{rev}:scripts/perechen/{name}/"],
                           check=True, capture_output=True, text=True, encoding="utf-8").stdout.split()
    pkg = folder / f"_old_{name}"
    pkg.mkdir()
    for file in names:
        if file.endswith(".py"):
            src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:scripts/perechen/{name}/{file}"],
                                 check=True, capture_output=True).stdout
            (pkg / file).write_bytes(src)
    if str(folder) not in perechen.__path__:
        perechen.__path__.append(str(folder))  # perechen._old_<name> found beside the work tree's modules
    return importlib.import_module(f"perechen._old_{name}")


def _interleaved(runs: dict[str, Callable[[], Any]], repeats: int,
                 before: Callable[[], None]) -> dict[str, list[float]]:
    """CPU time of each run, ``repeats`` times, old and new alternately (``before`` runs untimed before each)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(repeats):
        for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
            before()
            gc.collect()
            c = time.process_time()
            runs[name]()
            times[name].append(time.process_time() - c)
    return times


def _report(what: str, old: str, times: dict[str, list[float]]) -> None:
    def ms(name: str) -> str:
        t = sorted(times[name])
        return f"min {t[0] * 1000:.0f} ms, median {t[len(t) // 2] * 1000:.0f} ms"

    n = len(times["old"])
    print(what)
    print(f"  {old}: {ms('old')}")
    print(f"  work tree: {ms('new')}")
    print(f"  new/old: {min(times['new']) / min(times['old']):.2f} (min), "
          f"{sorted(times['new'])[n // 2] / sorted(times['old'])[n // 2]:.2f} (median)")


def _facts(findings: list[Any]) -> list[tuple[Any, ...]]:
    return [(tuple(f.to_dict().items()), repr(f.value)) for f in findings]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="a workbook, or a folder of workbooks")
    ap.add_argument("--old", default="main", help="git revision of the checks to compare with (default main)")
    ap.add_argument("--files", type=int, default=60,
                    help="workbooks taken from a folder (default 60: enough agencies for the tables shared "
                         "between runs to fill up and be emptied, as in a region's worker)")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--reader", action="store_true", help="also the revision's reader against the work tree's")
    args = ap.parse_args()

    from perechen.checks import context as new_context
    from perechen.checks import run_checks
    from perechen.reader import read_register
    from perechen.rules import Rules

    p = Path(args.input)
    files = sorted(glob.glob(str(p / "*.xlsx")))[:args.files] if p.is_dir() else [str(p)]
    rules = Rules.load()
    with tempfile.TemporaryDirectory(prefix="perechen-checks-ab-") as tmp:
        old = _old_package(args.old, Path(tmp), "checks")
        regs = {"new": [read_register(f, rules) for f in files]}
        if args.reader:
            old_read = _old_package(args.old, Path(tmp), "reader").read_register
            regs["old"] = [old_read(f, rules) for f in files]
            read_times = _interleaved({"old": lambda: [old_read(f, rules) for f in files],
                                       "new": lambda: [read_register(f, rules) for f in files]},
                                      max(3, args.repeats // 3), lambda: None)
        else:
            regs["old"] = regs["new"]
        runs: dict[str, Any] = {"old": old.run_checks, "new": run_checks}
        shared = [getattr(old.context, "_SHARED", None), getattr(new_context, "_SHARED", None)]
        for reg_old, reg_new in zip(regs["old"], regs["new"], strict=True):
            if _facts(runs["old"](reg_old, rules, today=TODAY)) != _facts(runs["new"](reg_new, rules, today=TODAY)):
                sys.exit(f"different findings: {reg_new.path}")

        def clear() -> None:
            for table in shared:
                if table is not None:
                    table.clear()

        def checks(name: str) -> Callable[[], None]:
            def run() -> None:
                for reg in regs[name]:
                    runs[name](reg, rules, today=TODAY)
            return run

        times = _interleaved({"old": checks("old"), "new": checks("new")}, args.repeats, clear)

    n_rows = sum(r.n_rows for r in regs["new"])
    if args.reader:
        _report(f"read_register of {len(files)} workbook(s), CPU of {max(3, args.repeats // 3)} repeats each",
                args.old, read_times)
    _report(f"run_checks over {len(files)} register(s), {n_rows} rows, CPU of {args.repeats} repeats each; "
            f"same findings", args.old, times)


if __name__ == "__main__":
    main()

"""`run_checks` of a git revision's checks package against the work tree's, on the very same registers, in one
process: a large register (`perechen check`) or the first workbooks of a folder (a region's agencies).

    .venv/bin/python -m bench.checks_ab --old main output/bench/register_100000_ss.xlsx
    .venv/bin/python -m bench.checks_ab --old main output/bench/region_60x2000/workbooks

The registers are read once by the work tree's reader; then old and new run alternately (CPU time, so that a busy
machine slows both alike), each repeat starting without the tables shared between runs with one Rules object, and
every register's findings (code, cell, row, message, value, in order) must be the same. The old package is
``scripts/perechen/checks/`` of the revision, imported as ``perechen._old_checks`` (its relative imports of models and
rules resolve to the work tree's: a revision from before the reader kept columns, 93302b4, does not fit).
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
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2025, 6, 2)  # bench.make_register's default: the figures of bench/README use it


def _old_checks(rev: str, folder: Path) -> ModuleType:
    """scripts/perechen/checks/ of ``rev`` as the package perechen._old_checks."""
    import perechen

    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{rev}:scripts/perechen/checks/"],
                           check=True, capture_output=True, text=True, encoding="utf-8").stdout.split()
    pkg = folder / "_old_checks"
    pkg.mkdir()
    for name in names:
        if name.endswith(".py"):
            src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:scripts/perechen/checks/{name}"],
                                 check=True, capture_output=True).stdout
            (pkg / name).write_bytes(src)
    perechen.__path__.append(str(folder))  # perechen._old_checks found beside the work tree's modules
    return importlib.import_module("perechen._old_checks")


def _facts(findings: list[Any]) -> list[tuple[Any, ...]]:
    return [(tuple(f.to_dict().items()), repr(f.value)) for f in findings]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="a workbook, or a folder of workbooks")
    ap.add_argument("--old", default="main", help="git revision of the checks to compare with (default main)")
    ap.add_argument("--files", type=int, default=20, help="workbooks taken from a folder (default 20)")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()

    from perechen.checks import context as new_context
    from perechen.checks import run_checks
    from perechen.reader import read_register
    from perechen.rules import Rules

    p = Path(args.input)
    files = sorted(glob.glob(str(p / "*.xlsx")))[:args.files] if p.is_dir() else [str(p)]
    rules = Rules.load()
    regs = [read_register(f, rules) for f in files]
    with tempfile.TemporaryDirectory(prefix="perechen-checks-ab-") as tmp:
        old = _old_checks(args.old, Path(tmp))
        runs: dict[str, Any] = {"old": old.run_checks, "new": run_checks}
        shared = [getattr(old.context, "_SHARED", None), getattr(new_context, "_SHARED", None)]
        for reg in regs:
            if _facts(runs["old"](reg, rules, today=TODAY)) != _facts(runs["new"](reg, rules, today=TODAY)):
                sys.exit(f"different findings: {reg.path}")
        times: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(args.repeats):
            for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
                for table in shared:
                    if table is not None:
                        table.clear()
                gc.collect()
                c = time.process_time()
                for reg in regs:
                    runs[name](reg, rules, today=TODAY)
                times[name].append(time.process_time() - c)

    def ms(name: str) -> str:
        t = sorted(times[name])
        return f"min {t[0] * 1000:.0f} ms, median {t[len(t) // 2] * 1000:.0f} ms"

    print(f"run_checks over {len(regs)} register(s), {sum(r.n_rows for r in regs)} rows, CPU of {args.repeats} "
          f"repeats each; same findings")
    print(f"  {args.old}: {ms('old')}")
    print(f"  work tree: {ms('new')}")
    print(f"  new/old: {min(times['new']) / min(times['old']):.2f} (min), "
          f"{sorted(times['new'])[args.repeats // 2] / sorted(times['old'])[args.repeats // 2]:.2f} (median)")


if __name__ == "__main__":
    main()

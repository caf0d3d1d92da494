"""The reader's raw-XML passes (the extent guard and the raw scan) of a git revision against the work tree's, on the
same bytes, in one process: the sheet pieces `perechen check` guards one by one while calamine parses (reader/chunks.py)
and the whole sheets of small workbooks (a region's agencies).

    .venv/bin/python -m bench.guard_passes --old main output/bench/register_100000_ss.xlsx
    .venv/bin/python -m bench.guard_passes --old main output/bench/region_60x2000/workbooks

For each function: milliseconds per input (the minimum of the repeats, old and new run alternately on the same bytes,
so that a busy machine slows both alike), summed over the inputs, and a check that both give the same answers. A
FILE argument is a large workbook (its first worksheet cut into pieces as chunks.plan cuts it, --pieces of them
measured); a FOLDER, the first --files workbooks in it (every worksheet whole, as the reader guards a small sheet).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _old_modules(rev: str, folder: Path) -> tuple[ModuleType, ModuleType]:
    """reader/scan.py and reader/extent.py of ``rev``, imported inside the package (their relative imports
    resolve to the work tree's modules, which these two do not depend on for what is measured)."""
    out = []
    for name in ("scan", "extent"):
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:scripts/perechen/reader/{name}.py"],
                             check=True, capture_output=True).stdout
        path = folder / f"_old_{name}.py"
        path.write_bytes(src)
        spec = importlib.util.spec_from_file_location(f"perechen.reader._old_{name}", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        out.append(mod)
    return out[0], out[1]


def _inputs(arg: str, pieces: int, files: int) -> list[tuple[str, bytes]]:
    from perechen.reader import chunks

    p = Path(arg)
    if p.is_dir():
        out = []
        for f in sorted(glob.glob(str(p / "*.xlsx")))[:files]:
            with zipfile.ZipFile(f) as z:
                out += [(f"{Path(f).name}:{n}", z.read(n)) for n in z.namelist()
                        if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        return out
    with zipfile.ZipFile(p) as z:
        xml = z.read("xl/worksheets/sheet1.xml")

    class _Pkg:
        kind, strict = "xlsx", False

    plan = chunks.plan(xml, _Pkg(), min_bytes=1)  # type: ignore[arg-type]
    assert plan is not None, "not a sheet chunks.plan cuts"
    bounds = plan.pieces
    step = max(1, len(bounds) // pieces)
    chosen = [*list(range(0, len(bounds), step))[:pieces - 1], len(bounds) - 1]
    return [(f"{p.name} piece {i}", xml[a:b] if i < len(bounds) - 1 else xml[a:]) for i in chosen
            for a, b in [bounds[i]]]


def _scan_facts(s: Any) -> Any:
    return (s.formulas_without_value, s.formulas, s.formulas_cached, s.errors, s.hidden_rows, s.merged, s.autofilter)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", default="main", help="git revision to compare with (default main)")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--pieces", type=int, default=4)
    ap.add_argument("--files", type=int, default=5)
    ap.add_argument("inputs", nargs="+")
    args = ap.parse_args()

    from pathlib import Path as P

    from perechen.models import FileError
    from perechen.reader import extent as new_extent
    from perechen.reader import scan as new_scan
    from perechen.rules import Rules

    rules = Rules.load()
    with tempfile.TemporaryDirectory() as tmp:
        old_scan, old_extent = _old_modules(args.old, Path(tmp))

    def guard(mod: ModuleType) -> Callable[[bytes], Any]:
        def run(xml: bytes) -> Any:
            try:
                mod.check_extent(xml, "S", P("x.xlsx"), rules)
            except FileError as e:
                return e.message
            return None
        return run

    lim = rules.schema.limits
    max_row = lim.max_rows + rules.schema.register_spec.header_search_rows
    fast_cols = max(1, min(new_extent.MAX_SHEET_CELLS, max_row * lim.max_columns) // max_row)
    funcs: dict[str, tuple[Callable[[bytes], Any], Callable[[bytes], Any]]] = {
        "plain_markup": (old_extent.plain_markup, new_extent.plain_markup),
        "_first_valued_beyond (fast limits)": (lambda x: old_extent._first_valued_beyond(x, fast_cols, max_row),
                                               lambda x: new_extent._first_valued_beyond(x, fast_cols, max_row)),
        "check_extent": (guard(old_extent), guard(new_extent)),
        "scan_sheet_xml": (lambda x: _scan_facts(old_scan.scan_sheet_xml(x)),
                           lambda x: _scan_facts(new_scan.scan_sheet_xml(x))),
    }
    print(f"old = {args.old}, new = work tree; min of {args.repeat} repeats, alternating")
    for arg in args.inputs:
        data = _inputs(arg, args.pieces, args.files)
        print(f"{arg}: {len(data)} inputs, {sum(len(x) for _, x in data) / len(data) / 1e6:.2f} MB each")
        for name, (old, new) in funcs.items():
            t_old = t_new = 0.0
            for label, xml in data:
                a, b = old(xml), new(xml)
                assert a == b, (name, label, a, b)
                best_old = best_new = float("inf")
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    old(xml)
                    best_old = min(best_old, time.perf_counter() - t)
                    t = time.perf_counter()
                    new(xml)
                    best_new = min(best_new, time.perf_counter() - t)
                t_old += best_old
                t_new += best_new
            n = len(data)
            print(f"  {name:36s} old {t_old / n * 1000:7.2f} ms  new {t_new / n * 1000:7.2f} ms per input "
                  f"({t_new / t_old:.2f}×)")


if __name__ == "__main__":
    main()

"""Generate a region: N agency workbooks (bench/make_register.py, one seed per agency) and a region.toml.

Every agency gets its own register of ``--rows`` rows (seed = agency number, so the files differ), saved
as Excel saves it (shared strings) unless ``--inline-strings``; the region.toml names each workbook
(``[agencies.aNN]``, name «Орган NN», no published folder: the agencies were never placed) and writes the
region's output next to it. Files already there with the same parameters are kept.

Usage (from the repository root):
    .venv/bin/python -m bench.make_region                         # 60 agencies × 2,000 rows
    .venv/bin/python -m bench.make_region --agencies 8 --rows 500 --out /tmp/region
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from bench import make_register

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "output" / "bench"


def region_dir(agencies: int, rows: int) -> Path:
    return OUT / f"region_{agencies}x{rows}"


def build(agencies: int, rows: int, out: Path, *, error_rate: float = 0.01, shared_strings: bool = True,
          today: dt.date = make_register.DEFAULT_TODAY) -> Path:
    """Write the workbooks and region.toml into ``out``; returns the region.toml path."""
    out.mkdir(parents=True, exist_ok=True)
    books = out / "workbooks"
    books.mkdir(exist_ok=True)
    lines = ['[region]', 'name = "Калининградская область (замер)"', 'output = "region-output"', ""]
    for i in range(1, agencies + 1):
        path = books / f"agency_{i:03d}.xlsx"
        want = {"generator": make_register.GENERATOR_VERSION, "rows": rows, "seed": i, "error_rate": error_rate,
                "shared_strings": shared_strings, "today": today.isoformat(), "variant": "current"}
        mpath = make_register.manifest_path(path)
        fresh = path.exists() and mpath.exists() and all(
            json.loads(mpath.read_text(encoding="utf-8")).get(k) == v for k, v in want.items())
        if not fresh:
            make_register.build(rows, path, seed=i, error_rate=error_rate, today=today,
                                shared_strings=shared_strings)
        lines += [f"[agencies.a{i:03d}]", f'name = "Орган {i:03d}"',
                  f'workbook = "{path.relative_to(out).as_posix()}"', ""]
    toml = out / "region.toml"
    toml.write_text("\n".join(lines), encoding="utf-8")
    return toml


def workbooks(toml: Path) -> list[Path]:
    """The workbook files a region.toml written by :func:`build` names, in order."""
    return sorted((toml.parent / "workbooks").glob("agency_*.xlsx"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Сгенерировать книги органов региона и region.toml.")
    ap.add_argument("--agencies", type=int, default=60)
    ap.add_argument("--rows", type=int, default=2_000)
    ap.add_argument("--error-rate", type=float, default=0.01)
    ap.add_argument("--inline-strings", action="store_true", help="строки в ячейках, а не в общей таблице")
    ap.add_argument("--out", type=Path, default=None, help="папка (по умолчанию output/bench/region_NxR)")
    args = ap.parse_args(argv)
    out = args.out or region_dir(args.agencies, args.rows)
    t0 = time.perf_counter()
    toml = build(args.agencies, args.rows, out, error_rate=args.error_rate, shared_strings=not args.inline_strings)
    print(f"{toml} ({args.agencies} книг по {args.rows} строк) за {time.perf_counter() - t0:.1f} с", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

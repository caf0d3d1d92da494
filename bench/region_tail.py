"""The region run's own work around the agencies' checks, in one process (CPU and wall, min of repeats).

  reports      an agency's report.json + report.html written into a fresh folder, with fsync (atomic_write) and
               without (``sync=False``, what a region run now does for its copies) — wall is what a worker waits
  dashboard    region_render.write_dashboard (12 views) on the results of the 60 × 2,000 region
  opendata     region.write_opendata + region.json's details, every agency given N published rows (synthetic
               texts, ``--placed``); with the code from ffc9cdc on the open data's CSV lines are made in the workers
               (``worker csv``, per agency, run in parallel there) and the main process only joins them

The agencies' results come from region.read_all over output/bench/region_60x2000 (bench/make_region.py), run once.
Works on any checkout through PYTHONPATH (old code: results carry ``placed`` dicts, new code ``placed_csv``):

    .venv/bin/python -m bench.region_tail
    PYTHONPATH=/tmp/old/scripts .venv/bin/python -m bench.region_tail   # a `git archive` of an older commit
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = ROOT / "output" / "bench" / "region_60x2000" / "region.toml"


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return min(cpu), min(wall)


def main() -> None:
    import perechen
    from perechen import region, region_render
    from perechen.fsutil import atomic_write
    from perechen.opendata import PUBLISHED_FIELDS

    ap = argparse.ArgumentParser()
    ap.add_argument("--placed", type=int, default=2000, help="published rows per agency (synthetic)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"perechen from {Path(perechen.__file__).parent}")
    work = Path(tempfile.mkdtemp(prefix="region-tail-"))
    try:
        cfg = region.load_region(REGION)
        jobs = [dataclasses.replace(j, out_dir=str(work / "agencies" / j.id))
                for j in region.jobs(cfg, dt.date(2026, 12, 6), annotated=False)]
        agencies = region.read_all(jobs)
        result = region.RegionResult(name=cfg.region.name, output=work, today=dt.date(2026, 12, 6),
                                     agencies=agencies, workers=2)
        html = (work / "agencies" / jobs[0].id / "report" / "report.html").read_bytes()
        js = (work / "agencies" / jobs[0].id / "report" / "report.json").read_bytes()
        n = [0]

        def reports(sync: bool) -> Callable[[], None]:
            def run() -> None:
                for _ in range(20):
                    n[0] += 1
                    d = work / "w" / str(n[0])
                    d.mkdir(parents=True)
                    if sync:
                        atomic_write(d / "report.json", js)
                        atomic_write(d / "report.html", html)
                    else:
                        atomic_write(d / "report.json", js, sync=False)
                        atomic_write(d / "report.html", html, sync=False)
            return run

        import inspect

        can_skip_sync = "sync" in inspect.signature(atomic_write).parameters
        for sync in (True, False) if can_skip_sync else (True,):
            c, w = best(reports(sync), args.repeat)
            print(f"reports of one agency, fsync {'on ' if sync else 'off'}: CPU {c / 20 * 1000:.2f} ms, "
                  f"wall {w / 20 * 1000:.2f} ms")
        region_render.write_dashboard(result, work)  # templates compiled
        c, w = best(lambda: region_render.write_dashboard(result, work), args.repeat)
        print(f"dashboard (12 views): CPU {c * 1000:.1f} ms, wall {w * 1000:.1f} ms")

        texts = [f"Значение «{f.field}» опубликованной строки" for f in PUBLISHED_FIELDS]
        fields = [f.field for f in PUBLISHED_FIELDS]
        new = hasattr(agencies[0], "placed_csv")
        worker = 0.0
        for a in agencies:
            a.placed_version = "2026-11-20_120000"
            if new:
                t = time.process_time()
                rows = [[a.id, a.name, a.inn, f"{a.id}-{k}", *texts[1:]] for k in range(args.placed)]
                a.placed_csv, a.placed_rows = region._csv(rows), len(rows)
                worker += time.process_time() - t
            else:
                setattr(a, "placed", [dict(zip(fields, [f"{a.id}-{k}", *texts[1:]], strict=True))  # noqa: B010
                                      for k in range(args.placed)])
        if new:
            print(f"worker csv of {args.placed} published rows: CPU {worker / len(agencies) * 1000:.1f} ms per agency")
        region._region_fields()
        c, w = best(lambda: region.write_opendata(result, work / "opendata"), args.repeat)
        print(f"open data of {len(agencies)} × {args.placed} published rows: CPU {c:.3f} s, wall {w:.3f} s")
        c, w = best(lambda: json.dumps([region._detail(a) for a in agencies], ensure_ascii=False, indent=2),
                    args.repeat)
        print(f"region.json details: CPU {c:.3f} s, wall {w:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

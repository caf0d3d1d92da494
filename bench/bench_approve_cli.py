"""Benchmark the approval commands as a clerk runs them (a child process each, wall time, interpreter included).

Per register (the bundled one, and one of --rows rows from bench/make_register.py without mistakes):

  approve     perechen approve --format json     read + check + freeze + act .docx + two .xlsx + journal
  record      perechen approve --record …        the signed act (journal + act.json)
  nightly     perechen nightly --no-mail         the first run with the journal (observation) and placement
  nightly2    perechen nightly --no-mail         a second run, nothing changed (observation only)
  report      perechen report --format json      the compliance report (journal → html, xlsx, json)

Usage (from the repository root):
    .venv/bin/python -m bench.bench_approve_cli                 # bundled and 10,000 rows
    .venv/bin/python -m bench.bench_approve_cli --rows 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "workbook" / "perechen.xlsx"


def run(project: Path, *args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "perechen", *args, "--config", str(project / "perechen.toml")],
                          capture_output=True, text=True, encoding="utf-8", cwd=project)
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return took, proc.stdout


def bench(label: str, workbook: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="perechen-bench-") as tmp:
        project = Path(tmp)
        (project / "perechen.toml").write_text(
            f'workbook = "{workbook.as_posix()}"\noutput = "out"\n\n[publish]\nauto = true\ntarget = "folder"\n\n'
            '[targets.folder]\ntype = "folder"\npath = "out/site"\n', encoding="utf-8")
        t_approve, out = run(project, "approve", "--format", "json")
        draft = json.loads(out)
        t_record, _ = run(project, "approve", "--record", draft["draft"], "--number", "1-о",
                          "--date", dt.date.today().strftime("%d.%m.%Y"))
        t_nightly, _ = run(project, "nightly", "--no-mail")
        t_nightly2, _ = run(project, "nightly", "--no-mail")
        t_report, _ = run(project, "report", "--format", "json")
        print(f"{label:>14} ({draft['rows']} rows approved): approve {t_approve:.1f} s, record {t_record:.1f} s, "
              f"nightly {t_nightly:.1f} s, nightly again {t_nightly2:.1f} s, report {t_report:.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    args = ap.parse_args()
    bench("bundled", BUNDLED)
    from bench.make_register import build

    with tempfile.TemporaryDirectory(prefix="perechen-bench-wb-") as tmp:
        wb = Path(tmp) / f"register_{args.rows}.xlsx"
        build(args.rows, wb, error_rate=0.0)
        bench(f"{args.rows} rows", wb)


if __name__ == "__main__":
    main()

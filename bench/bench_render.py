"""Benchmark: write_check_reports (annotated copy + HTML) on a 100,000-row register, 1 % of cells flagged.

Run from the repository root:  .venv/bin/python bench/bench_render.py [--rows 100000] [--flagged 0.01]
The register and findings are built by tests/test_render_speed.py's helpers (reading is not measured).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from perechen.renderers.check import write_check_reports  # noqa: E402
from perechen.report import CheckReport  # noqa: E402
from perechen.rules import Rules  # noqa: E402
from tests.test_render_speed import big_register  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--flagged", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rules = Rules.load(ROOT / "rules")
    with tempfile.TemporaryDirectory() as d:
        reg, findings = big_register(rules, a.rows, Path(d) / "big.xlsx", flagged=a.flagged)
        report = CheckReport(workbook=str(reg.path), rows=len(reg.rows), findings=findings, register=reg)
        out = Path(d) / "out"
        out.mkdir()
        wall, cpu = [], []
        for _ in range(a.repeat):
            t, c = time.perf_counter(), time.process_time()
            write_check_reports(report, rules, out)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    wall.sort()
    cpu.sort()
    print(f"write_check_reports: {a.rows} rows, {len(findings)} findings: median wall {wall[len(wall) // 2]:.2f} s, "
          f"median CPU {cpu[len(cpu) // 2]:.2f} s (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

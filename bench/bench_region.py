"""Benchmark `perechen region` on a generated region against bare python-calamine reads of the same files.

The region (bench/make_region.py: 60 agencies × 2,000 rows by default) is measured side by side and
interleaved, several repetitions each (the first round warms the page cache and is not counted):

  calamine-all   ONE python process reading every workbook one after another with python-calamine (every
                 cell of every sheet touched, as in bench_check): the sum of the bare reads, the strict reading —
                 the interpreter starts once, not sixty times; the goal's ratio is taken against it
  calamine-each  the same 60 reads as bench_check's anchor reads one file — a python process each — started one
                 after another; wall and CPU are the sums over the 60 processes (optional: --each; the other
                 reading of «the sum of bare reads», shown beside the strict one, never instead of it)
  region         perechen region --config region.toml --format json --no-mail --today D (the agencies in
                 worker processes: reading, every rule, each agency's reports, the dashboard, the open data)

Wall time and CPU time (user + system of the whole process tree: the launcher's RUSAGE_CHILDREN) are
medians; memory is the peak of the SUM of the resident sizes of the measured process and all its
descendants, sampled every 20 ms from /proc (Linux), and the largest single process (ru_maxrss).

Usage (from the repository root):
    .venv/bin/python -m bench.bench_region                        # 60 × 2,000 rows, 3 repetitions
    .venv/bin/python -m bench.bench_region --agencies 8 --rows 500 --repeat 1
    .venv/bin/python -m bench.bench_region --commit HEAD      # what is committed, not the work tree
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import make_region, make_register
from bench.bench_check import CALAMINE_READ, prepare_tree

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "output" / "bench"

CALAMINE_ALL = """\
import sys
from python_calamine import CalamineWorkbook
n = 0
for path in sys.argv[1:]:
    wb = CalamineWorkbook.from_path(path)
    for name in wb.sheet_names:
        for row in wb.get_sheet_by_name(name).to_python():
            for v in row:
                if v != "":
                    n += 1
print(n)
"""
PERECHEN = "import sys; from perechen.cli import run; sys.argv[0] = 'perechen'; run()"  # as the installed command

# Started for each measured command: runs it, samples the RSS of its process tree, waits for it.
LAUNCHER = """\
import json, os, resource, subprocess, sys, threading, time
out, argv = sys.argv[1], sys.argv[2:]
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

def stat(pid):
    \"\"\"(parent pid, resident KB) of a process, or None when it is gone.\"\"\"
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            st = f.read()
    except OSError:
        return None
    parts = st[st.rfind(b")") + 2:].split()
    return int(parts[1]), int(parts[21]) * PAGE_KB

def tree(root):
    \"\"\"Every process of the tree under root (one pass over /proc).\"\"\"
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (s := stat(d)) is not None:
            kids.setdefault(s[0], []).append(int(d))
    found, todo = [], [root]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += kids.get(p, [])
    return found

def tree_rss_kb(pids):
    return sum(s[1] for p in pids if (s := stat(p)) is not None)

with open(out + ".err", "wb") as err:
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    ended = []
    # The end is taken by a thread blocked in waitpid, not by the sampling loop (which would see it up to 20 ms late).
    waiter = threading.Thread(target=lambda: (p.wait(), ended.append(time.perf_counter())))
    waiter.start()
    peak = 0
    n = 0
    pids = [p.pid]
    # The sampler must not take the CPU it measures: a pass over all of /proc costs ~2 ms, so it runs every tenth
    # sample (200 ms: the region's workers live for seconds); between, only the tree's own processes are read.
    while not ended:
        if n % 10 == 0:
            pids = tree(p.pid)
        n += 1
        peak = max(peak, tree_rss_kb(pids))
        waiter.join(0.02)
    waiter.join()
    wall = ended[0] - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    json.dump({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "tree_rss_kb": peak, "max_rss_kb": ru.ru_maxrss,
               "rc": p.returncode}, f)
"""


@dataclass
class Run:
    wall: float
    cpu: float
    tree_mb: float
    max_mb: float
    rc: int


@dataclass
class Measure:
    name: str
    argv: list[str]
    each: list[list[str]] = field(default_factory=list)  # several commands, one after another: sums
    ok_codes: tuple[int, ...] = (0,)
    runs: list[Run] = field(default_factory=list)
    failure: str | None = None

    def med(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs) if self.runs else float("nan")

    def peak(self, attr: str) -> float:
        return max(getattr(r, attr) for r in self.runs) if self.runs else float("nan")


def run_once(argv: list[str], *, cwd: Path, env: dict[str, str], result_path: Path) -> Run:
    subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(result_path), *argv], cwd=cwd, env=env, check=True,
                   stdin=subprocess.DEVNULL)
    r = json.loads(result_path.read_text(encoding="utf-8"))
    return Run(wall=r["wall"], cpu=r["cpu"], tree_mb=r["tree_rss_kb"] / 1024, max_mb=r["max_rss_kb"] / 1024,
               rc=r["rc"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Замер perechen region против чтения тех же книг python-calamine.")
    ap.add_argument("--agencies", type=int, default=60)
    ap.add_argument("--rows", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--commit", default=None, help="замерить код этого коммита (git archive), а не рабочую копию")
    ap.add_argument("--each", action="store_true",
                    help="ещё и сумма отдельных процессов чтения — по процессу на книгу, как опорный замер "
                         "bench_check")
    args = ap.parse_args(argv)
    today = make_register.DEFAULT_TODAY
    region = make_region.region_dir(args.agencies, args.rows)
    toml = make_region.build(args.agencies, args.rows, region, today=today)
    books = make_region.workbooks(toml)
    py = sys.executable
    measures = [
        Measure("calamine-all", [py, "-c", CALAMINE_ALL, *map(str, books)]),
        # Exit 1 is a region with rule errors (the generated registers carry ~1 % clerks' mistakes).
        Measure("region", [py, "-c", PERECHEN, "region", "--config", str(toml), "--format", "json", "--no-mail",
                           "--today", today.isoformat()], ok_codes=(0, 1)),
    ]
    if args.each:
        measures.insert(1, Measure("calamine-each", [], each=[[py, "-c", CALAMINE_READ, str(b)] for b in books]))
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-region-") as tmp:
        tree, code = prepare_tree(args.commit, Path(tmp))
        env = dict(os.environ, PYTHONPATH=str(tree / "scripts"))
        result = Path(tmp) / "run.json"
        for rep in range(args.repeat + 1):
            for m in measures:
                if m.failure:
                    continue
                shutil.rmtree(region / "region-output", ignore_errors=True)
                if m.each:
                    parts = [run_once(a, cwd=region, env=env, result_path=result) for a in m.each]
                    r = Run(wall=sum(x.wall for x in parts), cpu=sum(x.cpu for x in parts),
                            tree_mb=max(x.tree_mb for x in parts), max_mb=max(x.max_mb for x in parts),
                            rc=max(x.rc for x in parts))
                else:
                    r = run_once(m.argv, cwd=region, env=env, result_path=result)
                if r.rc not in m.ok_codes:
                    m.failure = f"exit code {r.rc}: {Path(f'{result}.err').read_text('utf-8', 'replace')[-600:]}"
                    continue
                if rep:
                    m.runs.append(r)
    load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    cal = measures[0]
    lines = [
        f"perechen region, {args.agencies} органов × {args.rows} строк ({code}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU, медиана {args.repeat} запусков, load average до / "
        f"после: {load_before} / {load_after}):",
        "",
        "| замер | время | CPU (всё дерево) | пик суммы RSS дерева | крупнейший процесс | к calamine |",
        "|---|---|---|---|---|---|",
    ]
    for m in measures:
        if m.failure:
            lines.append(f"| {m.name} | сбой: {m.failure.splitlines()[0]} | | | | |")
            continue
        ratio = (f"{m.med('wall') / cal.med('wall'):.2f}× (CPU {m.med('cpu') / cal.med('cpu'):.2f}×)"
                 if cal.runs and m.runs else "—")
        each = next((x for x in measures if x.each and x.runs), None)
        if each is not None and m.runs and m is not cal:
            ratio += f"; к calamine-each {m.med('wall') / each.med('wall'):.2f}×"
        lines.append(f"| {m.name} | {m.med('wall'):.2f} s | {m.med('cpu'):.2f} s | {m.peak('tree_mb'):.0f} MB | "
                     f"{m.peak('max_mb'):.0f} MB | {ratio} |")
    lines += ["", "Command: `" + " ".join(["python -m bench.bench_region", *(argv or sys.argv[1:])]) + "`"]
    text = "\n".join(lines)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"bench_region_{args.agencies}x{args.rows}.md").write_text(text + "\n", encoding="utf-8")
    return 1 if any(m.failure for m in measures) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The CPU the ``perechen`` command spends before it works: a revision against the work tree, runs interleaved.

    .venv/bin/python -m bench.imports_ab --old main                 # both commands, 20 runs each
    .venv/bin/python -m bench.imports_ab --old main --only region --repeat 30

``region``: ``perechen region`` over a copy of output/bench/region_4x200/region.toml whose output is a temporary
folder (the bench folder stays unwritten) — the figure is the parent's CPU (time.process_time) when it first forks,
i.e. what it does alone before its workers start (imports, region.toml, the rules, the report template).
``check``: ``perechen check output/bench/register_1000_ss.xlsx --no-report --format json`` — the whole process's
CPU (user + system, from the parent's getrusage), on a register small enough that starting is most of it.

Both trees run with their modules compiled (compileall, as an install has them: this environment sets
PYTHONDONTWRITEBYTECODE=1), each from its own ``scripts`` on PYTHONPATH, alternately; medians and the ratio
new/old. Output (stdout) of every run must be the same for old and new (the region's JSON; the check's JSON).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_check import prepare_tree

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "output" / "bench"

# Run inside the measured process: the parent's CPU at its first fork is written to the file $IMPORTS_AB_FORK.
_RUNNER = """\
import os, sys, time
_out = os.environ.get("IMPORTS_AB_FORK")
_done = []
def _before():
    if not _done:
        _done.append(1)
        with open(_out, "w", encoding="utf-8") as f:
            f.write(repr(time.process_time()))
if _out:
    os.register_at_fork(before=_before)
from perechen.cli import run
sys.argv[0] = "perechen"
sys.argv[1:] = sys.argv[1:]
run()
"""


def _region_config(work: Path) -> Path:
    src = BENCH / "region_4x200" / "region.toml"
    text = src.read_text(encoding="utf-8").replace('workbook = "workbooks/',
                                                   f'workbook = "{(src.parent / "workbooks").as_posix()}/')
    text = text.replace('output = "region-output"', f'output = "{(work / "region-output").as_posix()}"')
    path = work / "region.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _one(tree: Path, args: list[str], work: Path, cwd: Path) -> tuple[float, float | None, str]:
    env = dict(os.environ, PYTHONPATH=str(tree / "scripts"), IMPORTS_AB_FORK=str(work / "fork.txt"))
    env.pop("NO_COLOR", None)
    (work / "fork.txt").unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([sys.executable, "-c", _RUNNER, *args], env=env, cwd=cwd, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{tree}: exit {p.returncode}\n{p.stderr.decode('utf-8', 'replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    fork_file = work / "fork.txt"
    fork = float(fork_file.read_text(encoding="utf-8")) if fork_file.exists() else None
    return cpu, fork, p.stdout.decode("utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", default="main", help="the revision to compare the work tree with")
    ap.add_argument("--only", choices=["region", "check"])
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="imports-ab-") as tmp:
        work = Path(tmp)
        (work / "old").mkdir()
        old, old_desc = prepare_tree(a.old, work / "old")
        new, new_desc = prepare_tree(None, work)
        cfg = _region_config(work)
        commands = {
            "region": ["region", "--config", str(cfg), "--format", "json", "--no-mail", "--today", "2025-06-02"],
            "check": ["check", str(BENCH / "register_1000_ss.xlsx"), "--no-report", "--format", "json",
                      "--today", "2025-06-02"],
        }
        print(f"old: {old_desc}; new: {new_desc}; {a.repeat} runs each, alternately")
        for name, args in commands.items():
            if a.only and name != a.only:
                continue
            times: dict[str, list[tuple[float, float | None]]] = {"old": [], "new": []}
            outputs: dict[str, set[str]] = {"old": set(), "new": set()}
            for i in range(a.repeat + 1):
                for label, tree in (("old", old), ("new", new)) if i % 2 else (("new", new), ("old", old)):
                    cpu, fork, out = _one(tree, args, work, work)
                    outputs[label].add(out)
                    if i:  # the first round warms the file cache
                        times[label].append((cpu, fork))
                time.sleep(0)
            same = outputs["old"] == outputs["new"] and len(outputs["new"]) == 1
            med = {k: statistics.median(c for c, _ in v) for k, v in times.items()}
            line = (f"{name}: whole process CPU old {med['old']:.3f} s, new {med['new']:.3f} s, "
                    f"ratio {med['new'] / med['old']:.3f}")
            forks = {k: [f for _, f in v if f is not None] for k, v in times.items()}
            if all(forks.values()):
                fm = {k: statistics.median(v) for k, v in forks.items()}
                line += (f"; parent's CPU to the fork old {fm['old']:.3f} s, new {fm['new']:.3f} s, "
                         f"ratio {fm['new'] / fm['old']:.3f}")
            print(line + ("; output the same" if same else "; OUTPUT DIFFERS"), flush=True)


if __name__ == "__main__":
    main()

"""Benchmark `perechen diff` as whole processes: a large register against a baseline with ~1% of rows
changed, added or excluded (bench/make_register.py --variant baseline).

Measured, interleaved, several repetitions each (the first round warms the page cache and is not counted):

  calamine       python-calamine reads every cell of the current file (the anchor: the floor for one read)
  vs-store       perechen diff CUR (baseline = the published version named by output/published/LATEST,
                 i.e. register.json) with all reports (diff.html, diff.xlsx, diff.json)
  vs-store-json  the same with --format json --no-report (what a script / the nightly run does)
  vs-xlsx        perechen diff CUR --against BASELINE.xlsx with all reports (two workbook reads)
  csv-diff       csv-diff BASELINE.csv CUR.csv --key Код: the same two versions exported as CSV (every cell as
                 calamine reads it), compared by key with the generic tool (pip install -e '.[bench]')
  csv-diff-json  the same with --json

Wall time is the median; peak RSS is that of exactly the measured child (os.wait4 through a small
launcher, see bench/bench_check.py). Before measuring, one JSON run is checked against the generator's
manifest: every changed, added and excluded code must be reported under the expected case.

Usage (from the repository root):
    .venv/bin/python -m bench.bench_diff                 # 100,000 rows, 3 repetitions
    .venv/bin/python -m bench.bench_diff --rows 10000 --repeat 5
    .venv/bin/python -m bench.bench_diff --commit HEAD   # what is committed, not the work tree
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import make_register
from bench.bench_check import CALAMINE_READ, PERECHEN, Measure, prepare_tree, run_once

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "output" / "bench"


def ensure_pair(rows: int, *, seed: int, change_rate: float, today: dt.date) -> tuple[Path, Path, dict[str, Any]]:
    """The current register and its baseline variant (same seed), generated when missing."""
    cur = OUT / f"register_{rows}.xlsx"
    base = OUT / f"register_{rows}_baseline.xlsx"
    want_cur = {"rows": rows, "seed": seed, "variant": "current", "today": today.isoformat(), "shared_strings": False}
    want_base = {"seed": seed, "variant": "baseline", "today": today.isoformat(), "change_rate": change_rate}

    def fresh(path: Path, want: dict[str, Any]) -> dict[str, Any] | None:
        mp = make_register.manifest_path(path)
        if path.exists() and mp.exists():
            m: dict[str, Any] = json.loads(mp.read_text(encoding="utf-8"))
            if all(m.get(k) == v for k, v in want.items()):
                return m
        return None

    for path, variant, want in ((cur, "current", want_cur), (base, "baseline", want_base)):
        if fresh(path, want) is None:
            t0 = time.perf_counter()
            print(f"… генерирую {path.name}", file=sys.stderr, flush=True)
            make_register.build(rows, path, seed=seed, variant=variant, change_rate=change_rate, today=today)
            print(f"  готово за {time.perf_counter() - t0:.1f} с, {path.stat().st_size / 1e6:.1f} МБ",
                  file=sys.stderr, flush=True)
    manifest = fresh(base, want_base)
    assert manifest is not None
    return cur, base, manifest


def export_csv(xlsx: Path, out: Path) -> Path:
    """The register sheet as CSV (UTF-8, comma-separated, every cell as python-calamine reads it)."""
    import csv

    import python_calamine as pc

    if out.exists() and out.stat().st_mtime >= xlsx.stat().st_mtime:
        return out
    rows = pc.CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name("Перечень").to_python()
    with out.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return out


def csv_diff_argv() -> list[str] | None:
    exe = Path(sys.executable).with_name("csv-diff")
    return [str(exe)] if exe.exists() else None


def make_store(project: Path, baseline: Path) -> str:
    """A project folder whose output/published/LATEST is the baseline register, as publish would leave it."""
    from perechen import canonical, store
    from perechen.reader import read_register
    from perechen.rules import Rules

    (project / "perechen.toml").write_text(f'output = "output"\nrules = "{(ROOT / "rules").as_posix()}"\n',
                                           encoding="utf-8")
    rules = Rules.load(ROOT / "rules")
    data = canonical.canonical_register(read_register(baseline, rules), rules)
    v = store.commit_version(project / "output", data, {}, {"target": "bench"})
    return v.name


def verify(cur: Path, project: Path, today: dt.date, manifest: dict[str, Any],
           env: dict[str, str] | None = None) -> dict[str, int]:
    """One JSON run: the reported cases must match the generator's list of differences."""
    p = subprocess.run([sys.executable, "-c", PERECHEN, "diff", str(cur), "--config", str(project / "perechen.toml"),
                        "--format", "json", "--no-report", "--today", today.isoformat()],
                       capture_output=True, text=True, check=False, cwd=project, env=env)
    if p.returncode != 0:
        raise SystemExit(f"perechen diff завершился с кодом {p.returncode}: {p.stderr[-800:]}")
    out = json.loads(p.stdout)
    by: dict[str, set[str]] = {}
    for c in out["changes"]:
        by.setdefault(c["kind"], set()).add(c["code"])
    # Codes the generator duplicated on purpose (a clerk's mistake) cannot be matched one to one: skip them.
    dup = {w["code"] for w in out["warnings"] if w["type"] == "duplicate-code"} | duplicated_codes(cur)
    codes = {k: set(v) - dup for k, v in manifest["diff_codes"].items()}
    by = {k: v - dup for k, v in by.items()}
    assert by.get("added", set()) == codes["added"], "added codes differ from the generator's"
    assert by.get("excluded", set()) == codes["excluded"], "excluded codes differ from the generator's"
    changed = set().union(*(by.get(k, set()) for k in ("kind_changed", "needs_changed", "edited")))
    # A fifth of the generator's changed rows changed only «Ответственное лицо», which is not published: since
    # the lifecycle rules (issue 11) that is no change of the Перечень. Every reported change must be one.
    assert changed <= codes["changed"], "changed codes the generator did not change"
    assert len(changed) >= len(codes["changed"]) * 0.6, "too few of the generator's changed codes reported"
    return ({k: len(v) for k, v in by.items()}
            | {"changes": len(out["changes"]), "warnings": len(out["warnings"]),
               "changed_unpublished_only": len(codes["changed"] - changed)})


def duplicated_codes(path: Path) -> set[str]:
    """Codes that stand on several rows of the register (the generator's «bad-code» mistakes); when one of
    them is «исключено» the diff cannot tell which row the published one was."""
    from collections import Counter

    import python_calamine as pc

    rows = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Перечень").to_python()
    j = [str(h) for h in rows[0]].index("Код")
    seen = Counter(str(r[j]) for r in rows[1:] if j < len(r) and r[j] != "")
    return {c for c, n in seen.items() if n > 1}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Замер perechen diff на большом перечне.")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--change-rate", type=float, default=0.01)
    ap.add_argument("--commit", default=None, help="замерить код этого коммита (git archive), а не рабочую копию")
    args = ap.parse_args(argv)
    today = make_register.DEFAULT_TODAY
    cur, base, manifest = ensure_pair(args.rows, seed=args.seed, change_rate=args.change_rate, today=today)
    py = sys.executable
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        work = Path(tmp)
        tree, code = prepare_tree(args.commit, work)
        env["PYTHONPATH"] = str(tree / "scripts")
        project = work / "project"
        project.mkdir()
        t0 = time.perf_counter()
        version = make_store(project, base)
        print(f"Базовая версия {version} записана за {time.perf_counter() - t0:.1f} с", file=sys.stderr)
        counts = verify(cur, project, today, manifest, env)
        print(f"Проверка соответствия генератору: {counts}", file=sys.stderr)
        cfg = str(project / "perechen.toml")
        t = today.isoformat()
        measures = [
            Measure("calamine", [py, "-c", CALAMINE_READ, str(cur)]),
            Measure("vs-store", [py, "-c", PERECHEN, "diff", str(cur), "--config", cfg, "--today", t,
                                 "--report-dir", "{report_dir}"]),
            Measure("vs-store-json", [py, "-c", PERECHEN, "diff", str(cur), "--config", cfg, "--today", t,
                                      "--format", "json", "--no-report"]),
            Measure("vs-xlsx", [py, "-c", PERECHEN, "diff", str(cur), "--config", cfg, "--today", t,
                                "--against", str(base), "--report-dir", "{report_dir}"]),
        ]
        csv_diff = csv_diff_argv()
        if csv_diff is None:
            print("csv-diff не установлен (pip install -e '.[bench]'): без сравнения с ним", file=sys.stderr)
        else:
            cur_csv, base_csv = export_csv(cur, cur.with_suffix(".csv")), export_csv(base, base.with_suffix(".csv"))
            measures += [
                Measure("csv-diff", [*csv_diff, str(base_csv), str(cur_csv), "--key", "Код"]),
                Measure("csv-diff-json", [*csv_diff, str(base_csv), str(cur_csv), "--key", "Код", "--json"]),
            ]
        result = work / "run.json"
        load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
        for rep in range(args.repeat + 1):
            for m in measures:
                if m.failure:
                    continue
                report_dir = work / "reports" / f"{m.name}-{rep}"
                argv_ = [a.replace("{report_dir}", str(report_dir)) for a in m.argv]
                r = run_once(argv_, cwd=project, env=env, result_path=result)
                shutil.rmtree(report_dir, ignore_errors=True)
                if r.rc != 0:
                    m.failure = f"exit code {r.rc}: {Path(f'{result}.err').read_text('utf-8', 'replace')[-600:]}"
                    continue
                if rep:
                    m.runs.append(r)
    n = f"{args.rows:,}".replace(",", " ")
    lines = [
        f"perechen diff, {n} строк, базовая версия с {manifest['diff']} отличиями "
        f"({platform.python_version()}, {os.cpu_count()} CPU, медиана {args.repeat} запусков, {code}, "
        f"load average до / после: {load_before} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}):",
        "",
        "| замер | время (CPU) | пиковая RSS | к calamine | к csv-diff |",
        "|---|---|---|---|---|",
    ]
    cal = measures[0]
    ref = next((m for m in measures if m.name == "csv-diff" and m.runs), None)
    for m in measures:
        if m.failure:
            lines.append(f"| {m.name} | сбой: {m.failure.splitlines()[0]} | | | |")
            continue
        ratio = f"{m.wall / cal.wall:.2f}×" if cal.runs and m.runs else "—"
        to_ref = f"{m.wall / ref.wall:.2f}× (CPU {m.cpu / ref.cpu:.2f}×)" if ref is not None and m.runs else "—"
        lines.append(f"| {m.name} | {m.wall:.2f} s ({m.cpu:.2f} s) | {m.rss:.0f} MB | {ratio} | {to_ref} |")
    lines += ["", f"Отчёт о случаях: {counts}"]
    text = "\n".join(lines)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"bench_diff_{args.rows}.md").write_text(text + "\n", encoding="utf-8")
    return 1 if any(m.failure for m in measures) else 0


if __name__ == "__main__":
    sys.exit(main())

"""output/ does not grow forever (issue 13 §6): report folders by age and count; the record is never touched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from perechen.config import Config, RetentionConfig
from perechen.nightly import run_nightly
from perechen.retention import disk_usage, prune_reports

NOW = dt.datetime(2026, 12, 6, 2, 30, 0)


def _run_dir(out: Path, when: dt.datetime, suffix: str = "") -> Path:
    d = out / "reports" / (when.strftime("%Y-%m-%d_%H%M%S") + suffix)
    d.mkdir(parents=True)
    (d / "report.json").write_text("{}" + " " * 1000, encoding="utf-8")
    return d


def _record(out: Path) -> list[Path]:
    """What must survive any retention: published versions, approvals and acts, the site, logs, the dashboard."""
    keep = [out / "published" / "2020-01-01_000000" / "register.json.gz",
            out / "approvals" / "2020-01-01_000000" / "act.docx", out / "site" / "index.html",
            out / "logs" / "nightly.log", out / "reports" / "index.html", out / "reports" / "history.jsonl",
            out / "reports" / "not-a-run" / "x.txt"]
    for p in keep:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    return keep


def test_prune_by_age_and_count(tmp_path: Path) -> None:
    out = tmp_path / "output"
    record = _record(out)
    old = [_run_dir(out, NOW - dt.timedelta(days=100 + i)) for i in range(5)]  # oldest last
    twin = _run_dir(out, NOW - dt.timedelta(days=200), "-2")  # a second run in the same second, long ago
    recent = [_run_dir(out, NOW - dt.timedelta(days=i)) for i in range(3)]

    res = prune_reports(out, keep_days=90, keep_count=5, now=NOW)
    # newest 5 = 3 recent + 2 newest old; the other old ones are past 90 days and beyond the count
    assert sorted(res.removed) == sorted([*old[2:], twin])
    assert all(p.is_dir() for p in [*recent, *old[:2]])
    assert res.freed_bytes > 4000 and res.errors == []
    assert all(p.exists() for p in record)

    # Young folders stay whatever their number; count 0 with days: age alone decides.
    res = prune_reports(out, keep_days=90, keep_count=0, now=NOW)
    assert sorted(res.removed) == sorted(old[:2]) and all(p.is_dir() for p in recent)
    # keep_days = 0: retention off.
    assert prune_reports(out, keep_days=0, keep_count=0, now=NOW).removed == []
    assert all(p.exists() for p in record)


def test_nightly_prunes_old_reports_and_keeps_the_record(tmp_path: Path) -> None:
    cfg = Config(base_dir=tmp_path, retention=RetentionConfig(reports_keep_days=30, reports_keep_count=2))
    out = cfg.output_dir
    record = _record(out)
    old = [_run_dir(out, dt.datetime.now() - dt.timedelta(days=40 + i)) for i in range(4)]
    result = run_nightly(cfg, demo=True)
    assert result.exit_code == 0
    assert result.run_dir is not None and result.run_dir.is_dir()  # the run just made is never removed
    left = sorted(p for p in old if p.is_dir())
    assert left == [old[0]]  # newest two: this run and the newest old one
    assert all(p.exists() for p in record)
    assert list((out / "published").glob("*/manifest.json"))  # this run's publication is there too


def test_disk_usage_by_part(tmp_path: Path) -> None:
    out = tmp_path / "output"
    assert disk_usage(out) == {"total": 0}
    _record(out)
    _run_dir(out, NOW)
    (out / "nightly.lock").write_bytes(b"12345")
    use = disk_usage(out)
    assert use["reports"] >= 1002 and use["published"] == 1 and use["approvals"] == 1 and use["other"] == 5
    assert use["total"] == sum(v for k, v in use.items() if k != "total")

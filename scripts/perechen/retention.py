"""output/ does not grow forever (issue 13 §6): old report folders go, the record stays.

Only the run folders directly in ``output/reports/`` (named ``YYYY-MM-DD_HHMMSS`` or ``…-N``, as
:func:`perechen.fsutil.new_run_dir` makes them) are ever removed, and only when a folder is **both** older than
``keep_days`` **and** not among the newest ``keep_count``. Never touched: ``output/published/`` (the versions
that were placed on the site — the record of п. 5.4), ``output/approvals/`` (drafts and signed acts),
``output/site/``, logs, the dashboard and its history, and anything whose name does not look like a run folder.

:func:`disk_usage` measures what output/ holds, by part, for the dashboard.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .fsutil import RUN_NAME_RE, os_reason, stamp_of

REPORTS = "reports"


@dataclass
class Pruned:
    removed: list[Path] = field(default_factory=list)
    kept: int = 0
    freed_bytes: int = 0
    errors: list[str] = field(default_factory=list)


def prune_reports(output_dir: Path, *, keep_days: int, keep_count: int, now: dt.datetime | None = None,
                  protect: Iterable[Path] = ()) -> Pruned:
    """Remove report folders older than ``keep_days`` beyond the newest ``keep_count``; ``protect`` stays.

    ``keep_days <= 0`` or ``keep_count < 0`` turns pruning off. Failures (a file open on Windows, no rights)
    are collected in ``errors``, never raised: retention must not fail a run.
    """
    result = Pruned()
    root = Path(output_dir) / REPORTS
    if keep_days <= 0 or keep_count < 0 or not root.is_dir():
        return result
    now = now or dt.datetime.now()
    cutoff = now - dt.timedelta(days=keep_days)
    keep = {Path(p).resolve() for p in protect}
    runs: list[tuple[dt.datetime, int, Path]] = []
    for p in root.iterdir():
        when = stamp_of(p.name)
        if when is None or p.is_symlink() or not p.is_dir():
            continue
        m = RUN_NAME_RE.match(p.name)
        runs.append((when, int(m.group(2) or 1) if m else 1, p))
    runs.sort(reverse=True)  # newest first
    for i, (when, _, p) in enumerate(runs):
        if i < keep_count or when >= cutoff or p.resolve() in keep:
            result.kept += 1
            continue
        size = _size(p)
        try:
            shutil.rmtree(p)
        except OSError as e:
            result.errors.append(f"{p}: {os_reason(e)}")
            result.kept += 1
            continue
        result.removed.append(p)
        result.freed_bytes += size
    return result


def _size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def disk_usage(output_dir: Path) -> dict[str, int]:
    """Bytes used in output/, by top-level part (``reports``, ``published``, ``approvals``, ``site``, ``logs`` …,
    journal.sqlite with its WAL files under ``journal``, other files directly in output/ under ``other``) and
    ``total``. Missing output/ → ``{"total": 0}``."""
    root = Path(output_dir)
    parts: dict[str, int] = {}
    if root.is_dir():
        for p in root.iterdir():
            if p.is_dir() and not p.is_symlink():
                parts[p.name] = _size(p)
            else:
                part = "journal" if p.name.startswith("journal.sqlite") else "other"  # with its -wal and -shm
                try:
                    parts[part] = parts.get(part, 0) + p.lstat().st_size
                except OSError:
                    pass
    parts["total"] = sum(parts.values())
    return parts

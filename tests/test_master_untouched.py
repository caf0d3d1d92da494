"""House rule 1: no command ever writes to the master workbook.

Each command runs through click's CliRunner on a copy of the bundled register placed as the master
(named in perechen.toml); afterwards the master's bytes, size and mtime are unchanged and nothing new
appeared beside it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from perechen.cli import main
from tests.conftest import BUNDLED


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    master_dir = tmp_path / "share"
    master_dir.mkdir()
    master = master_dir / "perechen.xlsx"
    master.write_bytes(BUNDLED.read_bytes())
    os.chmod(master, 0o644)
    (tmp_path / "perechen.toml").write_text(
        f'workbook = "{master}"\noutput = "out"\n\n[publish]\ntarget = "folder"\n\n'
        '[targets.folder]\ntype = "folder"\npath = "out/site"\n\n'
        '[targets.bundle]\ntype = "bundle"\npath = "out/bundle"\n', encoding="utf-8")
    (tmp_path / "region.toml").write_text(
        f'[region]\nname = "Регион"\noutput = "region-out"\n[agencies.a]\nname = "Орган"\nconfig = "perechen.toml"\n'
        f'[agencies.b]\nname = "Орган Б"\nworkbook = "{master.as_posix()}"\npublished = "out/published"\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return master


COMMANDS = [
    ["check"],
    ["check", "--format", "json"],
    ["check", "--no-report", "--quiet"],
    ["rules"],
    ["diff"],
    ["diff", "--format", "json"],
    ["history"],
    ["publish", "--dry-run"],
    ["publish"],
    ["publish", "--target", "bundle"],
    ["nightly"],
    ["nightly", "--no-mail"],
    ["init", "new.xlsx"],
    ["init", "--example", "example.xlsx"],
    ["profile", "new", "profile"],
    ["approve"],
    ["approve", "--format", "json"],
    ["report"],
    ["report", "--format", "json"],
    ["region", "--config", "region.toml", "--format", "json"],
]
NO_CONFIG = {"init", "profile"}  # commands without a settings file


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_master_is_byte_identical_after_command(project: Path, args: list[str]) -> None:
    master = project
    before = (hashlib.sha256(master.read_bytes()).hexdigest(), master.stat().st_size, master.stat().st_mtime_ns)
    siblings = sorted(p.name for p in master.parent.iterdir())
    own = args[0] in NO_CONFIG or "--config" in args
    res = CliRunner().invoke(main, args if own else [*args, "--config", "perechen.toml"])
    # report in a fresh folder: nothing observed yet, nothing to report (exit 2, no journal made)
    assert res.exit_code in ((0, 1, 2) if args[0] == "report" else (0, 1)), res.output
    assert "Traceback" not in res.output
    after = (hashlib.sha256(master.read_bytes()).hexdigest(), master.stat().st_size, master.stat().st_mtime_ns)
    assert after == before
    assert sorted(p.name for p in master.parent.iterdir()) == siblings


def test_every_command_is_covered() -> None:
    names = set(main.commands)  # type: ignore[attr-defined]
    covered = {a[0] for a in COMMANDS}
    assert names == covered, f"commands without a master-untouched test: {names - covered}"

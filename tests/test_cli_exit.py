"""The installed command ends at once after ``check``, ``diff`` and ``region`` (cli.run: no teardown of the objects):
everything it prints still arrives whole through a pipe, with the right exit code, and nothing is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _perechen(cwd: Path, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PERECHEN_CONFIG"}
    env.update({"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)})
    return subprocess.run([sys.executable, "-m", "perechen", *args], capture_output=True, text=True, encoding="utf-8",
                          cwd=cwd, env=env, check=False, timeout=300)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 rows with mistakes: hundreds of findings, a JSON of hundreds of kilobytes."""
    out = tmp_path_factory.mktemp("exit") / "perechen.xlsx"
    subprocess.run([sys.executable, "-m", "bench.make_register", "--rows", "3000", "--error-rate", "0.05",
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    return out


def test_check_json_arrives_whole_with_exit_code_1(register: Path, tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    p = _perechen(tmp_path, "check", str(register), "--no-report", "--format", "json", tmp=temp)
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)  # the whole document, not cut off by the quick end
    assert data["rows"] == 3000
    assert len(data["findings"]) > 100
    assert len(p.stdout) > 100_000
    assert list(temp.iterdir()) == []  # the pieces' folder and any other temporary file removed
    assert "Traceback" not in p.stderr


def test_check_text_and_reports_written(register: Path, tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    reports = tmp_path / "reports"
    p = _perechen(tmp_path, "check", str(register), "--report-dir", str(reports), tmp=temp)
    assert p.returncode == 1, p.stderr
    assert p.stdout.rstrip().endswith(".")  # the summary line, the last thing printed
    assert "строк 3000" in p.stdout
    report = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    assert report["rows"] == 3000
    assert (reports / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert list(temp.iterdir()) == []


def test_diff_json_arrives_whole(register: Path, tmp_path: Path) -> None:
    temp = Path(tempfile.mkdtemp(dir=tmp_path))
    p = _perechen(tmp_path, "diff", str(register), "--against", str(register), "--format", "json", tmp=temp)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["changes"] == []


def test_only_the_installed_commands_own_process_runs_without_the_collector(register: Path, tmp_path: Path) -> None:
    """cli.run (one command, then the process ends) switches automatic garbage collection off for check and diff; the
    in-process main (the tests' CliRunner, a script calling it) leaves the caller's interpreter as it was."""
    import gc

    from click.testing import CliRunner

    from perechen.cli import main

    code = ("import gc, os, sys\nfrom perechen import cli\nreal = os._exit\n"
            "def end(c):\n    print('collector on:', gc.isenabled(), file=sys.stderr)\n    real(c)\n"
            "os._exit = end\nsys.argv = ['perechen', 'check', sys.argv[1], '--no-report', '-q']\ncli.run()\n")
    p = subprocess.run([sys.executable, "-c", code, str(register)], capture_output=True, text=True, encoding="utf-8",
                       cwd=tmp_path, check=False, timeout=300)
    assert "collector on: False" in p.stderr, p.stderr
    assert p.returncode == 1
    assert gc.isenabled()
    result = CliRunner().invoke(main, ["check", str(register), "--no-report", "-q"])
    assert result.exit_code == 1
    assert gc.isenabled()


def test_region_ends_at_once_with_every_file_written(tmp_path: Path) -> None:
    """``perechen region`` in its own process (worker processes, no collector in the parent): the JSON arrives whole,
    the exit code says «rule errors», every agency's report, the dashboard, the open data and region.json are there,
    and no temporary file is left behind."""
    region = tmp_path / "region"
    subprocess.run([sys.executable, "-m", "bench.make_region", "--agencies", "3", "--rows", "300", "--out",
                    str(region)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    temp = tmp_path / "temp"
    temp.mkdir()
    p = _perechen(region, "region", "--config", str(region / "region.toml"), "--format", "json", "--no-mail",
                  "--today", "2025-06-02", tmp=temp)
    assert p.returncode == 1, p.stderr  # the generated registers carry clerks' mistakes
    data = json.loads(p.stdout)
    assert [a["rows"] for a in data["agencies"]] == [300, 300, 300]
    assert all(a["file_error"] is None and a["errors"] > 0 for a in data["agencies"])
    out = region / "region-output"
    summary = json.loads((out / "region.json").read_text(encoding="utf-8"))
    assert summary["rows"] == 900 and len(summary["details"]) == 3
    for a in summary["details"]:
        page = out / a["report"]
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>")
        assert json.loads((page.parent / "report.json").read_text(encoding="utf-8"))["rows"] == 300
    assert (out / "index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert (out / "opendata" / "datapackage.json").is_file()
    assert list(temp.iterdir()) == []
    assert "Traceback" not in p.stderr

"""Any install works (issue 13 §1): sdist → wheel → a clean venv, run from an empty folder.

The same as .ci/wheel-check.sh, as a test: nothing perechen needs (rules, templates, the sample workbook) may be
found through the checkout or the current folder. To stay well under a minute on a busy machine the new venv
borrows the dependencies of this session's venv (a .pth line; the editable perechen there is not activated, and
the test asserts every perechen file comes from the wheel); .ci/wheel-check.sh installs them from the index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""

pytestmark = pytest.mark.slow


def _run(args: list[str | Path], cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PERECHEN_CONFIG", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=300, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with perechen installed from a wheel built from the sdist (the sdist must carry the data)."""
    work = tmp_path_factory.mktemp("install")
    dist = work / "dist"
    res = _run([sys.executable, "-c", f"from setuptools import build_meta as b; b.build_sdist({str(dist)!r})"], ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    sdist = next(dist.glob("perechen-*.tar.gz"))
    res = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, sdist], work)
    assert res.returncode == 0, res.stderr[-2000:]
    wheel = next(dist.glob("perechen-*.whl"))
    v = work / "venv"
    # No pip inside (this session's pip installs into it with --python): a few seconds less, same clean venv.
    res = _run([sys.executable, "-m", "venv", "--without-pip", v], work)
    assert res.returncode == 0, res.stderr[-2000:]
    py = v / BIN / f"python{EXE}"
    res = _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work)
    assert res.returncode == 0, res.stderr
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(res.stdout.strip(), "_deps_from_test_session.pth").write_text("\n".join(sorted(deps)) + "\n",
                                                                       encoding="utf-8")
    res = _run([sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", wheel], work)
    assert res.returncode == 0, res.stderr[-2000:]
    return v


def test_installed_wheel_runs_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    run = tmp_path / "empty"
    run.mkdir()
    py = venv / BIN / f"python{EXE}"
    perechen = venv / BIN / f"perechen{EXE}"

    res = _run([py, "-c", "import perechen, perechen.bundled as b; print(perechen.__file__); "
                          "print(b.sample_workbook()); print(b.rules_dir())"], run)
    assert res.returncode == 0, res.stderr
    pkg, workbook, rules = (Path(x) for x in res.stdout.split("\n")[:3])
    for p in (pkg, workbook, rules):  # from the installed package, not from the checkout
        assert p.is_relative_to(venv), p
    assert workbook.is_file() and (rules / "checks.toml").is_file() and (rules / "poryadok.txt").is_file()
    # Every rules file of the source ships (a new kind of file in rules/ needs its glob in package-data).
    source = {p.name for p in (ROOT / "rules").iterdir() if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert source <= {p.name for p in rules.iterdir()}, source - {p.name for p in rules.iterdir()}

    res = _run([perechen, "check", workbook, "--format", "json"], run)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["errors"] == 0
    assert list((run / "output" / "reports").glob("*/report.html"))  # templates found

    res = _run([py, "-m", "perechen", "nightly", "--demo"], run)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (run / "output" / "reports" / "index.html").is_file()
    assert (run / "output" / "site").is_dir()
    assert (run / "output" / "published" / "LATEST").is_file()

    res = _run([perechen, "rules", "--format", "json"], run)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["count"] > 10

    res = _run([perechen, "init", "new.xlsx"], run)
    assert res.returncode == 0, res.stderr
    assert (run / "new.xlsx").stat().st_size > 1000
    assert "Traceback" not in res.stderr

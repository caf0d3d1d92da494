"""Issue 13 «Done when»: the wheel check runs in CI.

``.ci/run`` (what CI executes) lints, type-checks, runs the suite with every real server required, then runs
``.ci/wheel-check.sh`` — sdist → wheel → a clean venv → ``perechen check`` on the bundled workbook and
``python -m perechen nightly --demo`` from an empty temporary folder — and a failure of the wheel check fails the
run. (The same install is exercised as a test by tests/test_install.py.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".ci" / "run"
WHEEL = ROOT / ".ci" / "wheel-check.sh"


def _code(path: Path) -> str:
    """The script without comment lines."""
    return "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("#"))


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_ci_scripts_parse() -> None:
    for script in (RUN, WHEEL, ROOT / ".ci" / "install-browser.sh", ROOT / ".ci" / "install-servers.sh"):
        r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (script.name, r.stderr)


def test_ci_runs_lint_types_tests_and_the_wheel_check() -> None:
    run = _code(RUN)
    assert "set -euo pipefail" in run
    assert "export PERECHEN_REQUIRE_SERVERS=1" in run, "a missing server or browser fails CI instead of skipping"
    steps = [run.index(s) for s in (".venv/bin/ruff check .", ".venv/bin/mypy", ".venv/bin/python -m pytest",
                                    "bash .ci/wheel-check.sh")]
    assert steps == sorted(steps), "ruff, mypy, the tests, then the wheel check"
    assert re.search(r"bash \.ci/wheel-check\.sh \|\| rc=1", run), "a failed wheel check fails the run"
    assert run.rstrip().endswith('exit "$rc"')


def test_wheel_check_installs_the_wheel_and_runs_from_an_empty_folder() -> None:
    w = _code(WHEEL)
    assert "set -euo pipefail" in w
    assert "build_sdist" in w and "pip\" wheel" in w, "the wheel is built from the sdist, as pip does"
    assert re.search(r'"\$py" -m venv "\$work/venv"', w), "a clean venv"
    assert re.search(r'pip" install -q "\$work"/dist/perechen-\*\.whl', w), "the wheel itself, not -e"
    assert 'mkdir "$work/run"' in w and 'cd "$work/run"' in w, "run from an empty temporary folder"
    assert "unset PYTHONPATH" in w
    assert '"$work/venv/bin/perechen" check "$wb"' in w, "perechen check on the bundled workbook"
    assert '"$work/venv/bin/python" -m perechen nightly --demo' in w
    assert "test -f output/reports/index.html" in w
    assert 'case "$wb" in "$work/venv/"*' in w, "the bundled workbook comes from the installed package"

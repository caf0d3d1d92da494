"""Issue 7.5: a full disk while writing reports gives a clear message and leaves no half-written file
behind the name of a finished one.

The fault is real, not mocked: `perechen check` runs in a child process whose RLIMIT_FSIZE makes the
kernel refuse to grow any file past a few kilobytes (EFBIG, as a full disk or a quota would).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# RLIMIT_FSIZE and SIGXFSZ make a real full disk for one child process; Windows has neither.
resource = pytest.importorskip("resource", reason="POSIX only: a full disk is simulated with RLIMIT_FSIZE")

LIMITS = [100, 3_000, 12_000]  # fails at the JSON, at the HTML page, at the annotated copy (~28 KB)


def _limited(limit: int):  # type: ignore[no-untyped-def]
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


@pytest.mark.parametrize("limit", LIMITS)
def test_full_disk_while_writing_reports(master_copy: Path, tmp_path: Path, limit: int) -> None:
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-c", "from perechen.cli import main; main()", "check", str(master_copy),
                           "--report-dir", str(out)], capture_output=True, text=True, timeout=120,
                          preexec_fn=_limited(limit))
    assert "Traceback" not in proc.stderr
    files = sorted(out.iterdir()) if out.exists() else []
    assert not [p for p in files if p.name.endswith(".tmp")], "no temporary file left behind"
    for p in files:  # whatever has a final name is complete
        if p.suffix == ".json":
            json.loads(p.read_text("utf-8"))
        elif p.suffix == ".html":
            assert p.read_text("utf-8").rstrip().endswith("</html>")
        elif p.suffix == ".xlsx":
            assert zipfile.ZipFile(p).testzip() is None
    if proc.returncode == 2:
        assert "места на диске" in proc.stderr, proc.stderr
    else:
        # The annotated copy is optional: the run may finish without it, and then the page says why.
        assert proc.returncode == 0, proc.stderr
        if not any(p.suffix == ".xlsx" for p in files):
            assert "места на диске" in (out / "report.html").read_text("utf-8")

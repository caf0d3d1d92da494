"""Issue 13 §3: ``perechen approve`` reads an .ods register exactly as the .xlsx it was saved from.

(check, diff, publish and nightly on .ods: tests/test_ods.py.) The .ods is LibreOffice's own conversion of the
corpus' valid register; the draft made from it freezes the same rows with the same fingerprint as the draft made
from the .xlsx, and the .ods itself is never written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.cli import main
from tests.corpus import make_corpus as mc


def _approve(folder: Path, workbook: Path) -> dict[str, Any]:
    folder.mkdir()
    local = folder / workbook.name
    shutil.copy2(workbook, local)
    (folder / "perechen.toml").write_text(f'workbook = "{local.name}"\noutput = "output"\n', encoding="utf-8")
    before = hashlib.sha256(local.read_bytes()).hexdigest()
    res = CliRunner().invoke(main, ["approve", "--format", "json", "--config", str(folder / "perechen.toml"),
                                    "--today", "2026-11-30"])
    assert "Traceback" not in res.output
    assert res.exit_code == 0, res.output
    assert hashlib.sha256(local.read_bytes()).hexdigest() == before, "the register is never written"
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def test_approve_an_ods_register_like_its_xlsx(tmp_path: Path) -> None:
    ods = mc.corpus_dir()["ods_base"]
    if ods is None:
        pytest.skip("needs LibreOffice (soffice)")
    xlsx = tmp_path / "perechen.xlsx"
    xlsx.write_bytes(mc.base())
    from_xlsx = _approve(tmp_path / "x", xlsx)
    from_ods = _approve(tmp_path / "o", Path(ods))
    assert from_ods["rows"] == from_xlsx["rows"] == 8
    assert from_ods["fingerprint"] == from_xlsx["fingerprint"], "the same rows frozen, to the character"
    assert from_ods["changes"] == from_xlsx["changes"]
    folder = Path(from_ods["folder"])
    assert Path(from_ods["docx"]).is_file() and (folder / "perechen.xlsx").is_file()

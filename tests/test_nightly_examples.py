"""The scheduling examples (scripts/cron, scripts/windows) and perechen.toml.example."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from perechen.config import (
    ApprovalConfig,
    Config,
    MailConfig,
    NightlyConfig,
    PublishConfig,
    RetentionConfig,
    TargetConfig,
    load_config,
)
from perechen.remote import RemoteSettings

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "scripts" / "cron" / "perechen-nightly.sh"
CRON = ROOT / "scripts" / "cron" / "perechen.cron"
CMD = ROOT / "scripts" / "windows" / "perechen-nightly.cmd"
EXAMPLE = ROOT / "perechen.toml.example"


def test_example_settings_load_and_document_every_key() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.publish.auto is False and cfg.mail.enabled is False
    assert cfg.mail.security == "starttls" and cfg.mail.password_env == "PERECHEN_SMTP_PASSWORD"
    text = EXAMPLE.read_text("utf-8")
    for model in (Config, PublishConfig, TargetConfig, MailConfig, NightlyConfig, RemoteSettings, RetentionConfig,
                  ApprovalConfig):
        for name in model.model_fields:
            if name in {"base_dir", "source", "targets", "publish", "mail", "nightly", "remote", "retention",
                        "approval"}:
                continue
            assert re.search(rf"^(#? ?{name} = |\[mail\.{name}\])", text, re.M), f"{model.__name__}.{name} undocumented"
    assert "password =" not in text  # only *_env names, never a secret


def test_cron_line() -> None:
    text = CRON.read_text("utf-8")
    assert text.endswith("\n")
    jobs = [ln for ln in text.splitlines() if ln and not ln.startswith("#") and "=" not in ln.split()[0]]
    (job,) = jobs
    fields = job.split()
    assert len(fields) == 7 and fields[5] == "perechen" and fields[6].endswith("scripts/cron/perechen-nightly.sh")
    assert all(re.fullmatch(r"[\d*,/-]+", f) for f in fields[:5])


def test_windows_cmd() -> None:
    raw = CMD.read_bytes()
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")  # CRLF throughout
    text = raw.decode("utf-8")
    line = r'schtasks /Create /TN "perechen\\nightly" /TR .+perechen-nightly\.cmd.+ /SC DAILY /ST 02:30'
    assert re.search(line, text)
    assert r'set "PY=%PERECHEN_HOME%\.venv\Scripts\python.exe"' in text  # python -m perechen: no .exe shim needed
    assert '"%PY%" -m perechen nightly' in text and "exit /b %ERRORLEVEL%" in text
    assert 'cd /d "%PERECHEN_HOME%"' in text and r'--config "%PERECHEN_HOME%\perechen.toml"' in text
    assert text.index("chcp 65001") < text.index("echo perechen:")  # UTF-8 before any Russian output


@pytest.fixture
def home(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> Path:
    """A project folder as cron sees it: the venv, perechen.toml and a workbook."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".venv").symlink_to(ROOT / ".venv")
    for r in good_rows:
        r["changed_on"] = dt.date.today() - dt.timedelta(days=1)
    wb = make_workbook(good_rows)
    shutil.copy(wb, home / "perechen.xlsx")
    (home / "perechen.toml").write_text('workbook = "perechen.xlsx"\n', encoding="utf-8")
    return home


def _cron_run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # cron's environment: almost nothing
    env = {"PERECHEN_HOME": str(home), "HOME": str(home), "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["/bin/sh", str(WRAPPER), *args], capture_output=True, text=True, env=env, cwd="/",
                          timeout=120)


def test_cron_wrapper_is_silent_when_all_is_well_and_speaks_otherwise(home: Path) -> None:
    r = _cron_run(home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "" and r.stderr == ""  # cron sends no mail
    assert (home / "output" / "reports" / "index.html").is_file()
    assert (home / "output" / "logs" / "nightly.log").is_file()
    (home / "perechen.xlsx").write_bytes(b"")
    r = _cron_run(home)
    assert r.returncode == 2
    assert "Книгу не удалось прочитать" in r.stdout and "код выхода 2" in r.stdout


@pytest.mark.servers
def test_cron_wrapper_reads_the_smtp_password_from_the_env_file(home: Path, smtp: Any) -> None:
    (home / "perechen.toml").write_text(
        'workbook = "perechen.xlsx"\n[mail]\nenabled = true\n'
        f'host = "{smtp.host}"\nport = {smtp.port}\nuser = "{smtp.user}"\npassword_env = "PERECHEN_SMTP_PASSWORD"\n'
        'keeper = "keeper@gtn.example.ru"\n', encoding="utf-8")
    env_file = home / "perechen.env"
    env_file.write_text(f"PERECHEN_SMTP_PASSWORD='{smtp.password}'\n", encoding="utf-8")
    env_file.chmod(0o600)
    r = _cron_run(home)
    assert r.returncode == 0, r.stdout + r.stderr
    (m,) = smtp.wait_for(1)
    assert m.envelope_to == ["keeper@gtn.example.ru"] and m.authenticated_as == smtp.user
    assert smtp.password not in (home / "output" / "logs" / "nightly.log").read_text("utf-8")


def test_cron_wrapper_without_venv_says_how_to_install(tmp_path: Path) -> None:
    r = _cron_run(tmp_path)
    assert r.returncode == 2 and "pip install -e ." in r.stderr

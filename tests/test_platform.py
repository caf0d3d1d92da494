"""Windows by construction (issue 13 §2), tested by simulation — there is no Windows machine here.

What each test simulates:
- a Russian Windows console redirected to a file: ``PYTHONIOENCODING=cp1251`` (strict) and a cell holding «✓»;
- a file a colleague has open in Excel: ``os.replace`` raising PermissionError with WinError 32 (a real Linux file
  system cannot refuse to replace an open file, so this one fault is a monkeypatch);
- a Windows Python without POSIX modules: ``fcntl`` and ``resource`` hidden, ``os.fork`` / ``os.killpg`` removed,
  then the whole suite is collected;
- network errors with the Russian texts Windows gives them (recognised by type, not by text);
- a scheduled task started in another folder (System32): the settings file elsewhere than the current folder.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from perechen import fsutil
from perechen.cli import main
from perechen.config import Config, load_config
from perechen.console import echo_json, soften
from perechen.models import PerechenError
from perechen.targets.http import _conn_reason

ROOT = Path(__file__).resolve().parent.parent
TICK = "✓"  # not in cp1251


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "PYTHONUTF8", "PERECHEN_CONFIG")}
    env.update(extra)
    return env


@pytest.fixture
def tick_workbook(make_workbook: Any, good_rows: list[dict[str, Any]]) -> Path:
    good_rows[0]["channel"] = f"{TICK} цифровая"  # not in the list: the finding quotes the value
    return make_workbook(good_rows)  # type: ignore[no-any-return]


def _check(wb: Path, cwd: Path, *args: str, encoding: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "perechen", "check", str(wb), "--no-report", *args],
                          cwd=cwd, env=_env(PYTHONIOENCODING=encoding), capture_output=True, timeout=120)


def test_cp1251_text_output_replaces_what_it_cannot_show(tick_workbook: Path, tmp_path: Path) -> None:
    utf = _check(tick_workbook, tmp_path, encoding="utf-8")
    assert utf.returncode == 1 and TICK in utf.stdout.decode("utf-8")  # the value is really printed
    res = _check(tick_workbook, tmp_path, encoding="cp1251")  # strict, like a redirected Russian console
    assert res.returncode == 1, res.stderr.decode("cp1251", "replace")
    out = res.stdout.decode("cp1251")
    assert "? цифровая" in out and "Traceback" not in res.stderr.decode("cp1251", "replace")


def test_cp1251_json_output_is_utf8(tick_workbook: Path, tmp_path: Path) -> None:
    res = _check(tick_workbook, tmp_path, "--format", "json", encoding="cp1251")
    assert res.returncode == 1
    doc = json.loads(res.stdout.decode("utf-8"))
    assert any(TICK in json.dumps(f, ensure_ascii=False) for f in doc["findings"])


def test_console_helpers_on_a_cp1251_stream() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1251", errors="strict")
    soften(stream)
    stream.write(f"готово {TICK}\n")
    echo_json(json.dumps({"v": TICK}, ensure_ascii=False), stream)
    stream.flush()
    text, js = raw.getvalue().split(b"\n")[:2]
    assert text.decode("cp1251") == "готово ?"
    assert json.loads(js.decode("utf-8")) == {"v": TICK}


def test_toml_backslash_error_explains_the_fix(tmp_path: Path) -> None:
    cfg = tmp_path / "perechen.toml"
    cfg.write_text('workbook = "\\\\server\\share\\x.xlsx"\n', encoding="utf-8")  # README's old advice
    res = CliRunner().invoke(main, ["check", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "одинарных кавычках" in res.output and "'\\\\server\\share\\perechen.xlsx'" in res.output
    assert "строке 1" in res.output and "Invalid" not in res.output  # no English from tomllib


def test_example_config_and_readme_windows_paths_are_valid_toml() -> None:
    import tomllib

    example = (ROOT / "perechen.toml.example").read_text(encoding="utf-8")
    tomllib.loads(example)
    shown = [ln.lstrip("# ").strip() for ln in example.splitlines() if "\\\\" in ln and "=" in ln]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown += [ln.strip().strip("`") for ln in readme.splitlines() if ln.strip().startswith("workbook = ")]
    assert shown, "the example shows a UNC path"
    for line in shown:
        value = tomllib.loads(line)["workbook"]
        assert value.startswith(("\\\\", "C:\\")), line


def test_rules_and_crash_log_relative_to_the_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           tick_workbook: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(ROOT / "rules", home / "rules")
    (home / "perechen.toml").write_text("", encoding="utf-8")
    system32 = tmp_path / "System32"
    (system32 / "rules").mkdir(parents=True)
    (system32 / "rules" / "schema.toml").write_text("broken = [", encoding="utf-8")
    monkeypatch.chdir(system32)

    cfg = load_config(home / "perechen.toml")
    assert cfg.rules_dir == home / "rules" and cfg.output_dir == home / "output"
    (home / "other").mkdir()
    (home / "other" / "perechen.toml").write_text("", encoding="utf-8")
    assert load_config(home / "other" / "perechen.toml").rules_dir is None  # the bundled rules, not ./rules

    monkeypatch.setenv("PERECHEN_CONFIG", str(home / "perechen.toml"))
    assert load_config().source == home / "perechen.toml"
    monkeypatch.delenv("PERECHEN_CONFIG")

    def boom(*a: Any, **kw: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("perechen.api.check_workbook", boom)
    res = CliRunner().invoke(main, ["check", str(tick_workbook), "--config", str(home / "perechen.toml")])
    assert res.exit_code == 2
    logs = list((home / "output" / "logs").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in res.output and "RuntimeError" in logs[0].read_text(encoding="utf-8")
    assert not (system32 / "output").exists()


# -- a file open in Excel ------------------------------------------------------------------------------------


def _excel_holds(monkeypatch: pytest.MonkeyPatch, name: str, times: int = 10**6) -> list[int]:
    """os.replace onto ``name`` (a file name, or the end of a path) fails like Windows does while Excel has
    the file open (WinError 32)."""
    real = os.replace
    calls = [0]

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).as_posix().endswith("/" + name) and calls[0] < times:
            calls[0] += 1
            e = PermissionError(13, "Процесс не может получить доступ к файлу, так как этот файл занят другим "
                                    "процессом")
            e.winerror = 32  # type: ignore[attr-defined]  # set by Windows; absent on POSIX
            raise e
        real(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", replace)
    monkeypatch.setattr(fsutil, "LOCKED_RETRY_DELAYS", (0.01, 0.01, 0.01))
    return calls


def test_replacing_a_file_open_in_excel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "perechen.xlsx"
    target.write_bytes(b"old")
    calls = _excel_holds(monkeypatch, "perechen.xlsx")
    with pytest.raises(PerechenError) as ei:
        fsutil.atomic_write(target, b"new")
    assert ei.value.code == "file_locked" and "файл открыт в другой программе" in ei.value.message
    assert calls[0] == 4  # tried, then retried briefly
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["perechen.xlsx"]


def test_a_brief_lock_is_waited_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "index.html"
    _excel_holds(monkeypatch, "index.html", times=2)  # an antivirus scan, a preview pane
    fsutil.atomic_write(target, "новое")
    assert target.read_text(encoding="utf-8") == "новое"


def test_posix_permission_error_is_not_called_a_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fsutil.os, "replace", replace)
    with pytest.raises(PerechenError) as ei:
        fsutil.atomic_write(tmp_path / "a.txt", "x")
    if os.name != "nt":
        assert ei.value.code == "write_failed" and "нет прав на запись" in ei.value.message


def test_a_locked_dashboard_never_fails_the_nightly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from perechen.nightly import run_nightly

    _excel_holds(monkeypatch, "reports/index.html")  # the dashboard, not the published page
    result = run_nightly(Config(base_dir=tmp_path), demo=True)
    assert result.exit_code == 0
    (err,) = [e for e in result.summary.errors if e.stage == "dashboard"]
    assert err.code == "file_locked" and "файл открыт в другой программе" in err.message
    assert (result.run_dir / "nightly.json").is_file()  # type: ignore[operator]


# -- network errors by type ----------------------------------------------------------------------------------


def _wrapped(cause: BaseException) -> requests.exceptions.ConnectionError:
    """What requests raises: ConnectionError(MaxRetryError(reason=NewConnectionError)) chained to the OSError."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    try:
        try:
            raise cause
        except OSError as e:
            raise NewConnectionError(None, f"Не удалось установить соединение: {e}") from e  # type: ignore[arg-type]
    except NewConnectionError as nce:
        return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason=nce))  # type: ignore[arg-type]


@pytest.mark.parametrize(("cause", "reason"), [
    (ConnectionRefusedError(10061, "Подключение не установлено, т.к. конечный компьютер отверг запрос на "
                                   "подключение"), "соединение отклонено"),
    (socket.gaierror(11001, "Этот хост неизвестен"), "имя сервера не найдено"),
    (ConnectionResetError(10054, "Удаленный хост принудительно разорвал существующее подключение"),
     "сервер разорвал соединение"),
    (TimeoutError(10060, "Попытка установить соединение была безуспешной"), "ошибка соединения"),
])
def test_network_errors_recognised_by_type(cause: OSError, reason: str) -> None:
    assert _conn_reason(_wrapped(cause)) == reason


def test_a_real_refused_connection() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    with pytest.raises(requests.exceptions.ConnectionError) as ei:
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert _conn_reason(ei.value) == "соединение отклонено"


# -- the suite collects without POSIX-only modules -----------------------------------------------------------

_HIDE_POSIX = """
import os, sys
for name in ("fcntl", "resource"):
    sys.modules[name] = None  # "import fcntl" raises ImportError, as on Windows
for name in ("fork", "killpg"):
    if hasattr(os, name):
        delattr(os, name)
"""


@pytest.mark.slow
def test_suite_collects_without_posix_modules(tmp_path: Path) -> None:
    (tmp_path / "hide_posix.py").write_text(_HIDE_POSIX, encoding="utf-8")
    env = _env(PYTHONPATH=str(tmp_path))
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "hide_posix", "--collect-only", "-q", "-rs",
                          "-p", "no:cacheprovider", str(ROOT / "tests")], cwd=ROOT, env=env, capture_output=True,
                         text=True, encoding="utf-8", timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "error" not in res.stdout.lower().split("short test summary")[-1]
    assert "POSIX only" in res.stdout  # the modules that need them are skipped, with the reason

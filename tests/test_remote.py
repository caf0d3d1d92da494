"""A workbook on a server (issue 13 §3): ``workbook = "http://127.0.0.1:…/dav/perechen.xlsx"`` against the suite's
real WebDAV server (wsgidav), with basic auth, conditional GETs, and faults the server itself produces
(401, 404, a refused connection, a slow answer).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.cli import main
from perechen.config import load_config
from perechen.models import FileError
from perechen.remote import RemoteSettings, cache_file, fetch
from perechen.rules import Rules
from tests.corpus import make_corpus as mc
from tests.servers.webdav import WebDAVServer

PASSWORD_ENV = "PERECHEN_TEST_DAV_PASSWORD"


def _setup(tmp_path: Path, webdav: WebDAVServer, monkeypatch: pytest.MonkeyPatch, *, name: str = "perechen.xlsx",
           data: bytes | None = None, extra: str = "", password: str | None = None) -> tuple[Path, str]:
    (webdav.root / name).write_bytes(data if data is not None else mc.base())
    url = webdav.url + name
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "perechen.toml").write_text(
        f'workbook = "{url}"\noutput = "output"\n[remote]\nuser = "{webdav.user}"\npassword_env = "{PASSWORD_ENV}"\n'
        f'timeout = 5\n{extra}', encoding="utf-8")
    monkeypatch.setenv(PASSWORD_ENV, webdav.password if password is None else password)
    monkeypatch.chdir(work)
    return work, url


def _run(*args: str) -> Any:
    res = CliRunner().invoke(main, list(args))
    assert "Traceback" not in res.output, res.output
    return res


def _gets(webdav: WebDAVServer) -> list[dict[str, Any]]:
    return [e for e in webdav.requests_log() if e["path"].endswith((".xlsx", ".ods"))]


def test_second_run_asks_conditionally_and_does_not_download_again(tmp_path: Path, webdav: WebDAVServer,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    work, url = _setup(tmp_path, webdav, monkeypatch)
    server_file = webdav.root / "perechen.xlsx"
    before = hashlib.sha256(server_file.read_bytes()).hexdigest(), server_file.stat().st_mtime_ns
    res = _run("check", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rows"] == 8 and doc["workbook"].endswith("perechen.xlsx")
    local = cache_file(url, work / "output")
    assert local.read_bytes() == server_file.read_bytes()
    meta = json.loads((local.parent / "meta.json").read_text(encoding="utf-8"))
    assert meta["etag"] and webdav.password not in json.dumps(meta)
    first = _gets(webdav)
    assert [(e["method"], e["status"], e["if_none_match"]) for e in first] == [("GET", 200, None)]
    assert first[0]["authorized"]
    cached_mtime = local.stat().st_mtime_ns

    res = _run("check", "--format", "json", "--no-report")
    assert res.exit_code == 0, res.output
    second = _gets(webdav)[1:]
    assert [(e["method"], e["status"]) for e in second] == [("GET", 304)]
    assert second[0]["if_none_match"] == meta["etag"]
    assert local.stat().st_mtime_ns == cached_mtime  # not downloaded again
    # nightly reads through the same cache; nothing but GET ever reached the server
    res = _run("nightly")
    assert res.exit_code in (0, 1), res.output  # 1: the sample's changes are overdue for publication
    assert "Книга прочитана" in (work / "output" / "logs" / "nightly.log").read_text(encoding="utf-8")
    assert [e["status"] for e in _gets(webdav)[2:]] == [304]
    assert {e["method"] for e in webdav.requests_log()} == {"GET"}
    assert (hashlib.sha256(server_file.read_bytes()).hexdigest(), server_file.stat().st_mtime_ns) == before
    assert webdav.password not in res.output
    log = work / "output" / "logs" / "nightly.log"
    assert not log.exists() or webdav.password not in log.read_text(encoding="utf-8")


def test_a_changed_workbook_is_downloaded_again(tmp_path: Path, webdav: WebDAVServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    work, url = _setup(tmp_path, webdav, monkeypatch)
    assert _run("check", "--no-report").exit_code == 0
    rows = mc.rows()
    rows[0]["status"] = "непонятно"
    from perechen.template import build_workbook

    new = build_workbook(mc.rules(), rows, mc._example().INFO)
    server_file = webdav.root / "perechen.xlsx"
    server_file.write_bytes(new)
    os.utime(server_file, (server_file.stat().st_atime, server_file.stat().st_mtime + 5))
    res = _run("check", "--no-report", "--format", "json")
    assert res.exit_code == 1, res.output
    assert [e["status"] for e in _gets(webdav)] == [200, 200]
    assert cache_file(url, work / "output").read_bytes() == new


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_the_cache_is_private(tmp_path: Path, webdav: WebDAVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    work, url = _setup(tmp_path, webdav, monkeypatch)
    assert _run("check", "--no-report").exit_code == 0
    local = cache_file(url, work / "output")
    for folder in (local.parent, local.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for f in (local, local.parent / "meta.json"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_an_ods_on_the_server(tmp_path: Path, webdav: WebDAVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    ods = mc.corpus_dir()["ods_base"]
    if ods is None:
        pytest.skip("needs soffice")
    _setup(tmp_path, webdav, monkeypatch, name="перечень.ods", data=ods.read_bytes())
    res = _run("check", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"] == 8
    assert any(p.name == "замечания-перечень.ods" for p in (Path("output") / "reports").rglob("*.ods"))


@pytest.mark.parametrize(("fault", "code", "words"), [
    ("wrong_password", "remote_auth", ("HTTP 401", "[remote] user")),
    ("missing", "remote_not_found", ("HTTP 404",)),
    ("no_password", "remote_no_password", (PASSWORD_ENV,)),
    ("refused", "remote_unreachable", ("соединение отклонено",)),
    ("slow", "remote_timeout", ("не ответил вовремя",)),
    ("server_error", "remote_http", ("HTTP 503",)),
])
def test_server_faults_exit_2_in_russian(fault: str, code: str, words: tuple[str, ...], tmp_path: Path,
                                         webdav: WebDAVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = "timeout = 0.5\n" if fault == "slow" else ""
    work, url = _setup(tmp_path, webdav, monkeypatch, password="неверный-пароль" if fault == "wrong_password" else None)
    if extra:
        (work / "perechen.toml").write_text((work / "perechen.toml").read_text(encoding="utf-8")
                                            .replace("timeout = 5\n", extra), encoding="utf-8")
    if fault == "missing":
        (webdav.root / "perechen.xlsx").unlink()
    elif fault == "no_password":
        monkeypatch.delenv(PASSWORD_ENV)
    elif fault == "refused":
        webdav.stop()
    elif fault == "slow":
        webdav.inject_delay(r"perechen\.xlsx$", 3.0, count=None)
    elif fault == "server_error":
        webdav.inject_fault(r"perechen\.xlsx$", 503, count=None)
    res = _run("check", "--format", "json", "--no-report")
    assert res.exit_code == 2, res.output
    err = json.loads(res.stdout)["file_error"]
    assert err["code"] == code
    assert url in err["message"]
    for w in words:
        assert w in err["message"], err["message"]
    assert "неверный-пароль" not in res.output and webdav.password not in res.output
    assert not any(ch in err["message"] for ch in "{}")
    res = _run("nightly")
    assert res.exit_code == 2, res.output
    assert code in json.dumps(json.loads(next((work / "output" / "reports").rglob("report.json")).read_text(
        encoding="utf-8")), ensure_ascii=False)


def _msg(rules: Rules) -> Any:
    return rules.file_error


@pytest.mark.parametrize(("url", "settings", "code"), [
    ("http://files.example.invalid/perechen.xlsx", {}, "remote_insecure"),
    ("https://user:secret@files.example.invalid/perechen.xlsx", {}, "remote_insecure_url"),
])
def test_refused_before_any_request(url: str, settings: dict[str, Any], code: str, tmp_path: Path,
                                    rules: Rules) -> None:
    with pytest.raises(FileError) as ei:
        fetch(url, RemoteSettings(**settings), tmp_path, _msg(rules), environ={})
    assert ei.value.code == code and "secret" not in ei.value.message
    assert not (tmp_path / ".remote").exists()


def test_http_beyond_loopback_only_when_the_config_allows_it(tmp_path: Path, rules: Rules) -> None:
    # allowed: the request is made (and fails to resolve the reserved .invalid name), not refused up front
    with pytest.raises(FileError) as ei:
        fetch("http://files.example.invalid/perechen.xlsx", RemoteSettings(allow_http=True, timeout=2), tmp_path,
              _msg(rules), environ={})
    assert ei.value.code == "remote_unreachable"


def test_config_keeps_remote_settings_and_the_local_path(tmp_path: Path) -> None:
    (tmp_path / "perechen.toml").write_text(
        'workbook = "https://dav.example.ru/remote.php/dav/files/clerk/%D0%BF%D0%B5%D1%80%D0%B5%D1%87%D0%B5%D0%BD%D1%8C'
        '.xlsx"\n[remote]\nuser = "clerk"\npassword_env = "X"\ncafile = "ca.pem"\n', encoding="utf-8")
    cfg = load_config(tmp_path / "perechen.toml")
    assert cfg.remote.user == "clerk" and cfg.remote.password_env == "X"
    assert cfg.workbook_path.name == "перечень.xlsx"
    assert cfg.workbook_path.parent.parent == tmp_path / "output" / ".remote"

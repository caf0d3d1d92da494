"""A workbook on an HTTPS server (issue 13 §3), and a publication to one: TLS is verified for real.

The suite's WebDAV server (wsgidav) is served over TLS (cheroot's built-in adapter) with a certificate for
127.0.0.1 signed by a throw-away CA made with the openssl command. Without ``[remote] cafile`` the certificate is
not trusted: exit 2, a Russian message, nothing downloaded. With the CA in ``cafile`` the workbook is checked.
A publication to that server fails in Russian naming why the certificate is not trusted (no OpenSSL English).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.cli import main
from tests.corpus import make_corpus as mc
from tests.servers._util import port_open, wait_until
from tests.servers.webdav import WebDAVServer

pytestmark = pytest.mark.servers

PASSWORD_ENV = "PERECHEN_TEST_DAV_PASSWORD"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_certs(d: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=perechen test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                               "extendedKeyUsage=serverAuth\n", encoding="utf-8")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    return d / "ca.pem", d / "server.pem", d / "server.key"


@pytest.fixture
def tls_dav(tmp_path: Path) -> Iterator[tuple[WebDAVServer, Path, str]]:
    if shutil.which("openssl") is None:
        pytest.skip("нет команды openssl")
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    certs = tmp_path / "certs"
    certs.mkdir()
    ca, cert, key = _make_certs(certs)
    root = tmp_path / "dav-root"
    root.mkdir()
    dav = WebDAVServer.start(root)
    dav.stop()  # the same app, now behind TLS on the same port
    server = wsgi.Server(("127.0.0.1", dav.port), dav.faults, numthreads=4, server_name="perechen-test-dav-tls")
    server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    wait_until(lambda: port_open(dav.port), 10, "WebDAV over TLS")
    try:
        yield dav, ca, f"https://127.0.0.1:{dav.port}/dav/"
    finally:
        server.stop()
        thread.join(timeout=10)
        dav.close()


def _config(work: Path, url: str, dav: WebDAVServer, extra: str = "") -> None:
    work.mkdir(exist_ok=True)
    (work / "perechen.toml").write_text(
        f'workbook = "{url}"\noutput = "output"\n[remote]\nuser = "{dav.user}"\npassword_env = "{PASSWORD_ENV}"\n'
        f"timeout = 5\n{extra}", encoding="utf-8")


def _run(*args: str) -> Any:
    res = CliRunner().invoke(main, list(args))
    assert "Traceback" not in res.output, res.output
    return res


def test_an_untrusted_certificate_is_refused_and_a_trusted_ca_works(tls_dav: tuple[WebDAVServer, Path, str],
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    dav, ca, base = tls_dav
    (dav.root / "perechen.xlsx").write_bytes(mc.base())
    url = base + "perechen.xlsx"
    monkeypatch.setenv(PASSWORD_ENV, dav.password)
    work = tmp_path / "work"
    _config(work, url, dav)
    monkeypatch.chdir(work)

    res = _run("check", "--format", "json", "--no-report")
    assert res.exit_code == 2, res.output
    err = json.loads(res.stdout)["file_error"]
    assert err["code"] == "remote_tls", err
    assert "сертификат" in err["message"] and url in err["message"]
    assert dav.password not in res.output
    assert not list((work / "output").rglob("perechen.xlsx")), "nothing downloaded over an unverified connection"

    _config(work, url, dav, f'cafile = "{ca.as_posix()}"\n')
    res = _run("check", "--format", "json", "--no-report")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"] == 8
    assert (dav.root / "perechen.xlsx").read_bytes() == mc.base(), "the server's file is never written"
    methods = {e["method"] for e in dav.requests_log() if e["path"].endswith(".xlsx")}
    assert methods == {"GET"}, methods


def test_publishing_to_an_untrusted_server_says_why_in_russian(tls_dav: tuple[WebDAVServer, Path, str],
                                                                tmp_path: Path, make_workbook: Any,
                                                                good_rows: list[dict[str, Any]],
                                                                good_info: dict[str, str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from perechen import store
    from perechen.config import Config, TargetConfig
    from perechen.publish import publish_workbook
    from perechen.targets.base import PublishFailed

    dav, _ca, base = tls_dav
    (dav.root / "site").mkdir()
    monkeypatch.setenv(PASSWORD_ENV, dav.password)
    cfg = Config(base_dir=tmp_path, targets={"dav": TargetConfig(
        type="webdav", url=base + "site/", user=dav.user, password_env=PASSWORD_ENV, timeout=5, retries=1,
        backoff=0.01)})
    with pytest.raises(PublishFailed) as ei:
        publish_workbook(make_workbook(good_rows, good_info), cfg, target="dav")
    message = str(ei.value)
    assert "сертификат" in message and "удостоверяющим центром, которого система не знает" in message, message
    english = re.findall(r"[A-Za-z_]{3,}", message)
    assert set(english) <= {"dav", "WebDAV", "TLS", "LATEST", "perechen", "publish"}, f"no English: {message}"
    assert store.latest_name(cfg.output_dir) is None
    assert not list((dav.root / "site").iterdir()), "nothing written over an unverified connection"

"""The real test servers work, and every fault knob has an effect (tests/servers)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from tests.servers.smtp import SMTPServer
from tests.servers.webdav import WebDAVServer
from tests.servers.wordpress import WordPressServer

pytest_plugins = ["tests.servers.plugin"]

pytestmark = pytest.mark.servers

CSV = "Наименование,Вид\r\nПриём граждан,офлайн\r\n".encode()


def _upload(wp: WordPressServer, name: str, data: bytes, timeout: float = 30) -> requests.Response:
    return requests.post(
        wp.api_root + "wp/v2/media",
        data=data,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Content-Type": "text/csv"},
        auth=(wp.user, wp.app_password),
        timeout=timeout,
    )


def _create_page(wp: WordPressServer, slug: str, html: str, timeout: float = 30) -> requests.Response:
    body = {
        "slug": slug,
        "title": "Перечень точек взаимодействия",
        "status": "publish",
        "content": f"<!-- wp:html -->{html}<!-- /wp:html -->",
    }
    return requests.post(wp.api_root + "wp/v2/pages", json=body, auth=(wp.user, wp.app_password), timeout=timeout)


# ---------------------------------------------------------------------------------------- WordPress
def test_wordpress_upload_media_and_page(wordpress: WordPressServer) -> None:
    wp = wordpress
    root = requests.get(wp.url + "/", timeout=30)
    assert root.status_code == 200
    assert f'<{wp.api_root}>; rel="https://api.w.org/"' in root.headers["Link"]

    resp = _upload(wp, "perechen-20250101.csv", CSV)
    assert resp.status_code == 201, resp.text
    media = resp.json()
    fix = requests.post(
        wp.api_root + f"wp/v2/media/{media['id']}",
        json={"title": "Перечень (CSV)"},
        auth=(wp.user, wp.app_password),
        timeout=30,
    )
    assert fix.status_code == 200
    assert requests.get(media["source_url"], timeout=30).content == CSV
    listed = wp.list_media()
    assert [m["id"] for m in listed] == [media["id"]]
    assert listed[0]["title"]["raw"] == "Перечень (CSV)"
    assert [p.name for p in wp.upload_files()] == ["perechen-20250101.csv"]

    page = _create_page(wp, "perechen", "<p>Приём граждан</p>")
    assert page.status_code == 201, page.text
    page_id = page.json()["id"]
    assert [p["id"] for p in wp.list_pages("perechen")] == [page_id]
    public = requests.get(wp.url + "/perechen/", timeout=30)
    assert public.status_code == 200 and "Приём граждан" in public.text
    before = len(wp.page_revisions(page_id))
    upd = requests.post(
        wp.api_root + f"wp/v2/pages/{page_id}",
        json={"content": "<!-- wp:html --><p>Изменено</p><!-- /wp:html -->"},
        auth=(wp.user, wp.app_password),
        timeout=30,
    )
    assert upd.status_code == 200
    assert len(wp.page_revisions(page_id)) == before + 1
    assert "Изменено" in wp.get("/perechen/").text
    assert [r["method"] for r in wp.writes_log()] == ["POST"] * 4


def test_wordpress_is_clean_for_each_test_and_rest_route_works(wordpress: WordPressServer) -> None:
    assert wordpress.list_media() == [] and wordpress.list_pages() == []
    assert wordpress.upload_files() == []
    resp = requests.get(
        wordpress.url + "/",
        params={"rest_route": "/wp/v2/users/me"},
        auth=(wordpress.user, wordpress.app_password),
        timeout=30,
    )
    assert resp.status_code == 200
    assert resp.json()["slug"] == wordpress.user
    assert wordpress.requests_log()[0]["uri"].startswith("/?rest_route=")


def test_wordpress_fault_before_writes_nothing(wordpress: WordPressServer) -> None:
    rule = wordpress.inject_fault(r"wp/v2/media", status=500, count=1, method="POST")
    assert _upload(wordpress, "a.csv", CSV).status_code == 500
    assert wordpress.list_media() == []
    assert _upload(wordpress, "a.csv", CSV).status_code == 201
    assert wordpress.fault_hits(rule) == 1
    assert [r["status"] for r in wordpress.requests_log()] == [500, 201]


def test_wordpress_fault_after_write_happens(wordpress: WordPressServer) -> None:
    wordpress.inject_fault(r"wp/v2/pages", status=502, count=1, method="POST", after=True)
    resp = _create_page(wordpress, "after-fault", "<p>x</p>")
    assert resp.status_code == 502
    assert "wp:html" not in resp.text
    assert len(wordpress.list_pages("after-fault")) == 1  # written, though the client saw an error


def test_wordpress_fault_matches_rest_route_form(wordpress: WordPressServer) -> None:
    wordpress.inject_fault(r"/wp/v2/pages", status=503, count=None)
    url = wordpress.url + "/"
    for _ in range(2):
        resp = requests.get(url, params={"rest_route": "/wp/v2/pages"}, timeout=30)
        assert resp.status_code == 503
    wordpress.clear_faults()
    assert requests.get(url, params={"rest_route": "/wp/v2/pages"}, timeout=30).status_code == 200


def test_wordpress_delay_makes_client_time_out(wordpress: WordPressServer) -> None:
    wordpress.inject_delay(r"wp/v2/pages", seconds=2.0, count=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _create_page(wordpress, "slow", "<p>x</p>", timeout=0.5)
    # The server still finishes the request after the delay: a naive retry would duplicate the page.
    from tests.servers._util import wait_until

    wait_until(lambda: len(wordpress.list_pages("slow")) == 1, 10, "the delayed page")
    assert _create_page(wordpress, "slow-2", "<p>y</p>", timeout=5).status_code == 201


def test_wordpress_strip_authorization_gives_401(wordpress: WordPressServer) -> None:
    def me() -> int:
        return requests.get(
            wordpress.api_root + "wp/v2/users/me", auth=(wordpress.user, wordpress.app_password), timeout=30
        ).status_code

    assert me() == 200
    wordpress.strip_authorization(True)
    assert me() == 401
    assert _upload(wordpress, "b.csv", CSV).status_code == 401
    assert wordpress.list_pages() == []  # the helpers are not affected
    wordpress.strip_authorization(False)
    assert me() == 200


def test_wordpress_web_server_down_and_up(wordpress: WordPressServer) -> None:
    wordpress.stop_web()
    assert not wordpress.web_running
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(wordpress.url + "/", timeout=5)
    wordpress.start_web()
    assert requests.get(wordpress.url + "/", timeout=30).status_code == 200


def test_wordpress_extra_upload_types(wordpress: WordPressServer) -> None:
    def put_json() -> int:
        return requests.post(
            wordpress.api_root + "wp/v2/media",
            data=b'{"a": 1}',
            headers={
                "Content-Disposition": 'attachment; filename="datapackage.json"',
                "Content-Type": "application/json",
            },
            auth=(wordpress.user, wordpress.app_password),
            timeout=30,
        ).status_code

    assert put_json() in (400, 403, 500)  # a default WordPress refuses JSON
    wordpress.allow_upload_types({"json": "application/json"})
    assert put_json() == 201


# ---------------------------------------------------------------------------------------- WebDAV
def test_webdav_put_get_and_auth(webdav: WebDAVServer) -> None:
    auth = (webdav.user, webdav.password)
    assert requests.put(webdav.url + "x.csv", data=CSV, timeout=10).status_code == 401
    assert requests.put(webdav.url + "x.csv", data=CSV, auth=(webdav.user, "wrong"), timeout=10).status_code == 401
    assert requests.put(webdav.url + "x.csv", data=CSV, auth=auth, timeout=10).status_code == 201
    assert requests.put(webdav.url + "x.csv", data=CSV + b"1", auth=auth, timeout=10).status_code == 204
    assert requests.request("MKCOL", webdav.url + "sub/", auth=auth, timeout=10).status_code == 201
    assert requests.put(webdav.url + "sub/y.json", data=b"{}", auth=auth, timeout=10).status_code == 201
    assert requests.get(webdav.url + "x.csv", auth=auth, timeout=10).content == CSV + b"1"
    assert webdav.files() == {"x.csv": CSV + b"1", "sub/y.json": b"{}"}
    assert (webdav.root / "x.csv").read_bytes() == CSV + b"1"


def test_webdav_faults_and_down(webdav: WebDAVServer) -> None:
    auth = (webdav.user, webdav.password)
    rule = webdav.inject_fault(r"\.csv$", status=500, count=1, method="PUT")
    assert requests.put(webdav.url + "a.csv", data=b"1", auth=auth, timeout=10).status_code == 500
    assert webdav.files() == {}
    assert requests.put(webdav.url + "a.csv", data=b"1", auth=auth, timeout=10).status_code == 201
    assert webdav.fault_hits(rule) == 1

    webdav.inject_fault(r"b\.csv", status=503, method="PUT", after=True)
    assert requests.put(webdav.url + "b.csv", data=b"2", auth=auth, timeout=10).status_code == 503
    assert webdav.files()["b.csv"] == b"2"

    webdav.inject_delay(r"c\.csv", seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.put(webdav.url + "c.csv", data=b"3", auth=auth, timeout=0.3)
    assert [r["status"] for r in webdav.requests_log()][:3] == [500, 201, 503]

    webdav.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(webdav.url, auth=auth, timeout=5)
    webdav.start_server()
    assert requests.request("PROPFIND", webdav.url, auth=auth, headers={"Depth": "1"}, timeout=10).status_code == 207


# ---------------------------------------------------------------------------------------- SMTP
def _mail(to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "perechen@example.test"
    msg["To"] = ", ".join(to)
    msg["Subject"] = "Перечень: 3 ошибки"
    msg.set_content("Здравствуйте! В перечне найдены ошибки.")
    msg.add_attachment(
        b"PK\x03\x04xlsx",
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="perechen.xlsx",
    )
    return msg


def test_smtp_receives_mail_with_auth(smtp: SMTPServer) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused):  # AUTH is required
            client.send_message(_mail(["a@example.test"]))
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(smtp.user, "wrong")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        client.login(smtp.user, smtp.password)
        client.send_message(_mail(["a@example.test"]), to_addrs=["a@example.test", "b@example.test"])
    (got,) = smtp.wait_for(1)
    assert got.envelope_to == ["a@example.test", "b@example.test"]
    assert got.subject == "Перечень: 3 ошибки"
    assert "найдены ошибки" in got.text
    assert got.attachments == [
        ("perechen.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04xlsx")
    ]
    assert got.authenticated_as == smtp.user and not got.tls
    assert smtp.failed_logins >= 1  # smtplib tries PLAIN, then LOGIN
    smtp.clear()
    assert smtp.messages == []


def test_smtp_auth_login_mechanism(smtp: SMTPServer) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        client.ehlo()
        client.user, client.password = smtp.user, smtp.password
        code, _ = client.auth("LOGIN", client.auth_login)
        assert code == 235
        client.send_message(_mail(["c@example.test"]))
    assert smtp.wait_for(1)[0].envelope_to == ["c@example.test"]


def test_smtp_down(smtp: SMTPServer) -> None:
    smtp.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp.host, smtp.port, timeout=5)
    smtp.start_server()
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        assert client.noop()[0] == 250


def test_smtp_starttls_verified(smtp_starttls: SMTPServer) -> None:
    server = smtp_starttls
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.ehlo()
        assert "auth" not in client.esmtp_features  # no AUTH before TLS
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=ssl.create_default_context())  # the system store does not trust it
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.starttls(context=server.client_context())
        client.login(server.user, server.password)
        client.send_message(_mail(["d@example.test"]))
    (got,) = server.wait_for(1)
    assert got.tls and got.authenticated_as == server.user


def test_smtps_implicit_tls(smtps: SMTPServer) -> None:
    with smtplib.SMTP_SSL(smtps.host, smtps.port, context=smtps.client_context(), timeout=10) as client:
        client.login(smtps.user, smtps.password)
        client.send_message(_mail(["e@example.test"]))
    assert smtps.wait_for(1)[0].tls


# ---------------------------------------------------------------------------------------- skip logic
def test_missing_packages_skip_or_fail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.servers import wordpress as wp_module
    from tests.servers._util import REQUIRE_ENV, ServerUnavailable, skip_or_fail

    monkeypatch.setattr(wp_module, "WP_ROOT", tmp_path / "no-wordpress")
    with pytest.raises(ServerUnavailable, match="нет WordPress"):
        wp_module.find_binaries()
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("нет пакетов")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception):
        skip_or_fail("нет пакетов")

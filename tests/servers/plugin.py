"""pytest fixtures for the real test servers. Load with ``pytest_plugins = ["tests.servers.plugin"]``.

Fixtures
--------
``wordpress_server`` (session)   the WordPress of the whole session, as is.
``wordpress`` (function)         the same server, made clean for the test: no posts, pages or media,
                                 no faults, web server running, empty request log; faults are also
                                 cleared and the web server restarted after the test.
``webdav`` (function)            a fresh wsgidav server with an empty folder.
``smtp`` (function)              plain SMTP with AUTH (PLAIN/LOGIN without TLS), AUTH required.
``smtp_starttls`` (function)     SMTP that requires STARTTLS before AUTH; ``.cafile`` trusts its cert.
``smtps`` (function)             SMTP over implicit TLS (like port 465); ``.cafile`` as above.

When a server cannot run here (packages missing), its fixtures skip with the reason, or fail
when the environment variable PERECHEN_REQUIRE_SERVERS=1 (CI) is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers._util import ServerUnavailable, skip_or_fail
from tests.servers.smtp import SMTPServer, TLSMode
from tests.servers.webdav import WebDAVServer
from tests.servers.wordpress import WordPressServer

_WP_FAILED: list[str] = []
_STARTUP: dict[str, float] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "servers: the test uses real servers on 127.0.0.1 (tests/servers)")
    # The plain SMTP variant allows AUTH without TLS on purpose (127.0.0.1 only).
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture(scope="session")
def wordpress_server() -> Iterator[WordPressServer]:
    if _WP_FAILED:
        skip_or_fail(_WP_FAILED[0])
    try:
        server = WordPressServer.start()
    except ServerUnavailable as exc:
        _WP_FAILED.append(str(exc))
        skip_or_fail(str(exc))
    _STARTUP["WordPress"] = server.startup_seconds
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def wordpress(wordpress_server: WordPressServer) -> Iterator[WordPressServer]:
    wp = wordpress_server
    wp.clear_faults()
    wp.start_web()
    wp.reset_content()
    wp.clear_request_log()
    try:
        yield wp
    finally:
        wp.clear_faults()
        wp.start_web()


@pytest.fixture
def webdav(tmp_path: Path) -> Iterator[WebDAVServer]:
    root = tmp_path / "dav-root"
    root.mkdir()
    try:
        server = WebDAVServer.start(root)
    except ServerUnavailable as exc:
        skip_or_fail(str(exc))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def smtp_cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one self-signed cert.pem/key.pem for all TLS SMTP servers of the session."""
    from tests.servers.smtp import make_self_signed_cert

    folder = tmp_path_factory.mktemp("smtp-tls")
    try:
        make_self_signed_cert(folder)
    except ServerUnavailable as exc:
        skip_or_fail(str(exc))
    return folder


def _smtp(tls: TLSMode, cert_dir: Path | None) -> Iterator[SMTPServer]:
    try:
        server = SMTPServer.start(tls, cert_dir=cert_dir)
    except ServerUnavailable as exc:
        skip_or_fail(str(exc))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    yield from _smtp(None, None)


@pytest.fixture
def smtp_starttls(smtp_cert_dir: Path) -> Iterator[SMTPServer]:
    yield from _smtp("starttls", smtp_cert_dir)


@pytest.fixture
def smtps(smtp_cert_dir: Path) -> Iterator[SMTPServer]:
    yield from _smtp("implicit", smtp_cert_dir)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, seconds in _STARTUP.items():
        terminalreporter.write_line(f"perechen test servers: {name} started in {seconds:.1f} s")

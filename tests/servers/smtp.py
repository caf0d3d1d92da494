"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

Variants: ``tls=None`` (plain, AUTH PLAIN/LOGIN allowed without TLS), ``tls="starttls"`` (STARTTLS
required before AUTH and MAIL) and ``tls="implicit"`` (TLS from the first byte, like port 465).
The TLS variants use a self-signed certificate for 127.0.0.1/localhost made with the ``openssl``
CLI; clients verify it with ``cafile`` (or ``SSL_CERT_FILE=<cafile>`` for code using the default
trust store).
"""

from __future__ import annotations

import email
import email.policy
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from tests.servers._util import ServerUnavailable, free_port, port_open, wait_until

TLSMode = Literal["starttls", "implicit"] | None


@dataclass
class ReceivedMessage:
    """One accepted message: the envelope, who logged in, whether TLS was on, and the parsed mail."""

    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None
    tls: bool
    received_at: float = field(default_factory=time.time)

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def text(self) -> str:
        """The plain-text body (decoded), or the HTML body if there is no plain part."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return "" if part is None else str(part.get_content())

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return None if part is None else str(part.get_content())

    @property
    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(file name, content type, bytes) for each attachment."""
        out: list[tuple[str, str, bytes]] = []
        for part in self.message.iter_attachments():
            data = part.get_payload(decode=True)
            out.append((part.get_filename() or "", part.get_content_type(), data if isinstance(data, bytes) else b""))
        return out


def make_self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """Write cert.pem and key.pem (EC P-256, SAN IP:127.0.0.1 and DNS:localhost) into ``folder``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ServerUnavailable("SMTP с TLS для тестов недоступен: нет программы openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "7",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    return cert, key


class _Handler:
    def __init__(self, owner: SMTPServer) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        auth = session.auth_data
        msg = ReceivedMessage(
            envelope_from=str(envelope.mail_from),
            envelope_to=[str(r) for r in envelope.rcpt_tos],
            message=parsed,
            raw=raw,
            authenticated_as=auth if isinstance(auth, str) else None,
            # aiosmtpd sets session.ssl only after STARTTLS; an implicit-TLS server is TLS throughout.
            tls=session.ssl is not None or self.owner.tls == "implicit",
        )
        with self.owner._lock:
            self.owner.messages.append(msg)
        return "250 Message accepted for delivery"


class SMTPServer:
    """aiosmtpd Controller on 127.0.0.1. Create with :meth:`start`, end with :meth:`close`."""

    def __init__(self, tls: TLSMode, auth_required: bool, user: str, password: str, cert_dir: Path | None) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls = tls
        self.auth_required = auth_required
        self.user = user
        self.password = password
        self.messages: list[ReceivedMessage] = []
        self.failed_logins = 0
        self.cafile: Path | None = None
        self._lock = threading.Lock()
        self._controller: Any = None
        self._cert_dir = cert_dir
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        self._server_ctx: ssl.SSLContext | None = None

    @classmethod
    def start(
        cls,
        tls: TLSMode = None,
        *,
        auth_required: bool = True,
        user: str = "mailer",
        password: str | None = None,
        cert_dir: Path | None = None,
    ) -> SMTPServer:
        """Start the server; ``cert_dir`` may hold a cert.pem/key.pem pair to reuse (made if missing)."""
        try:
            import aiosmtpd.controller  # noqa: F401
        except ImportError as exc:
            raise ServerUnavailable("SMTP для тестов недоступен: не установлен пакет aiosmtpd") from exc
        server = cls(tls, auth_required, user, password or secrets.token_urlsafe(12), cert_dir)
        if tls is not None:
            server._prepare_tls()
        server.start_server()
        return server

    def _prepare_tls(self) -> None:
        folder = self._cert_dir
        if folder is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="perechen-smtp-")
            folder = Path(self._own_dir.name)
        cert, key = folder / "cert.pem", folder / "key.pem"
        if not (cert.is_file() and key.is_file()):
            cert, key = make_self_signed_cert(folder)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(cert), str(key))
        self._server_ctx = ctx
        self.cafile = cert

    def client_context(self) -> ssl.SSLContext:
        """A verifying client SSL context that trusts this server's certificate."""
        if self.cafile is None:
            raise RuntimeError("this SMTP server has no TLS")
        return ssl.create_default_context(cafile=str(self.cafile))

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            ok = secrets.compare_digest(login, self.user) and secrets.compare_digest(
                auth_data.password, self.password.encode("utf-8")
            )
            if ok:
                return AuthResult(success=True, handled=False, auth_data=login)
        with self._lock:
            self.failed_logins += 1
        return AuthResult(success=False, handled=False)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start_server(self) -> None:
        """(Re)start on the same port."""
        from aiosmtpd.controller import Controller

        if self.running:
            return
        wait_until(lambda: not port_open(self.port), 10, f"release of port {self.port}")
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "server_hostname": "perechen-test-smtp",
            "authenticator": self._authenticate,
            "auth_required": self.auth_required,
            # Implicit TLS is not seen as TLS by aiosmtpd's AUTH check (it only knows STARTTLS).
            "auth_require_tls": self.tls == "starttls",
            "auth_exclude_mechanism": [],
            "ready_timeout": 10.0,
        }
        if self.tls == "starttls":
            kwargs.update(tls_context=self._server_ctx, require_starttls=True)
        elif self.tls == "implicit":
            kwargs.update(ssl_context=self._server_ctx)
        controller = Controller(_Handler(self), **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening ("SMTP server down"); received messages are kept. Restart with start_server()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def close(self) -> None:
        self.stop()
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.failed_logins = 0

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages arrived; return them all."""
        wait_until(lambda: len(self.messages) >= count, timeout, f"{count} message(s) on SMTP")
        with self._lock:
            return list(self.messages)

    def __enter__(self) -> SMTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SMTPServer {self.host}:{self.port} tls={self.tls} auth_required={self.auth_required}>"

"""A real WebDAV server (wsgidav on cheroot) on 127.0.0.1 with basic auth and fault injection.

The share is mounted at ``/dav/`` (like real servers that live below a path), backed by a folder.
Faults come from a small WSGI middleware wrapped around the real wsgidav application.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers._util import ServerUnavailable, free_port, port_open, wait_until

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass
class _Rule:
    regex: re.Pattern[str]
    status: int | None
    count: int | None
    method: str | None
    after: bool
    delay: float
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    hits: int = 0


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    423: "Locked",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    507: "Insufficient Storage",
}


class FaultMiddleware:
    """WSGI middleware: error statuses and delays for matching requests, and a request log."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.rules: list[_Rule] = []
        self.log: list[dict[str, Any]] = []

    def add(self, rule: _Rule) -> str:
        with self._lock:
            self.rules.append(rule)
        return rule.id

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _take(self, method: str, target: str) -> _Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.count is not None and rule.count <= 0:
                    continue
                if rule.method is not None and rule.method.upper() != method:
                    continue
                if not rule.regex.search(target):
                    continue
                if rule.count is not None:
                    rule.count -= 1
                rule.hits += 1
                return rule
        return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        target = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        if environ.get("QUERY_STRING"):
            target += "?" + str(environ["QUERY_STRING"])
        rule = self._take(method, target)
        entry: dict[str, Any] = {
            "method": method,
            "path": target,
            "status": None,
            "fault": rule.id if rule else None,
            "time": time.time(),
            # conditional-request headers (a client's cache at work) and whether credentials were sent
            "if_none_match": environ.get("HTTP_IF_NONE_MATCH"),
            "if_modified_since": environ.get("HTTP_IF_MODIFIED_SINCE"),
            "authorized": bool(environ.get("HTTP_AUTHORIZATION")),
        }
        with self._lock:
            self.log.append(entry)
        if rule is not None and rule.delay > 0:
            time.sleep(rule.delay)
        if rule is not None and rule.status is not None:
            if rule.after:
                # Let the real server do the work, throw its answer away.
                def swallow(
                    status: str, headers: list[tuple[str, str]], exc_info: Any = None
                ) -> Callable[[bytes], None]:
                    return lambda _data: None

                result = self.app(environ, swallow)
                try:
                    for _chunk in result:
                        pass
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            body = f"perechen test fault: HTTP {rule.status}\n".encode()
            entry["status"] = rule.status
            start_response(
                f"{rule.status} {_REASONS.get(rule.status, 'Error')}",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            entry["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, recording)


class WebDAVServer:
    """wsgidav + cheroot in a background thread. Create with :meth:`start`, end with :meth:`close`."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        self.root = root
        self.user = user
        self.password = password
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/dav/"
        self.faults: FaultMiddleware | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._own_root: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def start(cls, root: Path | None = None, user: str = "dav-user", password: str | None = None) -> WebDAVServer:
        """Serve ``root`` (a new temp folder if None) at ``http://127.0.0.1:PORT/dav/``."""
        try:
            from cheroot import wsgi  # noqa: F401
            from wsgidav.wsgidav_app import WsgiDAVApp  # noqa: F401
        except ImportError as exc:
            raise ServerUnavailable(
                f"WebDAV для тестов недоступен: не установлен пакет ({exc.name}); pip install wsgidav cheroot"
            ) from exc
        own: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            own = tempfile.TemporaryDirectory(prefix="perechen-dav-")
            root = Path(own.name)
        server = cls(Path(root), user, password or secrets.token_urlsafe(12))
        server._own_root = own
        server._build_app()
        server.start_server()
        return server

    def _build_app(self) -> None:
        from wsgidav.wsgidav_app import WsgiDAVApp

        config: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "provider_mapping": {"/dav": str(self.root)},
            "http_authenticator": {
                "domain_controller": None,
                "accept_basic": True,
                "accept_digest": False,
                "default_to_digest": False,
            },
            "simple_dc": {"user_mapping": {"*": {self.user: {"password": self.password}}}},
            "dir_browser": {"enable": True},
            "lock_storage": True,
            "property_manager": True,
            "verbose": 0,
            "logging": {"enable": False, "enable_loggers": []},
        }
        self.faults = FaultMiddleware(WsgiDAVApp(config))

    # ------------------------------------------------------------------ life cycle
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_server(self) -> None:
        """(Re)start listening on the same port."""
        from cheroot import wsgi

        if self.running:
            return
        wait_until(lambda: not port_open(self.port), 10, f"release of port {self.port}")
        server = wsgi.Server(("127.0.0.1", self.port), self.faults, numthreads=8, server_name="perechen-test-dav")
        server.prepare()
        self._server = server
        self._thread = threading.Thread(target=server.serve, name=f"webdav-{self.port}", daemon=True)
        self._thread.start()
        wait_until(lambda: port_open(self.port), 10, "WebDAV server")

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start_server`. Files stay."""
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def close(self) -> None:
        self.stop()
        if self._own_root is not None:
            self._own_root.cleanup()
            self._own_root = None

    def __enter__(self) -> WebDAVServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ faults
    def inject_fault(
        self,
        path_regex: str,
        status: int = 500,
        count: int | None = 1,
        *,
        method: str | None = None,
        after: bool = False,
        delay: float = 0.0,
    ) -> str:
        """Answer ``status`` to the next ``count`` matching requests (regex searched in the path).

        ``after=True`` lets wsgidav perform the request (the file is written) before answering the error.
        """
        assert self.faults is not None
        return self.faults.add(_Rule(re.compile(path_regex), int(status), count, method, after, float(delay)))

    def inject_delay(self, path_regex: str, seconds: float, count: int | None = 1, *, method: str | None = None) -> str:
        """Sleep ``seconds`` before handling matching requests (then handle them normally)."""
        assert self.faults is not None
        return self.faults.add(_Rule(re.compile(path_regex), None, count, method, False, float(seconds)))

    def clear_faults(self) -> None:
        assert self.faults is not None
        self.faults.clear()

    def fault_hits(self, rule_id: str) -> int:
        assert self.faults is not None
        return sum(r.hits for r in self.faults.rules if r.id == rule_id)

    def requests_log(self) -> list[dict[str, Any]]:
        """Requests seen so far: method, path, status, fault, time."""
        assert self.faults is not None
        return list(self.faults.log)

    def clear_request_log(self) -> None:
        assert self.faults is not None
        self.faults.log.clear()

    def files(self) -> dict[str, bytes]:
        """Every file in the share, by path relative to the root (``"a/b.csv"``)."""
        return {
            p.relative_to(self.root).as_posix(): p.read_bytes() for p in sorted(self.root.rglob("*")) if p.is_file()
        }

    def __repr__(self) -> str:
        return f"<WebDAVServer {self.url} root={self.root}>"

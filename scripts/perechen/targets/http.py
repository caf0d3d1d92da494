"""HTTP for the targets: timeouts, bounded retries with backoff, Russian reasons, no secrets in messages."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.auth

from .base import PublishFailed, RunContext, TransientError, redact

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PROPFIND", "MKCOL"})


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or url


def check_url(url: str | None, what: str) -> str:
    """A target URL must be http(s) and carry no user name or password (secrets live in env vars)."""
    if not url:
        raise PublishFailed("настройка", f"в perechen.toml не указан адрес ({what}).")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PublishFailed("настройка", f"адрес {what} должен начинаться с http:// или https://.")
    if "@" in parts.netloc:
        raise PublishFailed("настройка", f"в адресе {what} не должно быть имени пользователя и пароля: "
                                         "укажите user и password_env в perechen.toml.")
    return url


class Http:
    """One requests.Session per run with the target's auth, timeouts and retry policy."""

    def __init__(self, *, timeout: float, retries: int, backoff: float, verify: bool, ctx: RunContext,
                 auth: tuple[str, str] | None = None, target: str = "",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "perechen-publish"
        if auth is not None:
            # UTF-8 (RFC 7617), not requests' default latin-1, so any password can be sent.
            self.session.auth = requests.auth.HTTPBasicAuth(auth[0].encode("utf-8"), auth[1].encode("utf-8"))
        self.session.verify = verify
        self.timeout = (min(10.0, timeout), timeout)
        self.timeout_s = timeout
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.ctx = ctx
        self.target = target
        self.sleep = sleep
        self.on_auth_error: Callable[[requests.Response], str] | None = None

    def close(self) -> None:
        self.session.close()

    def pause(self, attempt: int) -> None:
        if self.backoff:
            self.sleep(min(30.0, self.backoff * (2 ** attempt)))

    def fail(self, step: str, reason: str) -> PublishFailed:
        return PublishFailed(step, redact(reason, self.ctx.secrets), target=self.target)

    def once(self, method: str, url: str, *, step: str, ok: Iterable[int] = (200,), **kw: Any) -> requests.Response:
        """One attempt. Transient failures raise TransientError; others raise PublishFailed."""
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", method in ("GET", "HEAD"))
        try:
            resp = self.session.request(method, url, **kw)
        except requests.exceptions.SSLError as e:
            raise self.fail(step, f"не удалось проверить сертификат TLS сервера {host_of(url)} ({_tls_reason(e)}). "
                                  "Проверка сертификатов не отключается: установите корректный сертификат на "
                                  "сервере или добавьте корневой сертификат организации в систему.") from None
        except requests.exceptions.ConnectTimeout:
            raise TransientError(f"сервер {host_of(url)} не отвечает (соединение не установлено за "
                                 f"{self.timeout[0]:.0f} с).") from None
        except requests.exceptions.Timeout:
            raise TransientError(f"сервер {host_of(url)} не ответил за {self.timeout_s:g} с.",
                                 uncertain=True) from None
        except requests.exceptions.ConnectionError as e:
            raise TransientError(f"сервер {host_of(url)} недоступен ({_conn_reason(e)}).") from None
        except requests.exceptions.RequestException as e:
            raise self.fail(step, f"ошибка HTTP-запроса к {host_of(url)}: {_request_reason(e)}.") from None
        oks = set(ok)
        if resp.status_code in oks:
            return resp
        reason = self.describe(resp)
        if resp.status_code in (401, 403) and self.on_auth_error is not None:
            raise self.fail(step, self.on_auth_error(resp))
        if resp.status_code in RETRY_STATUSES:
            raise TransientError(reason)
        raise self.fail(step, reason)

    def request(self, method: str, url: str, *, step: str, ok: Iterable[int] = (200,), **kw: Any) -> requests.Response:
        """Idempotent requests are retried (bounded, with backoff); others get one attempt."""
        oks = tuple(ok)
        attempts = self.retries + 1 if method.upper() in IDEMPOTENT else 1
        last = ""
        for attempt in range(attempts):
            try:
                return self.once(method, url, step=step, ok=oks, **kw)
            except TransientError as e:
                last = e.reason
                self.ctx.note(f"{step}: попытка {attempt + 1} из {attempts}: {e.reason}")
                if attempt + 1 < attempts:
                    self.pause(attempt)
        raise self.fail(step, last + (f" Попыток: {attempts}." if attempts > 1 else ""))

    def describe(self, resp: requests.Response) -> str:
        msg = ""
        try:
            data = resp.json()
            if isinstance(data, dict) and isinstance(data.get("message"), str):
                msg = data["message"]
                if isinstance(data.get("code"), str):
                    msg = f"{msg} [{data['code']}]"
        except ValueError:
            pass
        text = f"сервер ответил {resp.status_code} {resp.reason or ''}".rstrip()
        if msg:
            text += f": {_strip_tags(msg)[:300]}"
        return redact(text + ".", self.ctx.secrets)


def converge(http: Http, step: str, action: Callable[[], Any], check: Callable[[], Any]) -> Any:
    """Run a non-idempotent write so that a retry never duplicates it.

    After a transient failure (5xx, a timeout — the server may have done the work), ``check()`` looks
    whether the write landed; only when it did not is the write tried again. After a timeout the server may
    still be working on it, so the check is repeated for up to twice the timeout before writing again.
    """
    attempts = http.retries + 1
    last = ""
    uncertain = False
    for attempt in range(attempts):
        if attempt:
            http.pause(attempt - 1)
            deadline = time.monotonic() + (2 * http.timeout_s if uncertain else 0.0)
            while True:
                found = check()
                if found:
                    return found
                if time.monotonic() >= deadline:
                    break
                http.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        try:
            return action()
        except TransientError as e:
            last, uncertain = e.reason, e.uncertain
            http.ctx.note(f"{step}: попытка {attempt + 1} из {attempts}: {e.reason}")
    found = check()
    if found:
        return found
    raise http.fail(step, last + f" Попыток: {attempts}.")


# OpenSSL's verification results (X509_V_ERR_*) a clerk or an administrator may meet, in Russian.
_TLS_VERIFY = {
    10: "срок действия сертификата истёк",
    9: "срок действия сертификата ещё не начался",
    18: "сертификат самоподписанный — система ему не доверяет",
    19: "в цепочке сертификата самоподписанный корневой сертификат, которому система не доверяет",
    20: "сертификат выдан удостоверяющим центром, которого система не знает",
    21: "сертификат выдан удостоверяющим центром, которого система не знает",
    62: "сертификат выдан на другое имя сервера",
}


def _tls_reason(e: BaseException) -> str:
    """Why TLS failed, in Russian, from the exception types and OpenSSL's code (never OpenSSL's English text)."""
    causes = list(_causes(e))
    for c in causes:
        if isinstance(c, ssl.SSLCertVerificationError):
            return _TLS_VERIFY.get(int(getattr(c, "verify_code", 0) or 0), "сертификат не подтверждён")
    return "соединение TLS не установлено"


def _request_reason(e: BaseException) -> str:
    """A failed request that is neither TLS, a timeout nor a connection error, in Russian by type."""
    if isinstance(e, requests.exceptions.TooManyRedirects):
        return "слишком много перенаправлений"
    if isinstance(e, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                      requests.exceptions.InvalidSchema)):
        return "неверный адрес"
    if isinstance(e, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return "ответ сервера оборвался или повреждён"
    if isinstance(e, requests.exceptions.InvalidHeader):
        return "недопустимое значение заголовка запроса"
    return f"запрос не выполнен ({type(e).__name__})"


def _causes(e: BaseException) -> Iterator[BaseException]:
    """``e`` and everything it wraps: requests → urllib3 MaxRetryError.reason → NewConnectionError → OSError."""
    seen: set[int] = set()
    todo: list[BaseException] = [e]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        todo.extend(x for x in (cur.__cause__, cur.__context__, getattr(cur, "reason", None), *cur.args)
                    if isinstance(x, BaseException))


def _conn_reason(e: BaseException) -> str:
    """The reason by exception type, never by message text (that is English on Linux, Russian on a Russian
    Windows — «Подключение не установлено…» — and differs between libc versions)."""
    causes = list(_causes(e))
    if any(isinstance(c, socket.gaierror) for c in causes):  # urllib3's NameResolutionError wraps it
        return "имя сервера не найдено"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "соединение отклонено"
    # http.client.RemoteDisconnected is a ConnectionResetError
    if any(isinstance(c, ConnectionResetError | ConnectionAbortedError | BrokenPipeError) for c in causes):
        return "сервер разорвал соединение"
    return "ошибка соединения"


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)

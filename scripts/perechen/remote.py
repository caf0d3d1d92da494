"""A workbook kept on a server: ``workbook = "https://…/perechen.xlsx"`` in perechen.toml.

WebDAV and Nextcloud shares, Р7-Офис Документы or any HTTPS link are read with a plain GET — nothing is ever
written to the server. The copy lives in a private cache folder (``output/.remote/``, owner-only) with the
server's ETag / Last-Modified, so the next run asks conditionally and an unchanged workbook is not downloaded
again (HTTP 304). The password comes from the environment variable named by ``[remote] password_env`` and
never reaches a file, a log line or a message.

TLS is verified (``[remote] cafile`` adds an organisation's own CA); plain ``http://`` is accepted only for the
loopback address or when ``[remote] allow_http = true`` says so explicitly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict

from .errors import describe
from .fsutil import write_replace
from .models import FileError

CACHE_DIR = ".remote"
META_NAME = "meta.json"
MAX_DOWNLOAD_BYTES = 400_000_000  # the reader refuses more unpacked anyway
USER_AGENT = "perechen (reads the register; never writes)"
Message = Callable[[str, str, str], str]  # (code, path, detail) -> Russian text: Rules.file_error


class RemoteSettings(BaseModel):
    """``[remote]`` in perechen.toml: how to reach a workbook given as a URL."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    password_env: str | None = None  # the environment variable holding the password
    timeout: float = 30.0  # seconds to connect and between bytes
    allow_http: bool = False  # plain http:// beyond the loopback address (an internal network, knowingly)
    cafile: str | None = None  # an extra CA bundle (PEM) to trust; verification stays on


def is_url(value: str | os.PathLike[str] | None) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def cache_folder(url: str, output_dir: Path) -> Path:
    return output_dir / CACHE_DIR / hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def file_name(url: str) -> str:
    """The workbook's own name from the URL (perechen.xlsx), safe as a file name."""
    name = unquote(urlsplit(url.strip()).path.rstrip("/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch not in '<>:"/\\|?*' and ord(ch) >= 32).strip(" .")
    return name or "perechen.xlsx"


def cache_file(url: str, output_dir: Path) -> Path:
    """Where the downloaded copy of ``url`` lives (the path reports and messages name)."""
    return cache_folder(url, output_dir) / file_name(url)


def _loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _private_dir(path: Path) -> None:
    """Create the folder (and output/.remote/) readable by the owner only."""
    for p in (path.parent, path):
        p.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # on Windows the folder inherits the profile's ACL
            os.chmod(p, 0o700)


def _read_meta(folder: Path, target: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
        data = target.read_bytes()
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(data).hexdigest():
        return {}  # the copy was changed or cut short: ask for the whole file again
    return meta


def _write_private(path: Path, data: bytes) -> None:
    write_replace(path, data, mode=0o600)  # the downloaded copy is private; raises OSError


def _network_detail(e: BaseException) -> str:
    """Why a connection failed, in Russian, from the exception types in the chain (never their English text)."""
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [e]
    while stack:
        x = stack.pop()
        if x is None or any(x is s for s in seen) or len(seen) > 20:
            continue
        seen.append(x)
        stack.extend([x.__cause__, x.__context__, *[a for a in getattr(x, "args", ()) if isinstance(a, BaseException)]])
        reason = getattr(x, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    if any(isinstance(x, ConnectionRefusedError) for x in seen):
        return "соединение отклонено (сервер не запущен или порт закрыт)"
    if any(isinstance(x, socket.gaierror) for x in seen) or any("NameResolution" in type(x).__name__ for x in seen):
        return "имя сервера не найдено"
    if any(isinstance(x, ConnectionResetError) for x in seen):
        return "сервер разорвал соединение"
    return "сеть или сервер недоступны"


def fetch(url: str, settings: RemoteSettings, output_dir: Path, message: Message,
          *, environ: dict[str, str] | None = None) -> Path:
    """Bring the server's workbook into the private cache (conditionally) and return the local copy's path.

    Raises FileError (exit 2) with a Russian message for a refused scheme, a missing password, 401/403/404,
    other HTTP errors, timeouts, refused connections, TLS failures and oversize files.
    """
    import requests

    url = url.strip()
    env = os.environ if environ is None else environ
    parts = urlsplit(url)

    shown = url if not (parts.username or parts.password) else parts._replace(
        netloc=parts.netloc.rpartition("@")[2]).geturl()  # never a password in a message

    def fail(code: str, detail: str = "") -> FileError:
        return FileError(code, message(code, shown, detail), None)

    if parts.username or parts.password:
        raise fail("remote_insecure_url")
    if parts.scheme.lower() == "http" and not (_loopback(parts.hostname or "") or settings.allow_http):
        raise fail("remote_insecure")
    auth: Any = None
    if settings.user:
        var = settings.password_env or ""
        password = env.get(var, "") if var else ""
        if not password:
            raise fail("remote_no_password", var or "([remote] password_env не задан)")
        # UTF-8 (RFC 7617), not requests' latin-1 default, which fails on a Cyrillic password
        auth = requests.auth.HTTPBasicAuth(settings.user.encode("utf-8"), password.encode("utf-8"))
    folder = cache_folder(url, output_dir)
    target = folder / file_name(url)
    try:
        _private_dir(folder)
    except OSError as e:
        raise fail("remote_cache", f"{folder} ({describe(e)})") from None
    meta = _read_meta(folder, target)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if meta.get("etag"):
        headers["If-None-Match"] = str(meta["etag"])
    if meta.get("last_modified"):
        headers["If-Modified-Since"] = str(meta["last_modified"])
    verify: bool | str = settings.cafile or True
    try:
        with requests.Session() as s:
            s.trust_env = False  # no proxy or netrc credentials from the environment
            with s.get(url, headers=headers, auth=auth, timeout=settings.timeout, verify=verify, stream=True,
                       allow_redirects=True) as r:
                final = urlsplit(r.url)
                if final.scheme.lower() == "http" and not (_loopback(final.hostname or "") or settings.allow_http):
                    raise fail("remote_insecure")
                if r.status_code == 304 and meta:
                    return target
                if r.status_code in (401, 403):
                    raise fail("remote_auth", str(r.status_code))
                if r.status_code in (404, 410):
                    raise fail("remote_not_found", str(r.status_code))
                if r.status_code != 200:
                    raise fail("remote_http", f"{r.status_code} {r.reason or ''}".strip())
                declared = r.headers.get("Content-Length", "")
                limit_text = f"{MAX_DOWNLOAD_BYTES // 1_000_000} МБ"
                if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
                    raise fail("remote_too_large", limit_text)
                chunks: list[bytes] = []
                size = 0
                for chunk in r.iter_content(1 << 16):
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise fail("remote_too_large", limit_text)
                    chunks.append(chunk)
                data = b"".join(chunks)
                etag, modified = r.headers.get("ETag"), r.headers.get("Last-Modified")
    except FileError:
        raise
    except requests.exceptions.SSLError:
        raise fail("remote_tls", "сертификат не подтверждён или соединение TLS не установлено") from None
    except requests.exceptions.Timeout:
        raise fail("remote_timeout", f"больше {settings.timeout:g} с") from None
    except requests.exceptions.TooManyRedirects:
        raise fail("remote_http", "слишком много перенаправлений") from None
    except requests.exceptions.ConnectionError as e:
        raise fail("remote_unreachable", _network_detail(e)) from None
    except requests.exceptions.RequestException as e:
        raise fail("remote_unreachable", _network_detail(e)) from None
    try:
        _write_private(target, data)
        meta = {"url": url, "etag": etag, "last_modified": modified, "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data), "fetched": dt.datetime.now().isoformat(timespec="seconds")}
        _write_private(folder / META_NAME, json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"))
    except OSError as e:
        raise fail("remote_cache", f"{folder} ({describe(e)})") from None
    return target

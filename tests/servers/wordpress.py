"""A real WordPress (Debian's package) on 127.0.0.1 for the tests, with fault injection.

One :class:`WordPressServer` owns, in a private folder under ``$TMPDIR/perechen-servers/wp-*``:
a MariaDB instance (own datadir, unix socket only, no networking), a session config and a
``wp-content`` folder, and ``php -S 127.0.0.1:PORT`` with 4 workers routed by ``wp_router.php``.
WordPress is installed headlessly through the php CLI (``wp/install.php``): an administrator and
an editor, each with an Application Password. Everything is fresh for each session.

Faults are real server behaviour driven by a JSON control file the router reads per request:
error statuses, delays, a stripped Authorization header. The helpers of this class send a secret
``X-Perechen-Bypass`` header, so they are never hit by faults and never appear in the request log.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.servers._util import (
    ServerUnavailable,
    free_port,
    kill_group,
    port_open,
    reap_stale,
    servers_base_dir,
    wait_until,
    write_owner,
)

HERE = Path(__file__).resolve().parent
ROUTER = HERE / "wp_router.php"
WP_DIR = HERE / "wp"
WP_ROOT = Path("/usr/share/wordpress")
WP_THEMES = WP_ROOT / "wp-content" / "themes"
ETC_WORDPRESS = Path("/etc/wordpress")
SHIM_NAME = "config-perechen-tests.php"
BYPASS_HEADER = "X-Perechen-Bypass"
HTTP_TIMEOUT = 30.0


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if found:
            return found
    return None


def find_binaries() -> dict[str, str]:
    """Locate php, mariadbd, mariadb-install-db and the mariadb client, or raise ServerUnavailable."""
    found = {
        "php": _which("php"),
        "mariadbd": _which("mariadbd", "mysqld"),
        "install_db": _which("mariadb-install-db", "mysql_install_db"),
        "client": _which("mariadb", "mysql"),
    }
    missing = [k for k, v in found.items() if v is None]
    problems: list[str] = []
    if missing:
        problems.append("нет программ: " + ", ".join(missing))
    if not (WP_ROOT / "wp-settings.php").is_file():
        problems.append(f"нет WordPress в {WP_ROOT}")
    elif not (WP_THEMES / "twentytwentythree").is_dir():
        problems.append("нет темы twentytwentythree")
    if problems:
        raise ServerUnavailable(
            "WordPress для тестов недоступен (" + "; ".join(problems) + "). "
            "Установите пакеты: sudo .ci/install-servers.sh"
        )
    php = found["php"]
    assert php is not None
    mods = subprocess.run([php, "-m"], capture_output=True, text=True, check=False).stdout
    if "mysqli" not in mods.split():
        raise ServerUnavailable("WordPress для тестов недоступен: в PHP нет mysqli (пакет php-mysql)")
    return {k: v for k, v in found.items() if v is not None}


def _install_shim() -> None:
    """Put the tiny config dispatcher into /etc/wordpress (idempotent, atomic)."""
    wanted = (WP_DIR / "config-shim.php").read_bytes()
    target = ETC_WORDPRESS / SHIM_NAME
    try:
        if target.is_file() and target.read_bytes() == wanted:
            return
        ETC_WORDPRESS.mkdir(parents=True, exist_ok=True)
        tmp = ETC_WORDPRESS / f".{SHIM_NAME}.{os.getpid()}"
        tmp.write_bytes(wanted)
        tmp.chmod(0o644)
        tmp.replace(target)
    except PermissionError as exc:
        raise ServerUnavailable(
            f"WordPress для тестов недоступен: нет права записи в {ETC_WORDPRESS} "
            "(запустите тесты от root или создайте файл "
            f"{target} из tests/servers/wp/config-shim.php)"
        ) from exc


def _php_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class WordPressServer:
    """A running WordPress; see the module docstring. Create with :meth:`start`, end with :meth:`close`."""

    def __init__(self) -> None:
        self.port = 0
        self.url = ""
        self.api_root = ""
        self.user = "editor"
        self.app_password = ""
        self.admin_user = "admin"
        self.admin_password = ""
        self.admin_app_password = ""
        self.workdir = Path()
        self.content_dir = Path()
        self.uploads_dir = Path()
        self.control_file = Path()
        self.request_log = Path()
        self.php_error_log = Path()
        self.startup_seconds = 0.0
        self._bin: dict[str, str] = {}
        self._bypass = secrets.token_hex(16)
        self._db_proc: subprocess.Popen[bytes] | None = None
        self._web_proc: subprocess.Popen[bytes] | None = None
        self._socket = Path()
        self._session: requests.Session | None = None

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def start(cls) -> WordPressServer:
        """Start MariaDB and php -S, install WordPress; raise ServerUnavailable if it cannot run here."""
        t0 = time.monotonic()
        server = cls()
        server._bin = find_binaries()
        _install_shim()
        reap_stale("wp-")
        try:
            server._start(t0)
        except BaseException:
            server.close()
            raise
        return server

    def _start(self, t0: float) -> None:
        base = servers_base_dir()
        self.workdir = Path(tempfile.mkdtemp(prefix="wp-", dir=base))
        self.workdir.chmod(0o755)  # mariadbd runs as mysql and must reach its datadir and socket
        write_owner(self.workdir, [])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_root = f"{self.url}/wp-json/"
        self.content_dir = self.workdir / "wp-content"
        self.uploads_dir = self.content_dir / "uploads"
        self.control_file = self.workdir / "control.json"
        self.request_log = self.workdir / "requests.jsonl"
        self.php_error_log = self.workdir / "php-error.log"
        self._socket = self.workdir / "run" / "mysqld.sock"
        self._write_control({})
        self.request_log.touch()
        self._make_content_dir()
        self._start_db()
        self._write_config()
        self.start_web(wait=False)
        self._wait_db()
        self._install()
        self._wait_web()
        self.reset_content()
        self.clear_request_log()
        self.startup_seconds = time.monotonic() - t0

    def close(self) -> None:
        """Stop the web server and the database, delete the private folder."""
        if self._session is not None:
            self._session.close()
            self._session = None
        kill_group(self._web_proc)
        self._web_proc = None
        kill_group(self._db_proc, timeout=10)
        self._db_proc = None
        if self.workdir != Path() and self.workdir.is_dir():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> WordPressServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record_pids(self) -> None:
        write_owner(self.workdir, [p.pid for p in (self._db_proc, self._web_proc) if p is not None])

    # ------------------------------------------------------------------ database
    def _db_cmd_base(self) -> list[str]:
        return ["--no-defaults"]

    def _start_db(self) -> None:
        datadir = self.workdir / "mysql"
        datadir.mkdir()
        rundir = self._socket.parent
        rundir.mkdir(mode=0o755)
        user_args: list[str] = []
        if os.geteuid() == 0:
            # mariadbd refuses to run as root: it switches to mysql, which must own its folders.
            for folder in (datadir, rundir):
                shutil.chown(folder, user="mysql", group="mysql")
            user_args = ["--user=mysql"]
        common = [
            f"--datadir={datadir}",
            "--innodb-log-file-size=8M",
            "--innodb-buffer-pool-size=32M",
        ]
        with open(self.workdir / "install-db.log", "wb") as install_log:
            done = subprocess.run(
                [
                    self._bin["install_db"],
                    *self._db_cmd_base(),
                    *user_args,
                    *common,
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                ],
                check=False,
                stdin=subprocess.DEVNULL,
                stdout=install_log,
                stderr=subprocess.STDOUT,
            )
        if done.returncode != 0:
            tail = (self.workdir / "install-db.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"mariadb-install-db не удался (код {done.returncode}):\n{tail}")
        log = open(self.workdir / "mariadb.log", "wb")
        self._db_proc = subprocess.Popen(
            [
                self._bin["mariadbd"],
                *self._db_cmd_base(),
                *user_args,
                *common,
                "--skip-networking",
                f"--socket={self._socket}",
                f"--pid-file={rundir / 'mariadb.pid'}",
                "--skip-log-bin",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._record_pids()

    def _wait_db(self) -> None:
        def ready() -> bool:
            if self._db_proc is not None and self._db_proc.poll() is not None:
                tail = (self.workdir / "mariadb.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"MariaDB для тестов не запустилась:\n{tail}")
            return self._socket.exists() and self.sql("SELECT 1", database="", check=False).returncode == 0

        wait_until(ready, 30, "MariaDB")
        self.sql("CREATE DATABASE wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", database="")

    def sql(
        self, statements: str, *, database: str = "wordpress", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run SQL through the mariadb client as root on the private socket; returns tab-separated output."""
        cmd = [self._bin["client"], "--no-defaults", f"--socket={self._socket}", "-uroot", "-N", "-B"]
        if database:
            cmd.append(database)
        return subprocess.run(cmd, input=statements, capture_output=True, text=True, check=check)

    # ------------------------------------------------------------------ WordPress files
    def _make_content_dir(self) -> None:
        self.content_dir.mkdir()
        (self.content_dir / "themes").symlink_to(WP_THEMES)
        (self.content_dir / "plugins").symlink_to(WP_ROOT / "wp-content" / "plugins")
        (self.content_dir / "mu-plugins").mkdir()
        shutil.copyfile(WP_DIR / "mu-plugin.php", self.content_dir / "mu-plugins" / "perechen-test-server.php")
        self.uploads_dir.mkdir()

    def _write_config(self) -> None:
        keys = "".join(
            f"define({_php_str(k)}, {_php_str(secrets.token_urlsafe(48))});\n"
            for k in (
                "AUTH_KEY",
                "SECURE_AUTH_KEY",
                "LOGGED_IN_KEY",
                "NONCE_KEY",
                "AUTH_SALT",
                "SECURE_AUTH_SALT",
                "LOGGED_IN_SALT",
                "NONCE_SALT",
            )
        )
        text = f"""<?php
/* perechen test session config (generated; deleted with the session). */
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', {_php_str("localhost:" + str(self._socket))});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}define('WP_HOME', {_php_str(self.url)});
define('WP_SITEURL', {_php_str(self.url)});
define('WP_CONTENT_DIR', {_php_str(str(self.content_dir))});
define('WP_CONTENT_URL', {_php_str(self.url + "/wp-content")});
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_ALLOW_MULTISITE', false);
define('WP_DEBUG', false);
define('WP_DEBUG_DISPLAY', false);
define('FS_METHOD', 'direct');
$table_prefix = 'wp_';
"""
        path = self.workdir / "wp-config.php"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)

    def _php_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PERECHEN_WP_CONFIG_FILE=str(self.workdir / "wp-config.php"),
            PERECHEN_WP_CONTROL=str(self.control_file),
            PERECHEN_WP_REQUEST_LOG=str(self.request_log),
            PERECHEN_WP_BYPASS=self._bypass,
            PERECHEN_WP_CONTENT_DIR=str(self.content_dir),
            PHP_CLI_SERVER_WORKERS="4",
        )
        return env

    def _php_ini_args(self) -> list[str]:
        return [
            "-d",
            "opcache.enable_cli=1",
            "-d",
            "upload_max_filesize=64M",
            "-d",
            "post_max_size=64M",
            "-d",
            "memory_limit=256M",
            "-d",
            "display_errors=0",
            "-d",
            "log_errors=1",
            "-d",
            f"error_log={self.php_error_log}",
        ]

    def _install(self) -> None:
        self.admin_password = secrets.token_urlsafe(18)
        spec = {
            "title": "Тестовый сайт perechen",
            "admin_user": self.admin_user,
            "admin_password": self.admin_password,
            "admin_email": "admin@example.test",
            "editor_user": self.user,
            "editor_password": secrets.token_urlsafe(18),
            "editor_email": "editor@example.test",
        }
        env = self._php_env()
        env.update(PERECHEN_WP_HOST=f"127.0.0.1:{self.port}", PERECHEN_WP_INSTALL=json.dumps(spec))
        done = subprocess.run(
            [self._bin["php"], *self._php_ini_args(), str(WP_DIR / "install.php")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"установка WordPress не удалась (код {done.returncode}): {done.stderr.strip()[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        self.app_password = str(result["editor_app_password"])
        self.admin_app_password = str(result["admin_app_password"])

    # ------------------------------------------------------------------ web server
    @property
    def web_running(self) -> bool:
        return self._web_proc is not None and self._web_proc.poll() is None

    def start_web(self, wait: bool = True) -> None:
        """(Re)start ``php -S`` on the same port."""
        if self.web_running:
            return
        wait_until(lambda: not port_open(self.port), 10, f"release of port {self.port}")
        log = open(self.workdir / "php-server.log", "ab")
        self._web_proc = subprocess.Popen(
            [
                self._bin["php"],
                *self._php_ini_args(),
                "-S",
                f"127.0.0.1:{self.port}",
                "-t",
                str(WP_ROOT),
                str(ROUTER),
            ],
            env=self._php_env(),
            cwd=str(self.workdir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._record_pids()
        if wait:
            self._wait_web()

    def stop_web(self) -> None:
        """Kill the web server (the database keeps running): connections are refused until start_web()."""
        kill_group(self._web_proc)
        self._web_proc = None
        self._record_pids()
        wait_until(lambda: not port_open(self.port), 10, f"release of port {self.port}")

    def _wait_web(self) -> None:
        def ready() -> bool:
            if self._web_proc is not None and self._web_proc.poll() is not None:
                tail = (self.workdir / "php-server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"php -S для тестов не запустился:\n{tail}")
            if not port_open(self.port):
                return False
            try:
                return self.get("/wp-json/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, 60, "WordPress REST API")

    # ------------------------------------------------------------------ faults
    @contextmanager
    def _locked_control(self) -> Iterator[dict[str, Any]]:
        import fcntl  # POSIX only, like the PHP/MariaDB servers this fixture starts

        with open(self.control_file, "r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            raw = fh.read()
            state: dict[str, Any] = json.loads(raw) if raw.strip() else {}
            yield state
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(state))
            fh.flush()

    def _write_control(self, state: dict[str, Any]) -> None:
        if not self.control_file.exists():
            self.control_file.write_text(json.dumps(state), encoding="utf-8")
            return
        with self._locked_control() as current:
            current.clear()
            current.update(state)

    def _add_rule(self, rule: dict[str, Any]) -> str:
        rule_id = uuid.uuid4().hex[:12]
        rule.update(id=rule_id, hits=0)
        with self._locked_control() as state:
            state.setdefault("rules", []).append(rule)
        return rule_id

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
        """Answer ``status`` to the next ``count`` requests (None: until cleared) whose URI matches.

        The regex is searched in the raw and in the percent-decoded request URI (path and query, so
        ``wp/v2/media`` matches ``/wp-json/wp/v2/media`` and ``?rest_route=%2Fwp%2Fv2%2Fmedia``).
        ``after=False``: WordPress never sees the request. ``after=True``: WordPress does the work
        (the upload or the page write happens) and the client gets the error instead of the answer.
        Returns the rule id for :meth:`fault_hits`.
        """
        return self._add_rule(
            {
                "regex": path_regex,
                "status": int(status),
                "count": count,
                "method": method,
                "after": bool(after),
                "delay": float(delay),
            }
        )

    def inject_delay(self, path_regex: str, seconds: float, count: int | None = 1, *, method: str | None = None) -> str:
        """Sleep ``seconds`` before handling matching requests (then handle them normally)."""
        return self._add_rule(
            {
                "regex": path_regex,
                "status": None,
                "count": count,
                "method": method,
                "after": False,
                "delay": float(seconds),
            }
        )

    def strip_authorization(self, enabled: bool = True) -> None:
        """Drop the Authorization header before WordPress sees it, like a misconfigured Apache/CGI."""
        with self._locked_control() as state:
            state["strip_authorization"] = bool(enabled)

    def allow_upload_types(self, mimes: dict[str, str]) -> None:
        """Let WordPress accept extra upload types, e.g. ``{"json": "application/json"}`` (cleared by clear_faults)."""
        with self._locked_control() as state:
            state.setdefault("upload_mimes", {}).update(mimes)

    def disallow_unfiltered_html(self, enabled: bool = True) -> None:
        """Take unfiltered_html from every user, as DISALLOW_UNFILTERED_HTML or a multisite network do: WordPress's
        kses then filters what they post (cleared by clear_faults)."""
        with self._locked_control() as state:
            state["no_unfiltered_html"] = bool(enabled)

    def clear_faults(self) -> None:
        """Remove every fault rule, the Authorization stripping and extra upload types."""
        self._write_control({})

    def fault_hits(self, rule_id: str) -> int:
        """How many requests the rule has answered so far."""
        with self._locked_control() as state:
            for rule in state.get("rules", []):
                if rule.get("id") == rule_id:
                    return int(rule.get("hits", 0))
        return 0

    # ------------------------------------------------------------------ request log
    def requests_log(self) -> list[dict[str, Any]]:
        """Requests seen since the last clear (not the helpers' own): method, uri, status, fault, time."""
        out: list[dict[str, Any]] = []
        for line in self.request_log.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def writes_log(self) -> list[dict[str, Any]]:
        """Only the requests that could change something (not GET/HEAD/OPTIONS)."""
        return [r for r in self.requests_log() if r["method"] not in ("GET", "HEAD", "OPTIONS")]

    def clear_request_log(self) -> None:
        import fcntl  # POSIX only, like the PHP/MariaDB servers this fixture starts

        with open(self.request_log, "r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.truncate(0)

    # ------------------------------------------------------------------ HTTP helpers
    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
            self._session.headers[BYPASS_HEADER] = self._bypass
        return self._session

    def get(self, path: str, *, auth: bool = False, **kwargs: Any) -> requests.Response:
        """GET a site path (``/``, ``/my-page/``, ``/wp-content/uploads/...``) bypassing faults.

        ``auth=True`` sends the administrator's Application Password.
        """
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        if auth:
            kwargs.setdefault("auth", (self.admin_user, self.admin_app_password))
        target = path if path.startswith("http") else self.url + "/" + path.lstrip("/")
        return self._http().get(target, **kwargs)

    def admin_session(self) -> requests.Session:
        """A new requests.Session authenticated as the administrator (bypassing faults)."""
        session = requests.Session()
        session.auth = (self.admin_user, self.admin_app_password)
        session.headers[BYPASS_HEADER] = self._bypass
        return session

    def rest(self, method: str, route: str, **kwargs: Any) -> requests.Response:
        """Call the REST API as the administrator: ``rest("GET", "wp/v2/pages", params=...)``."""
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        kwargs.setdefault("auth", (self.admin_user, self.admin_app_password))
        return self._http().request(method, self.api_root + route.lstrip("/"), **kwargs)

    def _rest_all(self, route: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            resp = self.rest("GET", route, params={**params, "per_page": 100, "page": page})
            resp.raise_for_status()
            items.extend(resp.json())
            if page >= int(resp.headers.get("X-WP-TotalPages", "1") or 1):
                return items
            page += 1

    def list_media(self, **params: Any) -> list[dict[str, Any]]:
        """Every attachment (context=edit), newest first."""
        return self._rest_all("wp/v2/media", {"context": "edit", **params})

    def list_pages(self, slug: str | None = None, **params: Any) -> list[dict[str, Any]]:
        """Every page in any status (context=edit), optionally only the ones with ``slug``."""
        query: dict[str, Any] = {"context": "edit", "status": "any", **params}
        if slug is not None:
            query["slug"] = slug
        return self._rest_all("wp/v2/pages", query)

    def page_revisions(self, page_id: int) -> list[dict[str, Any]]:
        """The stored revisions of a page (each write of content or title adds one)."""
        resp = self.rest("GET", f"wp/v2/pages/{int(page_id)}/revisions", params={"context": "edit", "per_page": 100})
        resp.raise_for_status()
        result: list[dict[str, Any]] = resp.json()
        return result

    def upload_files(self) -> list[Path]:
        """Files present in the uploads folder (WordPress adds ``-1`` suffixes on duplicates)."""
        return sorted(p for p in self.uploads_dir.rglob("*") if p.is_file())

    def reset_content(self) -> None:
        """Delete every post, page, attachment, revision and uploaded file (users and settings stay)."""
        self.sql(
            "DELETE FROM wp_posts; DELETE FROM wp_postmeta; DELETE FROM wp_term_relationships; "
            "DELETE FROM wp_comments; DELETE FROM wp_commentmeta;"
        )
        if self.uploads_dir.is_dir():
            shutil.rmtree(self.uploads_dir)
        self.uploads_dir.mkdir()

    def __repr__(self) -> str:
        return f"<WordPressServer {self.url} user={self.user!r}>"

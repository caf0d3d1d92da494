"""The store of published versions (п. 5.4): ``output/published/<YYYY-MM-DD_HHMMSS>/`` + ``LATEST``.

A version folder holds

* ``register.json.gz`` — the canonical published data (:func:`perechen.canonical.canonical_register`), gzip-
  compressed: the rows with status «включено» with every field, the «Сведения» data, the schema version and a
  ``fingerprint``. Versions published before compression hold ``register.json``; both are read;
* the files that were published (page, .xlsx, open data …), as given to :func:`commit_version`;
* ``manifest.json`` — what the publisher passed (time, user, target, URLs …) plus, added here, the sha256
  and size of every file, the data fingerprint, the row count and the version name.

``output/published/LATEST`` holds the name of the current baseline (one line). It is replaced atomically
(temporary file + ``os.replace``) only after the version folder is complete and renamed to its final name,
so a crash at any point leaves LATEST naming the previous complete version. Folders whose name starts with
``.tmp-`` are unfinished commits: :func:`list_versions` ignores them and the next commit removes them.

The canonical form of the data (what a published row is) lives in :mod:`perechen.canonical`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from . import locks
from .canonical import PublishedVersion, canonical_register, fingerprint
from .errors import describe
from .fsutil import RUN_NAME_RE, free_name, fsync_dir, os_reason, write_replace, write_synced
from .models import PerechenError
from .rules import Rules

MANIFEST_FORMAT = "perechen-manifest/1"
PUBLISHED = "published"
LATEST_NAME = "LATEST"
REGISTER_FILE = "register.json"  # versions published before compression; still read
REGISTER_GZ = "register.json.gz"  # what commit_version writes: the same JSON, gzip-compressed (issue 13 §6)
MANIFEST_FILE = "manifest.json"
TMP_PREFIX = ".tmp-"
LOCK_WAIT_SECONDS = 30.0

_VERSION_RE = RUN_NAME_RE  # version folders are named like run folders (fsutil.run_names)


class StoreError(PerechenError):
    """The store of published versions is damaged or cannot be written."""


# ------------------------------------------------------------------------------------------------------------
# Versions


def published_dir(output_dir: Path) -> Path:
    return Path(output_dir) / PUBLISHED


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError("store_broken", f"Опубликованная версия повреждена: нет файла {path}.", path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StoreError("store_broken", f"Опубликованная версия повреждена: {what} {path} не читается "
                                         f"({describe(e)}).",
                         path) from None
    if not isinstance(data, dict):
        raise StoreError("store_broken", f"Опубликованная версия повреждена: {what} {path} — не объект JSON.", path)
    return data


def load_version(path: Path, *, with_register: bool = True) -> PublishedVersion:
    """Read a version folder; check register.json against the manifest's sha256 (or its data fingerprint).

    ``with_register=False`` reads only manifest.json (``register`` is then ``{}``): enough for a history.
    """
    path = Path(path)
    if not path.is_dir():
        raise StoreError("store_broken", f"Папка опубликованной версии {path} не найдена.", path)
    manifest = _read_json(path / MANIFEST_FILE, "файл")
    if not with_register:
        return PublishedVersion(name=path.name, path=path, manifest=manifest, register={})
    reg_path = register_path(path)
    expected = ((manifest.get("files") or {}).get(reg_path.name) or {}).get("sha256")
    try:
        # The file read once as bytes: hashed, inflated, decoded and parsed as a whole (a text-mode gzip stream
        # fed to json.load decodes in small pieces and costs ~1.5× as much; a text reader holds bytes and text
        # at once too).
        raw = reg_path.read_bytes()
        if expected and hashlib.sha256(raw).hexdigest() != expected:
            raise StoreError("store_broken", f"Опубликованная версия повреждена: {reg_path} изменён после "
                                             "публикации (контрольная сумма не совпадает с manifest.json).", reg_path)
        if reg_path.name == REGISTER_GZ:
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
        del raw
        register = json.loads(text)
        del text
    except FileNotFoundError:
        raise StoreError("store_broken", f"Опубликованная версия повреждена: нет файла {reg_path}.", reg_path) from None
    except (UnicodeDecodeError, json.JSONDecodeError, gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise StoreError("store_broken", f"Опубликованная версия повреждена: файл {reg_path} не читается "
                                         f"({describe(e)}).",
                         reg_path) from None
    except OSError as e:
        raise StoreError("store_broken", f"Не удалось прочитать {reg_path}: {os_reason(e)}.", reg_path) from None
    rows = register.get("rows") if isinstance(register, dict) else None
    info = register.get("info") if isinstance(register, dict) else None
    if not isinstance(rows, list) or not isinstance(info, dict):
        raise StoreError("store_broken", f"Опубликованная версия повреждена: в {reg_path} нет строк или сведений.",
                         reg_path)
    # The sha256 in the manifest already proves the file intact; without one, check the data fingerprint.
    if not expected and register.get("fingerprint") and fingerprint(rows, info) != register["fingerprint"]:
        raise StoreError("store_broken", f"Опубликованная версия повреждена: данные {reg_path} не совпадают "
                                         "с их отпечатком.", reg_path)
    return PublishedVersion(name=path.name, path=path, manifest=manifest, register=register)


def register_path(version: Path) -> Path:
    """The version's data: register.json.gz, or register.json in a version published before compression."""
    gz = version / REGISTER_GZ
    return gz if gz.is_file() or not (version / REGISTER_FILE).is_file() else version / REGISTER_FILE


def latest_name(output_dir: Path) -> str | None:
    p = published_dir(output_dir) / LATEST_NAME
    try:
        name = p.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreError("store_broken", f"Не удалось прочитать {p}: {os_reason(e)}.", p) from None
    if not _VERSION_RE.match(name):
        raise StoreError("store_broken", f"Файл {p} повреждён: в нём не имя папки версии, а «{name[:40]}».", p)
    return name


def latest(output_dir: Path) -> PublishedVersion | None:
    """The current baseline named by output/published/LATEST, or None when nothing was published yet."""
    name = latest_name(output_dir)
    if name is None:
        return None
    v = load_version(published_dir(output_dir) / name)
    v.is_latest = True
    return v


def list_versions(output_dir: Path, *, with_register: bool = True,
                  on_error: Callable[[Path, StoreError], None] | None = None) -> list[PublishedVersion]:
    """Complete version folders, oldest first (unfinished ``.tmp-`` folders and other names are ignored).

    A damaged version raises :class:`StoreError`, or, when ``on_error`` is given, is passed to it and skipped.
    ``with_register=False`` reads only the manifests (fast: register.json of a big register is large).
    """
    root = published_dir(output_dir)
    if not root.is_dir():
        return []
    cur = latest_name(output_dir)
    out: list[PublishedVersion] = []
    for p in sorted(root.iterdir(), key=lambda q: _version_sort_key(q.name)):
        if not p.is_dir() or not _VERSION_RE.match(p.name):
            continue
        if not (p / MANIFEST_FILE).is_file() or not register_path(p).is_file():
            continue
        try:
            v = load_version(p, with_register=with_register)
        except StoreError as e:
            if on_error is None:
                raise
            on_error(p, e)
            continue
        v.is_latest = p.name == cur
        out.append(v)
    return out


def _version_sort_key(name: str) -> tuple[str, int]:
    base, suffix = name[:17], name[18:]
    return base, int(suffix) if suffix.isdigit() else 1


# ------------------------------------------------------------------------------------------------------------
# Commit


def _check_file_name(name: str) -> str:
    p = PurePosixPath(name)
    if (not name or p.is_absolute() or ".." in p.parts or "\\" in name or name.startswith(".")
            or str(p) in (MANIFEST_FILE, REGISTER_FILE, REGISTER_GZ)):
        raise StoreError("store_bad_name", f"Недопустимое имя файла для опубликованной версии: «{name}».")
    return str(p)


_write = write_synced  # one name for the files of a version folder (a test makes it fail midway)
_fsync_dir = fsync_dir


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """An exclusive lock on output/published/.lock (released by the OS if the process dies)."""
    with locks.exclusive(root / ".lock", wait=LOCK_WAIT_SECONDS, busy=lambda: StoreError(
            "store_busy", f"Другая публикация сейчас записывает версию в {root}; повторите после её завершения.",
            root)):
        yield


def _clean_temp(root: Path) -> None:
    for p in root.iterdir():
        if p.name.startswith(TMP_PREFIX):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()


def _dumps(obj: Any, *, compact: bool = False) -> bytes:
    if compact:
        return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def commit_version(output_dir: Path, register_json: dict[str, Any], files: dict[str, bytes],
                   manifest: dict[str, Any], *, now: dt.datetime | None = None) -> PublishedVersion:
    """Record a verified publication as a new version and make it the baseline (LATEST).

    Order: write everything into ``output/published/.tmp-…/`` (fsync'd) → rename the folder to
    ``<YYYY-MM-DD_HHMMSS>`` → replace LATEST atomically. ``register_json`` is usually
    :func:`canonical_register`'s result; its fingerprint is recomputed here. ``files`` maps relative names
    (``page.html``, ``opendata/data.csv``) to bytes. ``manifest`` gets ``version``, ``published_at`` and
    ``user`` (when not given), ``fingerprint``, ``row_count``, ``schema_version`` and ``files``
    ({name: {sha256, size}}, register.json included).
    """
    root = published_dir(output_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError("write_failed", f"Не удалось создать папку {root}: {os_reason(e)}.", root) from None
    rows = register_json.get("rows")
    info = register_json.get("info")
    if not isinstance(rows, list) or not isinstance(info, dict):
        raise StoreError("store_bad_data", "Данные для опубликованной версии неполны: нет строк или сведений.")
    reg = dict(register_json)
    reg["fingerprint"] = fingerprint(rows, info)
    reg["row_count"] = len(rows)
    names = {_check_file_name(n): data for n, data in files.items()}
    now = now or dt.datetime.now()
    with _locked(root):
        _clean_temp(root)
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=root))
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o777 & ~_umask())
        try:
            man = dict(manifest)
            man.setdefault("published_at", now.replace(microsecond=0).isoformat())
            man.setdefault("user", _user())
            man["format"] = MANIFEST_FORMAT
            man["fingerprint"] = reg["fingerprint"]
            man["row_count"] = len(rows)
            man["schema_version"] = reg.get("schema_version")
            file_list: dict[str, dict[str, Any]] = {}
            reg_bytes = _dumps(reg, compact=len(rows) > 1000)
            # Compressed: the rows repeat the same long texts, so a register shrinks ~10x (mtime=0: same bytes
            # for the same data).
            reg_bytes = gzip.compress(reg_bytes, compresslevel=6, mtime=0)
            _write(tmp / REGISTER_GZ, reg_bytes)
            file_list[REGISTER_GZ] = {"sha256": hashlib.sha256(reg_bytes).hexdigest(), "size": len(reg_bytes)}
            for name in sorted(names):
                data = names[name]
                _write(tmp / name, data)
                file_list[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            man["files"] = file_list
            final = free_name(root, now)
            if final is None:
                raise StoreError("write_failed", f"Не удалось подобрать имя папки версии в {root}.", root)
            man["version"] = final.name
            _write(tmp / MANIFEST_FILE, _dumps(man))
            _fsync_dir(tmp)
            os.rename(tmp, final)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError("write_failed", f"Не удалось записать опубликованную версию в {root}: "
                                             f"{os_reason(e)}. Базовая версия не изменилась.", root) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(root)
        _replace_latest(root, final.name)
    return PublishedVersion(name=final.name, path=final, manifest=man, register=reg, is_latest=True)


def _replace_latest(root: Path, name: str) -> None:
    try:
        write_replace(root / LATEST_NAME, name + "\n")
    except OSError as e:
        raise StoreError("write_failed", f"Версия {name} записана, но не удалось обновить {root / LATEST_NAME}: "
                                         f"{os_reason(e)}. Базовой осталась прежняя версия.", root) from None
    _fsync_dir(root)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


# ------------------------------------------------------------------------------------------------------------
# Baselines from elsewhere


def version_from_workbook(path: Path, rules: Rules) -> PublishedVersion:
    """A register published before the tool existed (.xlsx in the register's schema), as a baseline."""
    from .reader import read_register

    reg = read_register(path, rules)
    data = canonical_register(reg, rules)
    manifest = {"source": "xlsx", "workbook": str(path), "workbook_sha256": reg.sha256,
                "fingerprint": data["fingerprint"], "row_count": data["row_count"]}
    return PublishedVersion(name=Path(path).name, path=Path(path), manifest=manifest, register=data)


def load_baseline(path: Path, rules: Rules) -> PublishedVersion:
    """``diff --against PATH``: a version folder, its register.json, or an .xlsx register."""
    path = Path(path)
    if path.is_dir():
        return load_version(path)
    if not path.exists():
        raise StoreError("baseline_missing", f"Базовая версия {path} не найдена.", path)
    if path.name in (REGISTER_FILE, REGISTER_GZ):
        return load_version(path.parent)
    if path.suffix.lower() == ".json":
        data = _read_json(path, "файл")
        if not isinstance(data.get("rows"), list) or not isinstance(data.get("info"), dict):
            raise StoreError("store_broken", f"В файле {path} нет строк или сведений перечня.", path)
        return PublishedVersion(name=path.name, path=path, manifest={}, register=data)
    return version_from_workbook(path, rules)

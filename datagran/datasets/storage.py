"""Where the artifact store keeps its bytes: a local folder (plain files, written then renamed)
or any fsspec URL (S3 and S3-compatible servers through s3fs), chosen by
DATAGRAN_ARTIFACTS_URL. Keys are relative paths (``tables/ab/ab12….parquet``); nothing here
knows what the bytes are.

Last use, for the LRU eviction: a local file's modification time (touched on a cache hit); on
a remote store, the later of the object's LastModified and that of an empty marker object
under ``last-used/`` written on each cache hit (objects cannot be touched in place)."""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit, urlunsplit

from datagran.core.exceptions import FieldError
from operators.errors import causes

URL_SETTING = "DATAGRAN_ARTIFACTS_URL"
OPTIONS_SETTING = "DATAGRAN_ARTIFACTS_OPTIONS"
USED_PREFIX = "last-used"
PROBE_KEY = ".datagran-check"

BUCKET_MISSING = ("{setting}: the bucket {bucket!r} of {url} does not exist. Create it, or "
                  "point {setting} at a bucket that exists.")
ACCESS_REFUSED = ("{setting}: {url} refused access ({reason}). Check the credentials "
                  "(for S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a role): they must "
                  "be valid and allowed to read, write, list and delete there.")
NO_CREDENTIALS = ("{setting}: no credentials, or incomplete ones, to reach {url} ({reason}). "
                  "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile or role).")
BAD_OPTIONS = "{setting}: must be a JSON object of fsspec storage options ({reason})."
BAD_URL = "{setting}: cannot open {url} ({reason})."
DENIED_CODES = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                "ExpiredToken", "InvalidToken", "AllAccessDisabled"}


class StorageSettingError(FieldError):
    """The store's settings are wrong (a missing bucket, refused credentials): retrying
    cannot help, and the message names the setting to fix."""

    status = 500

    def __init__(self, message: str, setting: str = URL_SETTING) -> None:
        super().__init__(message, {setting: [message]})


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    used: float  # last use, seconds since the epoch


class Storage(Protocol):
    url: str

    def exists(self, key: str) -> bool: ...

    def write(self, key: str, data: bytes) -> None: ...

    def write_file(self, key: str, path: str) -> None:
        """Store the local file at ``path`` under ``key``, consuming it (moved or uploaded,
        then removed): a table bigger than memory never passes through it."""
        ...

    def local_path(self, key: str, folder: str) -> str:
        """A local path to the object's bytes for an engine to read: the file itself on a
        local store, else a copy kept in ``folder``."""
        ...

    def read(self, key: str) -> bytes: ...

    def source(self, key: str) -> str | BinaryIO: ...

    def open(self, key: str) -> BinaryIO: ...

    def size(self, key: str) -> int: ...

    def touch(self, keys: list[str]) -> None: ...

    def used(self, key: str) -> float | None:
        """The object's last use (as in ``objects``), or None if it is gone."""
        ...

    def delete(self, key: str) -> None: ...

    def objects(self) -> Iterator[StoredObject]: ...

    def check(self) -> None: ...


class LocalStorage:
    """A folder: the embedded default, plain file calls and nothing in between."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def exists(self, key: str) -> bool:
        return (self.root / key).exists()

    def write(self, key: str, data: bytes) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)

    def write_file(self, key: str, path: str) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{target}.{os.getpid()}.part"
        shutil.move(path, tmp)  # a rename on the same filesystem
        os.replace(tmp, target)

    def local_path(self, key: str, folder: str) -> str:
        return str(self.root / key)

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def source(self, key: str) -> str:
        """What pyarrow reads fastest: the file's path."""
        return str(self.root / key)

    def open(self, key: str) -> BinaryIO:
        return open(self.root / key, "rb")

    def size(self, key: str) -> int:
        return (self.root / key).stat().st_size

    def touch(self, keys: list[str]) -> None:
        for key in keys:
            try:
                os.utime(self.root / key)
            except OSError:
                pass  # gone meanwhile: nothing to keep

    def used(self, key: str) -> float | None:
        try:
            return (self.root / key).stat().st_mtime
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def objects(self) -> Iterator[StoredObject]:
        for path in self.root.glob("*/*/*"):
            if path.name.endswith(".part"):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                yield StoredObject(path.relative_to(self.root).as_posix(), stat.st_size,
                                   stat.st_mtime)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageSettingError(BAD_URL.format(setting=URL_SETTING, url=self.url,
                                                     reason=exc.strerror or exc)) from None
        if not os.access(self.root, os.W_OK):
            raise StorageSettingError(BAD_URL.format(setting=URL_SETTING, url=self.url,
                                                     reason="the folder is not writable"))


class FsspecStorage:
    """Any fsspec filesystem. A write is one PUT (or one multipart upload that appears only
    when complete), so a reader never sees half an object either."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        import fsspec

        # Listings are not cached: other processes write and delete in the same store.
        fs, root = fsspec.core.url_to_fs(url, **{"use_listings_cache": False, **options})
        self.fs, self.root, self.url = fs, root.rstrip("/"), redact(url)

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def _marker(self, key: str) -> str:
        return f"{self.root}/{USED_PREFIX}/{key}"

    def exists(self, key: str) -> bool:
        with self._errors():
            return bool(self.fs.exists(self._path(key)))

    def write(self, key: str, data: bytes) -> None:
        with self._errors():
            self.fs.pipe_file(self._path(key), data)

    def write_file(self, key: str, path: str) -> None:
        try:
            with self._errors():
                self.fs.put_file(path, self._path(key))
        finally:
            os.unlink(path)

    def local_path(self, key: str, folder: str) -> str:
        local = os.path.join(folder, key.replace("/", "_"))
        if not os.path.exists(local):  # content-addressed: a copy is never stale
            os.makedirs(folder, exist_ok=True)
            tmp = f"{local}.{os.getpid()}.part"
            with self._errors():
                self.fs.get_file(self._path(key), tmp)
            os.replace(tmp, local)
        return local

    def read(self, key: str) -> bytes:
        with self._errors():
            return bytes(self.fs.cat_file(self._path(key)))

    def source(self, key: str) -> BinaryIO:
        """Parquet readers seek to the footer first: one GET of the whole object is faster
        than ranged reads over the network."""
        return io.BytesIO(self.read(key))

    def open(self, key: str) -> BinaryIO:
        with self._errors():
            return self.fs.open(self._path(key), "rb")

    def size(self, key: str) -> int:
        with self._errors():
            return int(self.fs.size(self._path(key)))

    def touch(self, keys: list[str]) -> None:
        if keys:
            with self._errors():
                self.fs.pipe({self._marker(key): b"" for key in keys})

    def used(self, key: str) -> float | None:
        with self._errors():
            try:
                last = modified(self.fs.info(self._path(key)))
            except FileNotFoundError:
                return None
            try:
                return max(last, modified(self.fs.info(self._marker(key))))
            except FileNotFoundError:
                return last

    def delete(self, key: str) -> None:
        with self._errors():
            for path in (self._path(key), self._marker(key)):
                try:
                    self.fs.rm_file(path)
                except FileNotFoundError:
                    pass

    def objects(self) -> Iterator[StoredObject]:
        with self._errors():
            found = self.fs.find(self.root, detail=True)
        start, used_start = len(self.root) + 1, f"{USED_PREFIX}/"
        markers = {path[start + len(used_start):]: modified(info)
                   for path, info in found.items() if path[start:].startswith(used_start)}
        for path, info in found.items():
            key = path[start:]
            if key.startswith(used_start) or key == PROBE_KEY or info.get("type") != "file":
                continue
            yield StoredObject(key, int(info.get("size") or 0),
                               max(modified(info), markers.get(key, 0.0)))

    def check(self) -> None:
        """Write, read and delete a small object: the bucket exists and the credentials may
        do what the store does."""
        self.write(PROBE_KEY, b"ok")
        self.read(PROBE_KEY)
        self.delete(PROBE_KEY)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            message = self._diagnose(exc)
            if message is None:
                raise
            raise StorageSettingError(message) from exc

    def _diagnose(self, exc: BaseException) -> str | None:
        """The setting to blame, if the fault is a missing bucket or refused credentials;
        None for anything else (a missing key stays a FileNotFoundError)."""
        codes = {code for error in causes(exc) if (code := _error_code(error))}
        if isinstance(exc, FileNotFoundError) and "NoSuchBucket" in codes:
            bucket = self.root.split("/", 1)[0]
            return BUCKET_MISSING.format(setting=URL_SETTING, bucket=bucket, url=self.url)
        if isinstance(exc, PermissionError) or codes & DENIED_CODES:
            reason = next((c for c in codes if c in DENIED_CODES and c != "403"), None)
            return ACCESS_REFUSED.format(setting=URL_SETTING, url=self.url,
                                         reason=reason or str(exc) or type(exc).__name__)
        missing = next((e for e in causes(exc)
                        if type(e).__name__.endswith("CredentialsError")), None)
        if missing is not None:
            return NO_CREDENTIALS.format(setting=URL_SETTING, url=self.url,
                                         reason=type(missing).__name__)
        return None


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "") or None
    return None


def modified(info: dict[str, Any]) -> float:
    """An object's modification time from an fsspec listing, whichever backend wrote it."""
    for field in ("LastModified", "mtime", "last_modified", "updated", "created"):
        value = info.get(field)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


def redact(url: str) -> str:
    """The URL without a password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port
                                                          else "")
    return urlunsplit(parts._replace(netloc=netloc))


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def parse_options(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        options = json.loads(raw)
    except ValueError as exc:
        raise StorageSettingError(BAD_OPTIONS.format(setting=OPTIONS_SETTING, reason=exc),
                                  OPTIONS_SETTING) from None
    if not isinstance(options, dict):
        raise StorageSettingError(BAD_OPTIONS.format(setting=OPTIONS_SETTING,
                                                     reason=f"got {type(options).__name__}"),
                                  OPTIONS_SETTING)
    return options


def open_storage(url: str, raw_options: str = "") -> Storage:
    """The storage a DATAGRAN_ARTIFACTS_URL names: a plain path or file:// URL is the local
    folder; anything else goes through fsspec (s3://bucket/prefix needs s3fs)."""
    if is_local(url):
        return LocalStorage(url.removeprefix("file://"))
    options = parse_options(raw_options)
    try:
        return FsspecStorage(url, options)
    except (ImportError, ValueError, TypeError) as exc:
        raise StorageSettingError(BAD_URL.format(setting=URL_SETTING, url=redact(url),
                                                 reason=exc)) from None

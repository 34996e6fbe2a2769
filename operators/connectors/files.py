"""Files in object storage (S3 and S3-compatible, Google Cloud Storage, Azure), on the web
or in the server's files folder: CSV, Parquet, JSON lines or Excel, one file or a glob of
them, read through dlt's ``filesystem`` source (fsspec), incrementally by modification
time.

Where a file may come from:

* ``s3://``, ``gs://``, ``az://``: a custom S3 endpoint obeys the private-network rules
  (checked before anything is sent, and every host name the storage client connects to is
  resolved by the project's check, the checked address dialled). ``gs://`` needs gcsfs and
  ``az://`` adlfs installed on the server.
* ``https://`` (and ``http://``): the URL is checked the same way, every connection too, and
  redirects are refused (one could lead to an address the check refuses).
* a folder relative to the server's files folder (DATAGRAN_FILES_ROOT; unset: refused):
  every file read is resolved (symlinks, ``..``) and must lie in that folder.
* any other scheme (``file://``, ``ftp://``...) is refused.

A ``.gz`` or ``.zip`` file is decompressed while it is read, up to ``max_unpacked_mb``.
Files are read in chunks (text decoded piece by piece, Parquet by row groups): no size limit
of its own, a file larger than the upload limit loads."""
from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import re
import socket
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, cast
from urllib.parse import urlsplit

import pandas as pd
from aiohttp.abc import AbstractResolver, ResolveResult
from pydantic import Field

from ..base import Context, Operator, OperatorError, Port, Schema
from ..connections import FilesConnection
from ..errors import RetryableError, causes
from ..net import check_url, resolve
from ..textfiles import JSON_LINES, DecodedReader, sniff_delimiter
from . import _dlt
from ._connection import CheckResult, load_connection
from ._rest import SourceParams

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet",
           ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".xlsx": "excel", ".xlsm": "excel"}
FILE_COLUMN, MODIFIED_COLUMN = "_file", "_modified"
MAX_OPTIONS = 200
MAX_FOLDERS = 50  # folders listed to offer files in the picker
SAMPLE_ROWS = 100
TIMEOUT = 30  # seconds to connect or to wait for an answer
FILES_OFF = ("Files in a server folder are turned off on this server; an administrator turns "
             "them on by setting DATAGRAN_FILES_ROOT to the folder that holds them.")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_INSTALL = {"gs": "gcsfs", "az": "adlfs"}


def _path_problem(path: str) -> str | None:
    if "\0" in path or "\\" in path:
        return "must not contain a backslash or a NUL character"
    if _SCHEME.match(path) or "://" in path:
        return "is relative to the connection's URL: no scheme (s3://, file://...)"
    if path.startswith(("/", "~")):
        return "is relative to the connection's URL: not an absolute path"
    if ".." in path.split("/"):
        return "must not contain '..'"
    return None


class FilesParams(SourceParams):
    connection: str = Field(..., min_length=1, description="Where the files are.",
                            json_schema_extra={"x-connection": "files"})
    path: str = Field("*.csv", min_length=1, max_length=500,
                      description="A file name or a glob under the connection's URL, e.g. "
                      "exports/2026-*.csv or **/*.parquet; several files are read into one "
                      "table.",
                      json_schema_extra={"x-options-from": "source", "x-free-text": True})
    format: Literal["auto", "csv", "parquet", "jsonl", "excel"] = Field(
        "auto", description="auto: from each file's extension (.csv .tsv .txt, .parquet, "
        ".jsonl .ndjson, .xlsx; also inside .gz and .zip).",
        json_schema_extra={"x-labels": {"auto": "From the extension", "csv": "CSV",
                                        "parquet": "Parquet", "jsonl": "JSON lines",
                                        "excel": "Excel"}})
    delimiter: Literal["auto", ",", ";", "\t", "|"] = Field(
        "auto", description="CSV only. auto: found from the header line, as uploads do.",
        json_schema_extra={"x-labels": {"auto": "Detect", ",": "Comma", ";": "Semicolon",
                                        "\t": "Tab", "|": "Pipe"}})
    encoding: Literal["auto", "utf-8", "utf-16", "cp1252", "latin-1"] = Field(
        "auto", description="CSV and JSON lines. auto: UTF-8, else Windows-1252, else "
        "latin-1, as uploads do.")
    sheet: str = Field("", max_length=100, description="Excel only: the sheet to read "
                       "(empty: the first).", json_schema_extra={"x-options-from": "source",
                                                                  "x-free-text": True})
    primary_key: list[str] = Field(default_factory=list, max_length=20,
                                   description="Columns that identify a record: the "
                                   "accumulated output keeps one row per key (optional).")
    max_unpacked_mb: int = Field(1024, ge=1, le=102_400,
                                 description="The most a .gz or .zip file may decompress to, "
                                 "in MB: a larger one is refused (a compression bomb).")

    def model_post_init(self, _context: Any) -> None:
        problem = _path_problem(self.path)
        if problem:
            raise ValueError(f"path {problem}")
        for i, column in enumerate(self.primary_key):
            if not column or len(column) > 200:
                raise ValueError(f"primary_key.{i}: a column name of 1 to 200 characters")


# --- where the files are -------------------------------------------------------------------------
class _CheckedResolver(AbstractResolver):
    """An aiohttp resolver that resolves each host once through the project's check
    (operators.net.resolve) and hands back the checked address to connect to."""

    def __init__(self, allowlist: list[str]) -> None:
        self.allowlist = list(allowlist)

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET  # noqa: ARG002
                      ) -> list[ResolveResult]:
        address = await asyncio.get_running_loop().run_in_executor(
            None, lambda: resolve(host, port, allowlist=self.allowlist, field="connection"))
        return [{"hostname": host, "host": address, "port": port,
                 "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


def _resolver(allowlist: list[str]) -> _CheckedResolver:
    return _CheckedResolver(allowlist)


class RedirectRefused(OperatorError):
    pass


def _http_client(allowlist: list[str]) -> Any:
    import aiohttp

    async def refuse(_session: Any, _context: Any, params: Any) -> None:
        # Every answer passes here: a redirect (followed or not) ends the read.
        if 300 <= params.response.status < 400:
            raise RedirectRefused(f"The server answered a redirect (HTTP "
                                  f"{params.response.status}); redirects are not followed: "
                                  "put the final URL in the connection.", field="connection")

    async def get_client(**kwargs: Any) -> Any:
        trace = aiohttp.TraceConfig()
        trace.on_request_redirect.append(refuse)
        trace.on_request_end.append(refuse)
        connector = aiohttp.TCPConnector(resolver=_resolver(allowlist))
        return aiohttp.ClientSession(connector=connector, trace_configs=[trace],
                                     timeout=aiohttp.ClientTimeout(sock_connect=TIMEOUT,
                                                                   sock_read=TIMEOUT),
                                     **kwargs)
    return get_client


@dataclass
class Location:
    """The connection's files: an fsspec filesystem and the URL (or folder) they are under."""

    fs: Any
    url: str
    scheme: str  # s3, gs, az, https, http, or "" for the server's folder
    root: str | None = None  # the files folder, resolved (local only)
    secrets: tuple[str, ...] = ()

    def where(self) -> str:
        if not self.scheme:
            return "the server's files folder"
        parts = urlsplit(self.url)
        return f"{self.scheme}://{parts.hostname or ''}{parts.path}"


def location(ctx: Any, conn: FilesConnection) -> Location:
    """Refuses what the rules refuse before anything is sent."""
    url = conn.url.strip()
    secret = conn.secret.get_secret_value()
    secrets = tuple(s for s in (secret,) if s)
    allowlist = list(getattr(ctx, "url_allowlist", []))
    scheme = urlsplit(url).scheme.lower() if _SCHEME.match(url) else ""
    if scheme == "s3":
        import s3fs  # type: ignore[import-untyped]

        endpoint = conn.endpoint_url.strip()
        if endpoint:
            check_url(endpoint, allowlist=allowlist, field="endpoint_url")
        config: dict[str, Any] = {"connector_args": {"resolver": _resolver(allowlist)},
                                  "retries": {"max_attempts": 3, "mode": "standard"},
                                  "connect_timeout": TIMEOUT, "read_timeout": TIMEOUT}
        fs = s3fs.S3FileSystem(
            key=conn.key or None, secret=secret or None, anon=not (conn.key or secret),
            endpoint_url=endpoint or None, config_kwargs=config,
            client_kwargs={"region_name": conn.region} if conn.region else {},
            skip_instance_cache=True, use_listings_cache=False)
        # botocore retries passing faults (3 attempts); s3fs would repeat each of those 5
        # times more, a refused address included (it arrives as a connection error).
        fs.retries = 1
        return Location(fs, url.rstrip("/"), "s3", secrets=secrets)
    if scheme in ("gs", "gcs", "az", "abfs", "abfss"):
        kind = "gs" if scheme.startswith("g") else "az"
        try:
            if kind == "gs":
                import gcsfs  # type: ignore[import-not-found]

                token: Any = json.loads(secret) if secret else "anon"
                fs = gcsfs.GCSFileSystem(token=token, skip_instance_cache=True)
            else:
                import adlfs  # type: ignore[import-not-found]

                fs = adlfs.AzureBlobFileSystem(account_name=conn.key or None,
                                               account_key=secret or None,
                                               skip_instance_cache=True)
        except ImportError:
            raise OperatorError(f"{scheme}:// files need the {_INSTALL[kind]} package on the "
                                f"server: install {_INSTALL[kind]}.", field="connection") from None
        except ValueError:
            raise OperatorError("The Google Cloud service account JSON is not valid JSON.",
                                field="connection") from None
        return Location(fs, url.rstrip("/"), kind, secrets=secrets)
    if scheme in ("http", "https"):
        from fsspec.implementations.http import HTTPFileSystem

        check_url(url, allowlist=allowlist, field="connection")
        fs = HTTPFileSystem(simple_links=False, get_client=_http_client(allowlist),
                            skip_instance_cache=True)
        return Location(fs, url.rstrip("/"), scheme, secrets=secrets)
    if scheme:
        raise OperatorError(f"{scheme}:// is not a place files are read from: use s3://, "
                            "gs://, az://, https:// or a folder of the server's files folder.",
                            field="connection")
    return _local(ctx, url)


def _local(ctx: Any, folder: str) -> Location:
    import fsspec

    root = getattr(ctx, "files_root", None)
    if not root:
        raise OperatorError(FILES_OFF, field="connection")
    problem = _path_problem(folder) if folder not in ("", ".") else None
    if problem:
        raise OperatorError(f"The connection's folder {problem}.", field="connection")
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, folder))
    if not Path(target).is_relative_to(base):
        raise OperatorError("The connection's folder must lie in the server's files folder "
                            "(DATAGRAN_FILES_ROOT).", field="connection")
    return Location(fsspec.filesystem("file"), target, "", root=base)


def _inside(loc: Location, file_url: str) -> str:
    """The local file a listed entry is, resolved; refused unless in the files folder."""
    assert loc.root is not None
    from dlt.common.storages.configuration import FilesystemConfiguration

    real = os.path.realpath(FilesystemConfiguration.make_local_path(file_url))
    if not Path(real).is_relative_to(loc.root):
        shown = os.path.relpath(FilesystemConfiguration.make_local_path(file_url), loc.url)
        raise OperatorError(f"{shown} leads out of the server's files folder (a symbolic link?): "
                            "refused.", field="path")
    return real


# --- reading one file ----------------------------------------------------------------------------
class _Bounded(io.RawIOBase):
    """A decompressing stream that refuses to give more than ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        super().__init__()
        self.raw, self.limit, self.name, self.count = raw, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise _too_big(self.name, self.limit)
        buffer[:len(data)] = data
        return len(data)


def _too_big(name: str, limit: int) -> OperatorError:
    return OperatorError(f"{name} decompresses to more than {limit // 2**20:,} MB "
                         "(max_unpacked_mb): refused.", field="max_unpacked_mb")


def _format(name: str, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    fmt = FORMATS.get(os.path.splitext(name.lower())[1])
    if fmt is None:
        raise OperatorError(f"{name}: cannot tell its format from the extension; choose the "
                            "format.", field="format")
    return fmt


def _open(stack: ExitStack, loc: Location, item: Any, limit: int) -> tuple[IO[bytes], str]:
    """The file's bytes (decompressed, bounded) and the name that tells its format."""
    name = str(item["relative_path"])
    if loc.root is not None:
        raw: IO[bytes] = stack.enter_context(open(_inside(loc, item["file_url"]), "rb"))
    elif loc.scheme in ("http", "https"):
        # dlt 1.31 spells an http file's URL "http://http://host/..."; it is under the URL.
        raw = stack.enter_context(loc.fs.open(f"{loc.url}/{name}", mode="rb"))
    else:
        raw = stack.enter_context(item.open(mode="rb", compression="disable"))
    lower = name.lower()
    if lower.endswith(".gz"):
        gz = cast(IO[bytes], stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")))
        return io.BufferedReader(_Bounded(gz, limit, name), 1 << 20), name[:-3]
    if lower.endswith(".zip"):
        archive = stack.enter_context(zipfile.ZipFile(raw))
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise OperatorError(f"{name} holds {len(members)} files; a .zip must hold one.",
                                field="path")
        if members[0].file_size > limit:
            raise _too_big(name, limit)
        inner = stack.enter_context(archive.open(members[0]))
        return io.BufferedReader(_Bounded(inner, limit, name), 1 << 20), members[0].filename
    return raw, name


def _seekable(raw: IO[bytes], limit: int, name: str) -> IO[bytes]:
    if raw.seekable():
        return raw
    data = raw.read(limit + 1)
    if len(data) > limit:
        raise _too_big(name, limit)
    return io.BytesIO(data)


def _frames(raw: IO[bytes], fmt: str, name: str, params: Any, limit: int,
            rows: int | None) -> Iterator[pd.DataFrame]:
    chunk = min(_dlt.CHUNK, rows) if rows else _dlt.CHUNK
    if fmt == "csv":
        text = DecodedReader(raw, params.encoding)
        sep = params.delimiter if params.delimiter != "auto" else \
            sniff_delimiter(text.peek_line())
        yield from pd.read_csv(text, sep=sep, chunksize=chunk, nrows=rows)
    elif fmt == "jsonl":
        yield from pd.read_json(DecodedReader(raw, params.encoding), chunksize=chunk,
                                nrows=rows, **JSON_LINES)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(_seekable(raw, limit, name))
        for batch in parquet.iter_batches(batch_size=chunk):
            yield batch.to_pandas()
            if rows is not None:
                return
    else:
        book = _seekable(raw, limit, name)
        with zipfile.ZipFile(book) as archive:
            if sum(m.file_size for m in archive.infolist()) > limit:
                raise _too_big(name, limit)
        book.seek(0)
        try:
            yield pd.read_excel(book, sheet_name=params.sheet or 0, engine="openpyxl",
                                nrows=rows)
        except ValueError as exc:
            if "not found" in str(exc).lower():
                raise OperatorError(f"{name} has no sheet {params.sheet!r}.",
                                    field="sheet") from None
            raise


def read_file(loc: Location, item: Any, params: Any, rows: int | None = None
              ) -> Iterator[pd.DataFrame]:
    """One listed file's records, in chunks, with the file and its modification time."""
    limit = params.max_unpacked_mb * 2**20
    with ExitStack() as stack:
        raw, name = _open(stack, loc, item, limit)
        fmt = _format(name, params.format)
        modified = pd.Timestamp(item["modification_date"]).tz_convert("UTC")
        try:
            for frame in _frames(raw, fmt, str(item["relative_path"]), params, limit, rows):
                frame[FILE_COLUMN] = str(item["relative_path"])
                frame[MODIFIED_COLUMN] = modified
                yield frame
        except (OperatorError, RetryableError):
            raise
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, KeyError,
                zipfile.BadZipFile, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
            said = str(exc).strip().splitlines()[0][:200] if str(exc).strip() \
                else type(exc).__name__
            raise OperatorError(f"{item['relative_path']}: could not read it as "
                                f"{fmt.upper()}: {said}", field="format") from None


# --- listing ------------------------------------------------------------------------------------
def _files(loc: Location, params: Any, since: datetime | None, *, closed: bool) -> Any:
    """dlt's filesystem resource: the files under the URL that match ``path``, modified
    since ``since`` (the last run's latest file) when given, oldest first."""
    import dlt
    from dlt.sources.filesystem import filesystem

    incremental = None
    if since is not None:
        incremental = dlt.sources.incremental(
            "modification_date", initial_value=since, row_order="asc",
            range_start="closed" if closed else "open")
    return filesystem(bucket_url=loc.url, credentials=loc.fs, file_glob=params.path,
                      incremental=incremental,
                      fetch_file_info=loc.scheme in ("http", "https"))


def _listed(loc: Location, params: Any, since: datetime | None, *, closed: bool
            ) -> Iterator[Any]:
    """The listed files one by one (dlt yields them in pages, or one by one when the
    resource is iterated)."""
    for entry in _files(loc, params, since, closed=closed):
        yield from (entry if isinstance(entry, list) else [entry])


def _failure(exc: BaseException, loc: Location, name: str) -> Exception:
    """What a storage error means for people: credentials, a missing bucket, unreachable."""
    for cause in causes(exc):
        if isinstance(cause, (OperatorError, RetryableError)):
            return cause
        kind = type(cause).__name__
        if isinstance(cause, PermissionError) or kind in ("ClientError", "NoCredentialsError") \
                and any(w in str(cause) for w in ("AccessDenied", "InvalidAccessKeyId",
                                                  "SignatureDoesNotMatch", "403")):
            return OperatorError(f"{name}: {loc.where()} refused the credentials: check the "
                                 "key and secret on the Connections screen.",
                                 field="connection")
        if isinstance(cause, FileNotFoundError):
            return OperatorError(f"{name}: {loc.where()} does not exist (check the bucket "
                                 "and folder in the connection's URL).", field="connection")
        if kind in ("ClientConnectorError", "ClientConnectorDNSError", "EndpointConnectionError",
                    "ConnectTimeoutError", "ReadTimeoutError", "ServerDisconnectedError",
                    "ClientOSError", "TimeoutError", "ConnectionRefusedError"):
            return RetryableError(f"{name}: cannot reach {loc.where()} ({kind}); the node will "
                                  "be retried. Check the connection's URL if this persists.")
    from ..actions import http

    text = http.redact(f"{type(exc).__name__}: {exc}", loc.secrets)[:300]
    return OperatorError(f"{name}: {text}")


def _records(ctx: Context, loc: Location, params: Any, name: str, since: datetime | None,
             *, closed: bool, first: bool, rows: int | None = None,
             columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The records of every file listed, in chunks; none new: an empty table with the
    ``columns`` the last run had."""
    read = 0
    try:
        items = list(_listed(loc, params, since, closed=closed))
        items.sort(key=lambda f: (f["modification_date"], f["relative_path"]))
        if not items and first:
            raise OperatorError(f"{name}: no file matches {params.path!r} under "
                                f"{loc.where()}.", field="path")
        for item in items:
            ctx.log(f"{name}: reading {item['relative_path']}.")
            for frame in read_file(loc, item, params,
                                   None if rows is None else rows - read):
                read += len(frame)
                yield frame
                if rows is not None and read >= rows:
                    return
        if not items and columns:
            yield pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message for people
        raise _failure(exc, loc, name) from None


# --- the operator --------------------------------------------------------------------------------
class FilesSource(Operator):
    """Reads CSV, Parquet, JSON lines or Excel files from S3 (or S3-compatible storage),
    Google Cloud Storage, Azure, a web server or the server's files folder: one file or a
    glob of them (``exports/2026-*.csv``, ``**/*.parquet``) into one table, with the columns
    ``_file`` (the file a row came from) and ``_modified`` (its modification time). CSV
    delimiter and encoding are detected as uploads detect them; ``.gz`` and ``.zip`` files
    are decompressed (up to ``max_unpacked_mb``). Incremental: each run reads only the files
    modified since the last run's latest file. Files are read in chunks; there is no size
    limit of its own.

    Example: ``{"connection": "c1", "path": "exports/*.csv", "format": "csv"}``.
    """

    name = "connector.files"
    label = "Files (S3, GCS, Azure, web, folder)"
    category = "connector"
    description = "CSV, Parquet, JSON lines or Excel files from a bucket, a URL or a folder."
    icon = "folder-open"
    keywords = ("files", "s3", "bucket", "gcs", "azure", "csv", "parquet", "excel", "jsonl",
                "import", "storage", "folder")
    outputs = (Port("table", "table"),)
    Params = FilesParams
    reuse_output = False
    example = {"connection": "c1", "path": "exports/*.csv", "format": "csv"}

    def _open(self, ctx: Context, params: Any) -> tuple[Location, str]:
        conn = load_connection(ctx, params.connection, FilesConnection)
        name = getattr(ctx, "connection_names", {}).get(params.connection, "Files")
        return location(ctx, conn), name

    def run(self, ctx: Context, params: Any) -> dict[str, pd.DataFrame]:
        loc, name = self._open(ctx, params)
        key = _dlt.state_key(self.name, params.model_dump(mode="json"))
        keyed = bool(params.primary_key)
        prev = _dlt.previous(ctx, key, keyed=keyed)
        if not params.incremental and params.output != "accumulated":
            prev = None
        since = datetime.fromisoformat(prev.cursor) if params.incremental and prev \
            and prev.cursor else None
        # With a primary key, the last run's latest file is read again and its records
        # dropped unless changed (a file written in the same second is not missed); without
        # one, only files strictly newer are read.
        records = _records(ctx, loc, params, name, since, closed=keyed, first=prev is None,
                           columns=prev.columns if prev else None)
        source = _dlt.Source(name=name, records=records, secrets=list(loc.secrets),
                             primary_key=list(params.primary_key),
                             cursor_column=MODIFIED_COLUMN if params.incremental else None)
        table = _dlt.load(ctx, source, key=key, prev=prev, output=params.output,
                          max_records=params.max_records)
        return {"table": table}

    def sample(self, ctx: Context, params: Any) -> pd.DataFrame:
        loc, name = self._open(ctx, params)
        frames = list(_records(ctx, loc, params, name, None, closed=True, first=True,
                               rows=SAMPLE_ROWS))
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return table.head(SAMPLE_ROWS)

    def options(self, ctx: Context, params: dict[str, Any], field: str) -> list[str]:
        if field not in ("path", "sheet"):
            return super().options(ctx, params, field)
        conn = load_connection(ctx, str(params.get("connection") or ""), FilesConnection)
        loc = location(ctx, conn)
        name = getattr(ctx, "connection_names", {}).get(str(params.get("connection")), "Files")
        try:
            if field == "path":
                return list_files(loc)
            parsed: Any = self.parse_params({**params, "format": "excel"})
            for item in _listed(loc, parsed, None, closed=True):
                with ExitStack() as stack:
                    raw, _ = _open(stack, loc, item, parsed.max_unpacked_mb * 2**20)
                    book = pd.ExcelFile(_seekable(raw, parsed.max_unpacked_mb * 2**20,
                                                  item["relative_path"]), engine="openpyxl")
                    return [str(s) for s in book.sheet_names][:MAX_OPTIONS]
            return []
        except Exception as exc:  # noqa: BLE001
            raise _failure(exc, loc, name) from None

    def infer_schema(self, ctx: Context, params: Any) -> dict[str, Schema | None]:
        return {"table": ctx.known_schema(_dlt.state_key(self.name,
                                                         params.model_dump(mode="json")))}


def list_files(loc: Location, limit: int = MAX_OPTIONS) -> list[str]:
    """Up to ``limit`` file paths under the location, relative to it, nearest first."""
    found: list[str] = []
    folders, visited = [""], 0
    while folders and len(found) < limit and visited < MAX_FOLDERS:
        folder = folders.pop(0)
        visited += 1
        if loc.root is not None:
            base = os.path.join(loc.url, folder)
            with os.scandir(base) as entries:
                listed = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in entries)
            for entry, is_dir in listed:
                rel = f"{folder}{entry}"
                if is_dir:
                    folders.append(rel + "/")
                elif Path(os.path.realpath(os.path.join(base, entry))).is_relative_to(
                        loc.root):
                    found.append(rel)
            continue
        prefix = loc.fs._strip_protocol(loc.url).rstrip("/")
        # A web folder is a page at .../folder/ (without the slash, a redirect or a 404).
        where = f"{loc.url}/{folder}"
        where = where if loc.scheme in ("http", "https") else where.rstrip("/")
        for entry in sorted(loc.fs.ls(where, detail=True),
                            key=lambda e: str(e["name"])):
            rel = str(entry["name"]).rstrip("/")
            rel = rel[len(prefix):].lstrip("/") if rel.startswith(prefix) else \
                rel.rsplit("/", 1)[-1]
            if entry.get("type") == "directory":
                if rel + "/" != folder:
                    folders.append(rel + "/")
            else:
                found.append(rel)
    return found[:limit]


def check(conn: FilesConnection, *, url_allowlist: list[str], files_root: str | None
          ) -> CheckResult:
    """The connection's Test: list the files under its URL."""
    @dataclass
    class _Ctx:
        url_allowlist: list[str]
        files_root: str | None

    try:
        loc = location(_Ctx(url_allowlist, files_root), conn)
    except OperatorError as exc:
        return CheckResult(False, exc.message)
    try:
        files = list_files(loc, 20)
    except Exception as exc:  # noqa: BLE001 - the Test says what failed
        failure = _failure(exc, loc, "The connection")
        return CheckResult(False, str(getattr(failure, "message", failure)))
    shown = ", ".join(files[:3]) + ("..." if len(files) > 3 else "")
    return CheckResult(True, f"Listed {loc.where()}: {len(files)}"
                             f"{'+' if len(files) >= 20 else ''} files"
                             + (f" ({shown})." if files else "."))



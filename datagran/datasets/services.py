from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable
from typing import IO, Any, NamedTuple, cast

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from datagran.core.exceptions import Conflict, FieldError, NotFound, PermanentError
from datagran.workspaces.models import Workspace
from operators.textfiles import JSON_LINES, decode, sniff_delimiter

from .artifacts import artifact_store
from .models import Dataset

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet",
           ".pq": "parquet", ".xlsx": "excel", ".jsonl": "jsonl", ".ndjson": "jsonl"}
ERR_EMPTY = "The file is empty."
ERR_NO_ROWS = "The file has a header but no rows."
ERR_ROWS = "The file has {rows} rows; the limit is {limit:,} rows ({setting})."
ERR_DECODED = ("The file decodes to more than {limit:,} bytes, the limit "
               "(DATAGRAN_UPLOAD_MAX_DECODED_BYTES).")
ERR_COLUMNS = ("The file has {columns:,} columns; the limit is {limit:,} columns "
               "(DATAGRAN_UPLOAD_MAX_COLUMNS).")
ERR_MAP = ("Column {name!r} holds key-value maps ({type}), which Datagran does not read: "
           "store it as a list of structs or as JSON text.")
# A worksheet's own row limit: a file claiming more rows is not one a spreadsheet wrote.
EXCEL_MAX_ROWS = 1_048_576
_BATCH_ROWS = 65_536
ERR_IN_USE = "{what} is used by {pipelines}: remove it from those pipelines first."
ERR_BUSY = "Others are uploading {name!r} right now; try again."
ERR_NOT_FOUND = "Dataset not found."


def _fail(message: str) -> PermanentError:
    return FieldError(message, {"file": [message]})


def _read(source: IO[bytes], fmt: str, max_rows: int) -> pd.DataFrame:
    """Read at most ``max_rows + 1`` rows. A file that would inflate to a huge table (a
    dictionary-encoded or compressed Parquet file, a zipped Excel sheet) is measured first,
    from its metadata and by streaming, and refused without building the table."""
    max_bytes = settings.DATAGRAN["UPLOAD_MAX_DECODED_BYTES"]
    max_columns = settings.DATAGRAN["UPLOAD_MAX_COLUMNS"]
    limit = min(max_rows, EXCEL_MAX_ROWS) if fmt == "excel" else max_rows
    try:
        # Parquet and Excel are read from the uploaded file itself (on disk past 10 MB);
        # text is decoded whole, to find its encoding.
        if fmt == "parquet":
            _check_parquet(source, limit, max_bytes, max_columns)
            df = pd.read_parquet(_rewound(source))
        elif fmt == "excel":
            _check_xlsx(source, limit, max_bytes)
            df = pd.read_excel(_rewound(source), engine="openpyxl", nrows=limit + 1)
        elif fmt == "jsonl":
            text = io.StringIO(decode(_rewound(source).read()))
            df = pd.read_json(text, nrows=limit + 1, **JSON_LINES)
        else:  # the delimiter sniffed from the header line, as the files source does
            text = io.StringIO(decode(_rewound(source).read()))
            sep = sniff_delimiter(header := text.readline())
            _check_columns(len(next(csv.reader([header], delimiter=sep), [])), max_columns)
            text.seek(0)
            df = pd.read_csv(text, sep=sep, engine="python", nrows=limit + 1)
    except pd.errors.EmptyDataError:
        raise _fail(ERR_EMPTY) from None
    # Arrow's and pandas' errors on a file they cannot read (ArrowTypeError is a TypeError;
    # pandas' own schema metadata, crafted, fails with TypeError too).
    except (pd.errors.ParserError, ValueError, TypeError, NotImplementedError, OSError,
            KeyError, zipfile.BadZipFile, pa.ArrowException) as exc:
        raise _fail(f"Could not read the file as {fmt.upper()}: {_first_line(exc)}") from None
    _check_columns(len(df.columns), max_columns)
    if len(df) > limit:
        raise _too_many_rows(f"more than {limit:,}", limit)
    return df


def _first_line(exc: BaseException) -> str:
    """What a reader's error says, in one line (its type when it says nothing)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_columns(columns: int, limit: int) -> None:
    if columns > limit:
        raise _fail(ERR_COLUMNS.format(columns=columns, limit=limit))


def _too_many_rows(rows: int | str, limit: int) -> PermanentError:
    setting = "a worksheet's limit" if limit == EXCEL_MAX_ROWS else "DATAGRAN_UPLOAD_MAX_ROWS"
    rows_text = f"{rows:,}" if isinstance(rows, int) else rows
    return _fail(ERR_ROWS.format(rows=rows_text, limit=limit, setting=setting))


def _rewound(source: IO[bytes]) -> IO[bytes]:
    source.seek(0)
    return source


def _check_parquet(source: IO[bytes], max_rows: int, max_bytes: int, max_columns: int
                   ) -> None:
    """Columns and rows from the metadata (a map column refused by name); bytes from the
    row groups' uncompressed sizes (compression), then from the values themselves, read in
    batches with text kept dictionary-encoded (2M rows of one 1 KB string are 200 KB on
    disk and 2 GB once decoded)."""
    file = pq.ParquetFile(_rewound(source))
    meta = file.metadata
    _check_columns(len(file.schema_arrow), max_columns)
    for f in file.schema_arrow:
        if pa.types.is_map(f.type):
            kind = f"map<{f.type.key_type}, {f.type.item_type}>"
            raise _fail(ERR_MAP.format(name=f.name, type=kind))
    if meta.num_rows > max_rows:
        raise _too_many_rows(meta.num_rows, max_rows)
    stored = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if stored > max_bytes:
        raise _fail(ERR_DECODED.format(limit=max_bytes))
    text = [f.name for f in file.schema_arrow
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
            or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    decoded = 0
    batches = pq.ParquetFile(_rewound(source), read_dictionary=text).iter_batches(
        batch_size=_BATCH_ROWS, use_threads=False)
    for batch in batches:
        decoded += sum(_decoded_bytes(column) for column in batch.columns)
        if decoded > max_bytes:
            raise _fail(ERR_DECODED.format(limit=max_bytes))


def _decoded_bytes(column: pa.Array) -> int:
    if pa.types.is_dictionary(column.type):
        lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
        return (pc.sum(lengths).as_py() or 0) + 8 * len(column)
    return column.nbytes


def _check_xlsx(source: IO[bytes], max_rows: int, max_bytes: int) -> None:
    """Inflated size from the zip's directory (Python's zipfile never inflates a member past
    its declared size), then the worksheets' rows counted while streaming them."""
    with zipfile.ZipFile(_rewound(source)) as archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > max_bytes:
            raise _fail(ERR_DECODED.format(limit=max_bytes))
        rows = 0
        for member in members:
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                rows += _count_rows(archive, member)
                if rows > max_rows + 1:  # + the header row
                    raise _too_many_rows(f"more than {max_rows:,}", max_rows)


def _count_rows(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    rows, tail = 0, b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            buffer = tail + chunk
            tail = buffer[-16:]
            rows += _row_tags(buffer) - _row_tags(tail)  # the tail is counted again next
    return rows + _row_tags(tail)


def _row_tags(xml: bytes) -> int:
    """Rows opened in a piece of sheet XML: <row> and <row ...>, and for a prefixed
    namespace (<x:row ...>...</x:row>) half the tags seen (about 10 times faster than a
    regular expression)."""
    prefixed = xml.count(b":row>") + xml.count(b":row ")
    return xml.count(b"<row>") + xml.count(b"<row ") + (prefixed + 1) // 2


def upload_size_check(*, size: int) -> None:
    """An uploaded file (a dataset, a model) over DATAGRAN_UPLOAD_MAX_BYTES is refused; the
    server refuses a larger request body before reading it (datagran/core/bodylimit.py)."""
    limit = settings.DATAGRAN["UPLOAD_MAX_BYTES"]
    if size > limit:
        raise _fail(f"The file is {size:,} bytes; the upload limit is {limit:,} bytes "
                    "(DATAGRAN_UPLOAD_MAX_BYTES).")


class Uploaded(NamedTuple):
    dataset: Dataset
    unchanged: bool  # the name's latest version already held these bytes: nothing was made


def dataset_upload(*, workspace: Workspace, user: AbstractBaseUser | None, name: str,
                   fileobj: IO[bytes], size: int) -> Dataset:
    return dataset_upload_version(workspace=workspace, user=user, name=name, fileobj=fileobj,
                                  size=size).dataset


def dataset_upload_version(*, workspace: Workspace, user: AbstractBaseUser | None, name: str,
                           fileobj: IO[bytes], size: int) -> Uploaded:
    """The file as the next version of the workspace's dataset called ``name`` (its first
    version if there is none); the latest version itself when it has the same bytes."""
    upload_size_check(size=size)
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise _fail(f"Unsupported file type {suffix or '(none)'!r}; "
                    "upload CSV, Parquet, Excel (.xlsx) or JSON lines.")
    if not _rewound(fileobj).read(1 << 16).strip() and not fileobj.read(1):
        raise _fail(ERR_EMPTY)
    digest = hashlib.file_digest(cast(io.BufferedReader, _rewound(fileobj)), "sha256").hexdigest()
    latest = dataset_latest(workspace_id=workspace.pk, name=name)
    if latest is not None and latest.source_sha256 == digest:
        return Uploaded(latest, unchanged=True)
    max_rows = settings.DATAGRAN["UPLOAD_MAX_ROWS"]
    df = _read(fileobj, fmt, max_rows)
    if df.empty:
        raise _fail(ERR_NO_ROWS)
    # A column without a name gets the one pandas gives it in a CSV file: no SQL engine
    # reads an empty name.
    df.columns = [str(c) or f"Unnamed: {i}" for i, c in enumerate(df.columns)]
    try:
        ref = artifact_store().put_table(df)
    except (TypeError, pa.ArrowException) as exc:  # a value Arrow cannot store
        raise _fail(f"Could not store the table: {_first_line(exc)}") from None
    fields = {"format": fmt, "source_sha256": digest, "table_hash": ref.hash,
              "columns": ref.schema, "row_count": ref.rows, "size_bytes": size,
              "created_by": user}
    return Uploaded(_next_version(workspace=workspace, name=name, fields=fields),
                    unchanged=False)


def _next_version(*, workspace: Workspace, name: str, fields: dict[str, Any]) -> Dataset:
    """A new row numbered after the name's latest; two uploads of one name at once both get
    a number (the unique constraint refuses the second's first try)."""
    for _attempt in range(5):
        latest = dataset_latest(workspace_id=workspace.pk, name=name)
        number = (latest.version + 1) if latest is not None else 1
        try:
            with transaction.atomic():
                return Dataset.objects.create(workspace=workspace, name=name, version=number,
                                              **fields)
        except IntegrityError:
            continue
    raise Conflict(ERR_BUSY.format(name=name), {"file": [ERR_BUSY.format(name=name)]})


def dataset_latest(*, workspace_id: object, name: str) -> Dataset | None:
    return (Dataset.objects.filter(workspace_id=workspace_id, name=name)
            .order_by("-version").first())


def dataset_delete(*, dataset: Dataset, all_versions: bool) -> int:
    """Delete one version, or every version of its name; refused (409, nothing deleted)
    while the current version of a pipeline reads any of them. The stored tables stay
    until the artifact collector finds nothing needs them. Returns the rows deleted."""
    rows = Dataset.objects.filter(workspace_id=dataset.workspace_id, name=dataset.name)
    if not all_versions:
        rows = rows.filter(pk=dataset.pk)
    with transaction.atomic():
        ids = [str(pk) for pk in rows.select_for_update().values_list("pk", flat=True)]
        users = dataset_usage(workspace_id=dataset.workspace_id, dataset_ids=ids)
        pipelines = {p["id"]: p["name"] for used in users.values() for p in used}
        if pipelines:
            what = (f"Dataset {dataset.name!r}" if all_versions
                    else f"Version {dataset.version} of {dataset.name!r}")
            names = ", ".join(repr(n) for n in sorted(pipelines.values()))
            message = ERR_IN_USE.format(what=what, pipelines=names)
            raise Conflict(message, {"dataset": [message]})
        deleted, _ = Dataset.objects.filter(pk__in=ids).delete()
    return deleted


def dataset_usage(*, workspace_id: object,
                  dataset_ids: Iterable[str] | None = None) -> dict[str, list[dict[str, str]]]:
    """dataset id → the pipelines ({"id", "name"}) whose current version has a node whose
    params name it."""
    from datagran.pipelines.selectors import pipelines_naming

    return pipelines_naming(workspace_id=workspace_id, ids=dataset_ids)


def dataset_read(*, workspace_id: object, dataset_id: str) -> pd.DataFrame:
    return artifact_store().read_table(dataset_get(workspace_id=workspace_id,
                                                   dataset_id=dataset_id).table_hash)


def dataset_get(*, workspace_id: object, dataset_id: str) -> Dataset:
    try:
        return Dataset.objects.get(workspace_id=workspace_id, id=dataset_id)
    except (Dataset.DoesNotExist, ValueError, DjangoValidationError):
        raise FieldError(f"Dataset {dataset_id} does not exist in this workspace.",
                         {"dataset": ["not found"]}) from None


def dataset_get_for_user(*, user: AbstractBaseUser, dataset_id: object) -> Dataset:
    """A dataset version in one of the user's workspaces; anything else is not found."""
    try:
        return Dataset.objects.select_related("created_by").get(
            pk=dataset_id, workspace__memberships__user=user)
    except (Dataset.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound(ERR_NOT_FOUND, {"dataset_id": [ERR_NOT_FOUND]}) from None

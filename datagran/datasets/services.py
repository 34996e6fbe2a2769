from __future__ import annotations

import hashlib
import io
from typing import IO

import pandas as pd
import pyarrow.parquet as pq
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError

from datagran.core.exceptions import PermanentError
from datagran.workspaces.models import Workspace

from .artifacts import artifact_store
from .models import Dataset

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet",
           ".pq": "parquet", ".xlsx": "excel", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Tried in order: UTF-8 (with or without a byte-order mark), then the Windows code page that
# spreadsheet exports use; latin-1 decodes anything, so it is the last resort.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
ERR_EMPTY = "The file is empty."
ERR_NO_ROWS = "The file has a header but no rows."


def _fail(message: str) -> PermanentError:
    return PermanentError(message, {"fields": {"file": [message]}})


def _decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def _read(data: bytes, fmt: str, max_rows: int) -> pd.DataFrame:
    """Read at most ``max_rows + 1`` rows, so a file that inflates to a huge table (a
    compressed Parquet or Excel file) is refused without building it in memory."""
    cap = max_rows + 1
    try:
        if fmt == "parquet":
            rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
            if rows > max_rows:
                raise _fail(f"The file has {rows:,} rows; the limit is {max_rows:,} rows.")
            return pd.read_parquet(io.BytesIO(data))
        if fmt == "excel":
            return pd.read_excel(io.BytesIO(data), engine="openpyxl", nrows=cap)
        if fmt == "jsonl":
            return pd.read_json(io.StringIO(_decode(data)), lines=True, nrows=cap)
        # sep=None sniffs the delimiter (comma, semicolon, tab).
        return pd.read_csv(io.StringIO(_decode(data)), sep=None, engine="python", nrows=cap)
    except pd.errors.EmptyDataError:
        raise _fail(ERR_EMPTY) from None
    except (pd.errors.ParserError, ValueError, OSError, KeyError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"Could not read the file as {fmt.upper()}: {first_line}") from None


def dataset_upload(*, workspace: Workspace, user: AbstractBaseUser | None, name: str,
                   fileobj: IO[bytes], size: int) -> Dataset:
    limit = settings.DATAGRAN["UPLOAD_MAX_BYTES"]
    if size > limit:
        raise _fail(f"The file is {size:,} bytes; the upload limit is {limit:,} bytes.")
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise _fail(f"Unsupported file type {suffix or '(none)'!r}; "
                    "upload CSV, Parquet, Excel (.xlsx) or JSON lines.")
    data = fileobj.read()
    if not data.strip():
        raise _fail(ERR_EMPTY)
    digest = hashlib.sha256(data).hexdigest()
    same = Dataset.objects.filter(workspace=workspace, source_sha256=digest).first()
    if same is not None:
        return same  # the same bytes are the same dataset version
    max_rows = settings.DATAGRAN["UPLOAD_MAX_ROWS"]
    df = _read(data, fmt, max_rows)
    if df.empty:
        raise _fail(ERR_NO_ROWS)
    if len(df) > max_rows:
        raise _fail(f"The file has more than {max_rows:,} rows, the limit.")
    df.columns = [str(c) for c in df.columns]
    ref = artifact_store().put_table(df)
    return Dataset.objects.create(
        workspace=workspace, name=name, format=fmt, source_sha256=digest,
        table_hash=ref.hash, columns=ref.schema, row_count=ref.rows, size_bytes=len(data),
        created_by=user)


def dataset_read(*, workspace_id: object, dataset_id: str) -> pd.DataFrame:
    return artifact_store().read_table(dataset_get(workspace_id=workspace_id,
                                                   dataset_id=dataset_id).table_hash)


def dataset_get(*, workspace_id: object, dataset_id: str) -> Dataset:
    try:
        return Dataset.objects.get(workspace_id=workspace_id, id=dataset_id)
    except (Dataset.DoesNotExist, ValueError, DjangoValidationError):
        raise PermanentError(f"Dataset {dataset_id} does not exist in this workspace.",
                             {"field": "dataset"}) from None

"""The Context an operator runs in during a run: datasets and connections of the run's
workspace, logs kept for the NodeRun, files in the artifact store, the action send log, the
state of incremental sources (what the last succeeded run of the node loaded)."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from pydantic import BaseModel

from datagran.connections.services import connection_for_operator
from datagran.connections.sql_settings import files_root, sqlite_root
from datagran.datasets.artifacts import artifact_store
from datagran.datasets.services import dataset_read
from datagran.pipelines.validation import ValidationContext
from operators.base import Interrupts, OperatorError

from .heartbeat import NodeInterrupted, attempt_is_current, retry_on_disconnect
from .models import NodeRun, RunStatus, SendLog

MAX_LOG_LINES = 500


class RunContext(ValidationContext):
    def __init__(self, *, workspace_id: object, pipeline_id: object = None,
                 run_id: object = None, node_id: str = "", approved: bool = False,
                 node_pk: int | None = None, attempt: int = 0,
                 full_refresh: bool = False) -> None:
        super().__init__(workspace_id=workspace_id)
        self.pipeline_id, self.run_id, self.node_id = pipeline_id, run_id, node_id
        # The attempt this context belongs to: its send log writes are fenced by it.
        self.node_pk, self.attempt = node_pk, attempt
        self.approved = approved
        self.url_allowlist: list[str] = list(settings.DATAGRAN["URL_ALLOWLIST"])
        self.sqlite_root = sqlite_root()
        self.files_root = files_root()
        self.logs: list[str] = []
        self.files: list[dict[str, Any]] = []
        self.interrupts = Interrupts()
        # The names of the connections loaded, for messages (ids mean nothing to a person).
        self.connection_names: dict[str, str] = {}
        # What a source node loaded (record_source); saved with the node's success only.
        self.full_refresh = full_refresh
        self.source_report: dict[str, Any] | None = None

    def on_interrupt(self, callback: Callable[[], None]) -> Any:
        return self.interrupts.on_interrupt(callback)

    def log(self, message: str) -> None:
        if len(self.logs) < MAX_LOG_LINES:
            self.logs.append(str(message))

    def progress(self, fraction: float) -> None:
        pass

    def read_dataset(self, dataset_id: str) -> pd.DataFrame:
        return dataset_read(workspace_id=self.workspace_id, dataset_id=dataset_id)

    def read_dataset_table(self, dataset_id: str) -> Any:
        """The dataset without reading it whole: on a local store its own file as a Table
        (stored again by link, never rewritten), else its rows a batch at a time."""
        from datagran.datasets.profile import stored_table
        from datagran.datasets.services import dataset_get
        from datagran.datasets.storage import LocalStorage
        from operators.tables import ParquetTable

        digest = dataset_get(workspace_id=self.workspace_id, dataset_id=dataset_id).table_hash
        store = artifact_store()
        if isinstance(store.storage, LocalStorage):
            return ParquetTable(store.table_path(digest, ""), digest=digest)

        def batches() -> Iterator[pd.DataFrame]:
            with stored_table(digest) as table:
                yield from table.batches()

        return batches()

    def save_file(self, filename: str, data: bytes, content_type: str) -> None:
        self._keep_file(filename, artifact_store().put_file(data), content_type, len(data))

    def save_file_from(self, filename: str, path: str, content_type: str,
                       digest: str | None = None) -> None:
        size = os.path.getsize(path)
        self._keep_file(filename, artifact_store().put_file_path(path, digest), content_type,
                        size)

    def _keep_file(self, filename: str, digest: str, content_type: str, size: int) -> None:
        self.files = [f for f in self.files if f["name"] != filename]
        self.files.append({"name": filename, "hash": digest, "content_type": content_type,
                           "size": size})

    def deployment_scorer(self, pipeline: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
        from datagran.core.exceptions import PermanentError
        from datagran.serving.services import batch_scorer

        served = self.served_pipeline(pipeline)
        try:
            scorer = batch_scorer(pipeline=served)
        except PermanentError as exc:  # not served yet: the deploy page's own message
            raise OperatorError(f"{pipeline}: {exc.message}", field="pipeline") from None
        self.log(f"Scoring with the deployment of {pipeline}: {scorer.served or 'no model'}.")
        return scorer

    def connection(self, connection_id: str, kind: str | list[str]) -> BaseModel:
        name, config = connection_for_operator(workspace_id=self.workspace_id,
                                               connection_id=connection_id, kind=kind)
        self.connection_names[connection_id] = name
        return config

    # --- incremental sources -------------------------------------------------------------------
    def previous_source_state(self, state_key: str) -> dict[str, Any] | None:
        """The state this node left in the latest succeeded run of the pipeline under
        ``state_key``: a failed or cancelled run never advances a cursor."""
        if self.full_refresh or not state_key:
            return None
        state = (NodeRun.objects.filter(state_key=state_key, node_id=self.node_id,
                                        run__pipeline_id=self.pipeline_id,
                                        run__status=RunStatus.SUCCEEDED)
                 .exclude(run_id=self.run_id).order_by("-run__created_at")
                 .values_list("source", flat=True).first())
        return (state or {}).get("state") or None

    def record_source(self, report: dict[str, Any]) -> None:
        self.source_report = dict(report)

    def put_table(self, df: pd.DataFrame) -> str:
        return artifact_store().put_table(df).hash

    def get_table(self, digest: str) -> pd.DataFrame | None:
        store = artifact_store()
        try:
            if not store.exists({"kind": "table", "hash": digest}):
                return None
            return store.read_table(digest)
        except (ValueError, FileNotFoundError):  # not a hash, or deleted meanwhile
            return None

    def _log_rows(self, keys: list[str]) -> Any:
        return SendLog.objects.filter(pipeline_id=self.pipeline_id, node_id=self.node_id,
                                      record_key__in=keys)

    def _read_log(self, records: dict[str, str], column: str) -> dict[str, str]:
        """{key: column's value} for the rows whose ``column`` hash is the record's."""
        found: dict[str, str] = {}
        keys = list(records)
        for start in range(0, len(keys), 500):  # bounded IN lists
            for key, digest, flight_key in self._log_rows(keys[start:start + 500]).values_list(
                    "record_key", column, "in_flight_key"):
                if digest and records.get(key) == digest:
                    found[key] = flight_key
        return found

    def sent_before(self, records: dict[str, str]) -> set[str]:
        return set(self._read_log(records, "content_hash"))

    def in_flight(self, records: dict[str, str]) -> dict[str, str]:
        return self._read_log(records, "in_flight_hash")

    def _fenced(self, write: Callable[[], None]) -> None:
        """Write to the send log only while this attempt is the node's current running one
        (the node row stays locked until the write commits); a superseded or cancelled
        attempt ends here. A dropped database connection is retried on a fresh one."""
        def attempt() -> None:
            with transaction.atomic():
                if self.node_pk is not None and not attempt_is_current(
                        self.node_pk, self.attempt, lock=True):
                    raise NodeInterrupted(f"attempt {self.attempt} of node {self.node_id} is "
                                          "no longer the current one")
                write()
        retry_on_disconnect(attempt)

    def _upsert(self, rows: list[SendLog], fields: list[str]) -> None:
        self._fenced(lambda: SendLog.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["pipeline", "node_id", "record_key"],
            update_fields=fields))

    def _row(self, key: str, **values: str) -> SendLog:
        return SendLog(pipeline_id=self.pipeline_id, node_id=self.node_id, record_key=key,
                       run_id=self.run_id, **values)

    def mark_in_flight(self, records: dict[str, str], batch_key: str) -> None:
        self._upsert([self._row(key, in_flight_hash=digest, in_flight_key=batch_key)
                      for key, digest in records.items()],
                     ["in_flight_hash", "in_flight_key", "run"])

    def mark_sent(self, records: dict[str, str]) -> None:
        self._upsert([self._row(key, content_hash=digest, in_flight_hash="", in_flight_key="")
                      for key, digest in records.items()],
                     ["content_hash", "in_flight_hash", "in_flight_key", "run", "sent_at"])

    def clear_in_flight(self, keys: list[str]) -> None:
        self._fenced(lambda: self._log_rows(keys).update(in_flight_hash="", in_flight_key=""))

    @contextmanager
    def sending_alone(self) -> Iterator[None]:
        """One attempt at a time runs this block for this action node of this pipeline, in
        any run and any process: concurrent runs of a pipeline would otherwise both find a
        record unsent and both send it. Waits (stopping when the node is interrupted)."""
        key = hashlib.sha256(f"{self.pipeline_id}:{self.node_id}".encode()).digest()
        if connection.vendor == "postgresql":
            high, low = struct.unpack(">ii", key[:8])
            self._wait_for(lambda: _pg_try_lock(high, low))
            try:
                yield
            finally:
                with contextlib.suppress(Exception):  # a lost connection released it already
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [high, low])
            return
        # SQLite (one machine): a lock file in the data folder, flock'd per open file, so
        # threads of one process exclude each other as processes do.
        folder = Path(settings.DATA_DIR) / "send-locks"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / key.hex()[:32], "a+b") as handle:
            self._wait_for(lambda: _flock(handle))
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _wait_for(self, take: Callable[[], bool]) -> None:
        pause = 0.02
        while not retry_on_disconnect(take):
            if self.interrupts.fired:
                raise NodeInterrupted(f"node {self.node_id} stopped while waiting to send")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def send_email(self, *, to: list[str], subject: str, body: str,
                   attachments: list[tuple[str, bytes, str]]) -> None:
        send_email(to=to, subject=subject, body=body, attachments=attachments)


def send_email(*, to: list[str], subject: str, body: str,
               attachments: list[tuple[str, bytes, str]]) -> None:
    """The e-mail action's delivery: Django's mail backend (EMAIL_* settings)."""
    message = EmailMessage(subject=subject, body=body, to=to)
    for name, data, content_type in attachments:
        message.attach(name, data, content_type)
    message.send(fail_silently=False)


def _pg_try_lock(high: int, low: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [high, low])
        return bool(cursor.fetchone()[0])


def _flock(handle: Any) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True

"""The Context an operator runs in during a run: datasets and connections of the run's
workspace, logs kept for the NodeRun, files in the artifact store, the action send log."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.mail import EmailMessage
from pydantic import BaseModel

from datagran.connections.services import connection_config, connection_get
from datagran.core.exceptions import NotFound
from datagran.datasets.artifacts import artifact_store
from datagran.datasets.services import dataset_read
from datagran.pipelines.validation import ValidationContext
from operators.base import Interrupts, OperatorError

from .models import SendLog

MAX_LOG_LINES = 500


class RunContext(ValidationContext):
    def __init__(self, *, workspace_id: object, pipeline_id: object = None,
                 run_id: object = None, node_id: str = "", approved: bool = False) -> None:
        super().__init__(workspace_id=workspace_id)
        self.pipeline_id, self.run_id, self.node_id = pipeline_id, run_id, node_id
        self.approved = approved
        self.url_allowlist: list[str] = list(settings.DATAGRAN["URL_ALLOWLIST"])
        self.logs: list[str] = []
        self.files: list[dict[str, Any]] = []
        self.interrupts = Interrupts()

    def on_interrupt(self, callback: Callable[[], None]) -> Any:
        return self.interrupts.on_interrupt(callback)

    def log(self, message: str) -> None:
        if len(self.logs) < MAX_LOG_LINES:
            self.logs.append(str(message))

    def progress(self, fraction: float) -> None:
        pass

    def read_dataset(self, dataset_id: str) -> pd.DataFrame:
        return dataset_read(workspace_id=self.workspace_id, dataset_id=dataset_id)

    def save_file(self, filename: str, data: bytes, content_type: str) -> None:
        digest = artifact_store().put_file(data)
        self.files = [f for f in self.files if f["name"] != filename]
        self.files.append({"name": filename, "hash": digest, "content_type": content_type,
                           "size": len(data)})

    def connection(self, connection_id: str, kind: str | list[str]) -> BaseModel:
        try:
            connection = connection_get(workspace_id=self.workspace_id,
                                        connection_id=connection_id)
        except NotFound:
            raise OperatorError(f"Connection {connection_id!r} does not exist in this "
                                "workspace.", field="connection") from None
        kinds = [kind] if isinstance(kind, str) else kind
        if connection.kind not in kinds:
            raise OperatorError(f"Connection '{connection.name}' is a {connection.kind} "
                                f"connection; this needs {' or '.join(kinds)}.",
                                field="connection")
        return connection_config(connection=connection)

    def _log_rows(self, keys: list[str]) -> Any:
        return SendLog.objects.filter(pipeline_id=self.pipeline_id, node_id=self.node_id,
                                      record_key__in=keys)

    def sent_before(self, records: dict[str, str]) -> set[str]:
        sent: set[str] = set()
        keys = list(records)
        for start in range(0, len(keys), 500):  # bounded IN lists
            for key, digest in self._log_rows(keys[start:start + 500]).values_list(
                    "record_key", "content_hash"):
                if records.get(key) == digest:
                    sent.add(key)
        return sent

    def mark_sent(self, records: dict[str, str]) -> None:
        SendLog.objects.bulk_create(
            [SendLog(pipeline_id=self.pipeline_id, node_id=self.node_id, record_key=key,
                     content_hash=digest, run_id=self.run_id) for key, digest in records.items()],
            update_conflicts=True, unique_fields=["pipeline", "node_id", "record_key"],
            update_fields=["content_hash", "run", "sent_at"])

    def send_email(self, *, to: list[str], subject: str, body: str,
                   attachments: list[tuple[str, bytes, str]]) -> None:
        message = EmailMessage(subject=subject, body=body, to=to)
        for name, data, content_type in attachments:
            message.attach(name, data, content_type)
        message.send(fail_silently=False)

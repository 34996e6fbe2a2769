"""The Context an operator runs in during a run: datasets of the run's workspace, logs kept
for the NodeRun, files stored in the artifact store."""
from __future__ import annotations

from typing import Any

import pandas as pd

from datagran.datasets.artifacts import artifact_store
from datagran.datasets.services import dataset_get, dataset_read
from datagran.pipelines.validation import ValidationContext
from operators.base import Schema

MAX_LOG_LINES = 500


class RunContext:
    seed = 0

    def __init__(self, *, workspace_id: object) -> None:
        self.workspace_id = workspace_id
        self.logs: list[str] = []
        self.files: list[dict[str, Any]] = []

    def log(self, message: str) -> None:
        if len(self.logs) < MAX_LOG_LINES:
            self.logs.append(str(message))

    def progress(self, fraction: float) -> None:
        pass

    def read_dataset(self, dataset_id: str) -> pd.DataFrame:
        return dataset_read(workspace_id=self.workspace_id, dataset_id=dataset_id)

    def dataset_schema(self, dataset_id: str) -> Schema | None:
        return dataset_get(workspace_id=self.workspace_id, dataset_id=dataset_id).columns

    def save_file(self, filename: str, data: bytes, content_type: str) -> None:
        digest = artifact_store().put_file(data)
        self.files = [f for f in self.files if f["name"] != filename]
        self.files.append({"name": filename, "hash": digest, "content_type": content_type,
                           "size": len(data)})


__all__ = ["RunContext", "ValidationContext"]

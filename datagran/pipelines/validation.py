"""The context graph validation runs in: it can look up uploaded datasets' schemas."""
from __future__ import annotations

import pandas as pd
from django.core.exceptions import ValidationError as DjangoValidationError

from datagran.datasets.models import Dataset
from datagran.workspaces.models import Workspace
from operators.base import OperatorError, Schema


class ValidationContext:
    seed = 0

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def dataset_schema(self, dataset_id: str) -> Schema | None:
        try:
            columns = Dataset.objects.filter(workspace=self.workspace, id=dataset_id).values_list(
                "columns", flat=True).first()
        except (ValueError, DjangoValidationError):  # a malformed id is simply not a dataset
            columns = None
        if columns is None:
            raise OperatorError(f"Dataset {dataset_id!r} does not exist in this workspace.",
                                field="dataset")
        return columns

    def dataset_fingerprint(self, dataset_id: str) -> str:
        table_hash = Dataset.objects.filter(workspace=self.workspace, id=dataset_id).values_list(
            "table_hash", flat=True).first()
        if table_hash is None:
            raise OperatorError(f"Dataset {dataset_id!r} does not exist in this workspace.",
                                field="dataset")
        return table_hash

    def read_dataset(self, dataset_id: str) -> pd.DataFrame:
        raise OperatorError("Datasets are not read while validating.")

    def log(self, message: str) -> None:
        pass

    def progress(self, fraction: float) -> None:
        pass

    def save_file(self, filename: str, data: bytes, content_type: str) -> None:
        pass

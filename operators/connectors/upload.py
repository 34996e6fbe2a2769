"""A table the user uploaded through the API (CSV, Parquet, ...)."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base import Context, Operator, Params, Port, Schema


def read_dataset(ctx: Context, dataset: str) -> Any:
    """An uploaded dataset as a node outputs it: a run passes the stored table on, never
    whole in memory; other contexts (serving, tests) read it as a DataFrame."""
    lazily = getattr(ctx, "read_dataset_table", None)
    return lazily(dataset) if lazily is not None else ctx.read_dataset(dataset)


class UploadParams(Params):
    dataset: str = Field(
        ...,
        min_length=1,
        description="The uploaded dataset to read.",
        json_schema_extra={"x-dataset": True},
    )


class Upload(Operator):
    """Reads a dataset previously uploaded through the API.

    Example: ``{"dataset": "3f2a9c"}`` outputs that dataset's rows on ``table``.
    """

    name = "connector.upload"
    label = "Uploaded file"
    description = "A table from a file you uploaded."
    category = "connector"
    icon = "upload"
    keywords = ("upload", "file", "csv", "parquet", "excel", "import", "dataset")
    outputs = (Port("table", "table"),)
    Params = UploadParams
    example = {"dataset": "3f2a9c"}

    def run(self, ctx: Context, params: UploadParams) -> dict[str, Any]:
        return {"table": read_dataset(ctx, params.dataset)}

    def fingerprint(self, ctx: Context, params: UploadParams) -> str:
        return ctx.dataset_fingerprint(params.dataset)

    def infer_schema(self, ctx: Context, params: UploadParams) -> dict[str, Schema | None]:
        return {"table": ctx.dataset_schema(params.dataset)}

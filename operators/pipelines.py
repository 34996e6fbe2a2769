"""A pipeline used as a node of another: the markers that declare its inputs and outputs, and
the node that calls it.

A run never executes ``pipeline.call``: the graph is expanded first (datagran/engine/calls.py),
the called pipeline's nodes taking the calling node's place, its input markers replaced by
what feeds the calling node and its output markers by what feeds them. The markers run only
when their own pipeline runs on its own."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import Context, Operator, OperatorError, Params, Port, Schema
from .connectors.upload import read_dataset

# What a marker's name and an exposed param's name look like: they become port names.
PORT_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,39}$"
NAME_DESCRIPTION = ("The port's name on the calling node: a letter or _, then letters, "
                    "digits or _ (at most 40).")
ERR_NO_SAMPLE = ("Input '{name}' gets its rows from the pipeline that calls this one. To run "
                 "this pipeline on its own, choose a sample dataset for it.")
ERR_MODEL_INPUT = ("Input '{name}' gets its model from the pipeline that calls this one; this "
                   "pipeline runs only when it is called.")
ERR_CALL_NOT_EXPANDED = "A pipeline call runs only as part of its caller's run."


class ExpectedColumn(Params):
    name: str = Field(..., min_length=1, max_length=200)
    type: Literal["int", "float", "bool", "str", "datetime"] = "str"


class TableInputParams(Params):
    name: str = Field(..., pattern=PORT_NAME, description=NAME_DESCRIPTION)
    dataset: str = Field("", description="Rows to use when this pipeline runs on its own "
                         "(a caller's rows replace them).",
                         json_schema_extra={"x-dataset": True})
    columns: list[ExpectedColumn] = Field(
        default_factory=list, max_length=1000,
        description="The columns callers are expected to send, for the nodes after this one "
        "to offer while no sample dataset is chosen (Make sub-pipeline fills them in).")


class NameParams(Params):
    name: str = Field(..., pattern=PORT_NAME, description=NAME_DESCRIPTION)


class TableInput(Operator):
    """Declares a table input of this pipeline: a pipeline that calls it connects a table to
    the calling node's port of this name, and the rows flow out of this marker.

    Example: ``{"name": "orders"}``; with ``"dataset"`` set, the pipeline also runs on its
    own, reading that dataset here.
    """

    name = "pipeline.input"
    label = "Pipeline input"
    description = "A table this pipeline receives when another pipeline calls it."
    category = "pipeline"
    icon = "log-in"
    keywords = ("input", "parameter", "sub-pipeline", "component", "call", "reuse")
    outputs = (Port("table", "table"),)
    Params = TableInputParams
    example = {"name": "orders"}

    def run(self, ctx: Context, params: TableInputParams) -> dict[str, Any]:
        if not params.dataset:
            raise OperatorError(ERR_NO_SAMPLE.format(name=params.name), field="dataset")
        return {"table": read_dataset(ctx, params.dataset)}

    def fingerprint(self, ctx: Context, params: TableInputParams) -> str:
        return ctx.dataset_fingerprint(params.dataset) if params.dataset else ""

    def infer_schema(self, ctx: Context, params: TableInputParams) -> dict[str, Schema | None]:
        if params.dataset:
            return {"table": ctx.dataset_schema(params.dataset)}
        return {"table": [c.model_dump() for c in params.columns] or None}


class ModelInput(Operator):
    """Declares a model input of this pipeline: the calling node's model port of this name.

    Example: ``{"name": "churn_model"}``.
    """

    name = "pipeline.input_model"
    label = "Pipeline model input"
    description = "A model this pipeline receives when another pipeline calls it."
    category = "pipeline"
    icon = "log-in"
    keywords = ("input", "model", "sub-pipeline", "component", "call", "reuse")
    outputs = (Port("model", "model"),)
    Params = NameParams
    example = {"name": "churn_model"}

    def run(self, ctx: Context, params: NameParams) -> dict[str, Any]:
        raise OperatorError(ERR_MODEL_INPUT.format(name=params.name))

    def infer_schema(self, ctx: Context, params: NameParams) -> dict[str, Schema | None]:
        return {"model": None}  # the caller's model: known once called


class TableOutput(Operator):
    """Declares a table output of this pipeline: the calling node's output port of this name
    gives the rows that reach this marker.

    Example: ``{"name": "scored"}``.
    """

    name = "pipeline.output"
    label = "Pipeline output"
    description = "A table this pipeline gives back to a pipeline that calls it."
    category = "pipeline"
    icon = "log-out"
    keywords = ("output", "result", "sub-pipeline", "component", "call", "reuse")
    inputs = (Port("table", "table"),)
    Params = NameParams
    example = {"name": "scored"}

    def run(self, ctx: Context, params: NameParams, table: Any) -> dict[str, Any]:
        return {}


class ModelOutput(Operator):
    """Declares a model output of this pipeline: the calling node's model port of this name.

    Example: ``{"name": "churn_model"}``.
    """

    name = "pipeline.output_model"
    label = "Pipeline model output"
    description = "A model this pipeline gives back to a pipeline that calls it."
    category = "pipeline"
    icon = "log-out"
    keywords = ("output", "model", "sub-pipeline", "component", "call", "reuse")
    inputs = (Port("model", "model"),)
    Params = NameParams
    example = {"name": "churn_model"}

    def run(self, ctx: Context, params: NameParams, model: Any) -> dict[str, Any]:
        return {}


LATEST = "latest"


class CallParams(Params):
    pipeline: str = Field(..., min_length=1, max_length=64,
                          description="The id of the pipeline to call (same workspace).")
    version: str = Field(..., min_length=1, max_length=64, pattern=r"^(latest|[0-9a-f]{64})$",
                         description="The hash of the version to call, or \"latest\": the "
                         "called pipeline's current version whenever this one runs.")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="Values of the called pipeline's exposed params "
                                   "(an absent one keeps its default).")


class Call(Operator):
    """Runs another pipeline of the workspace as one node: its inputs and outputs are the
    called pipeline's input and output markers, its params the called pipeline's exposed
    params. The version is pinned (a hash) unless ``"latest"`` is chosen.

    Example: ``{"pipeline": "<id>", "version": "<hash>", "params": {"threshold": 0.7}}``.
    """

    name = "pipeline.call"
    label = "Pipeline"
    description = "Another pipeline of this workspace, run as one node."
    category = "pipeline"
    icon = "workflow"
    keywords = ("sub-pipeline", "component", "call", "reuse", "nested", "workflow")
    Params = CallParams
    example = {"pipeline": "9b0c2f7e-9b51-4c2a-8f5e-4f2c1e0a7d10", "version": LATEST}

    def run(self, ctx: Context, params: CallParams) -> dict[str, Any]:
        raise OperatorError(ERR_CALL_NOT_EXPANDED)


INPUT_MARKERS = {TableInput.name: "table", ModelInput.name: "model"}
OUTPUT_MARKERS = {TableOutput.name: "table", ModelOutput.name: "model"}
CALL = Call.name

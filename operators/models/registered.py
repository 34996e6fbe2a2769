"""A model from the registry, by name and alias (or version number), as a node's output."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base import Context, Operator, Params, Port, Schema, TrainedModel


class RegisteredModelParams(Params):
    model: str = Field(..., min_length=1, description="Name of the registered model.",
                       json_schema_extra={"x-registered-model": True})
    alias: str = Field("production", description="Use the version behind this alias.")
    version: int | None = Field(None, ge=1, description="A version number instead of the "
                                "alias; empty to follow the alias.")
    fallback_to_latest: bool = Field(True, description="Use the newest version when no "
                                     "version has the alias yet.")


class RegisteredModelSource(Operator):
    """Feeds a registered model into a predict node.

    Example: ``{"model": "Churn", "alias": "production"}`` outputs the production version of
    the "Churn" model on ``model``.
    """

    name = "model.registered"
    label = "Registered model"
    description = "A model from the registry, by name and alias or version."
    category = "model"
    icon = "library"
    keywords = ("registry", "model", "production", "alias", "version", "import")
    outputs = (Port("model", "model"),)
    Params = RegisteredModelParams
    example = {"model": "Churn", "alias": "production"}

    def run(self, ctx: Context, params: RegisteredModelParams) -> dict[str, TrainedModel]:
        model = ctx.registered_model(params.model, alias=params.alias, version=params.version,
                                     fallback_to_latest=params.fallback_to_latest)
        ctx.log(f"Using {params.model} {model.algorithm}.")
        return {"model": model}

    def fingerprint(self, ctx: Context, params: Any) -> str:
        # The alias may move: the key follows the version it points at now.
        return ctx.registered_model_hash(params.model, alias=params.alias,
                                         version=params.version,
                                         fallback_to_latest=params.fallback_to_latest)

    def infer_schema(self, ctx: Context, params: RegisteredModelParams
                     ) -> dict[str, Schema | None]:
        return {"model": ctx.registered_model_schema(params.model)}

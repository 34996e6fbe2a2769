"""Datagran's operator library. Importable without Django."""
from .base import (  # noqa: F401
    Context,
    LocalContext,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    TrainedModel,
    column_field,
    schema_of,
)
from .registry import all_operators, get_operator, register  # noqa: F401

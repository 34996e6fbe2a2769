"""Datagran's operator library. Importable without Django.

``base`` is the SDK an operator is written against; ``schema`` its table and params helpers;
``context`` what it may use while running; ``testing`` runs it without Datagran."""
from .base import (  # noqa: F401
    Context,
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
from .testing import LocalContext  # noqa: F401

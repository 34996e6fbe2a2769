"""Datagran's operator library. Importable without Django.

``base`` is the SDK an operator is written against; ``schema`` its table and params helpers;
``context`` what it may use while running; ``testing`` runs it without Datagran."""
from .base import Operator, OperatorError, Params, Port, TrainedModel
from .context import Context
from .registry import all_operators, get_operator, register
from .schema import Schema, column_field, schema_of
from .testing import LocalContext

__all__ = ["Context", "LocalContext", "Operator", "OperatorError", "Params", "Port", "Schema",
           "TrainedModel", "all_operators", "column_field", "get_operator", "register",
           "schema_of"]

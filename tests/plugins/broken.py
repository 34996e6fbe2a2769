"""A plugin module whose operators are broken on purpose: one's ``run`` takes an argument
named after no input port, the other takes a built-in operator's name. Loaded only by tests
that start a process with DATAGRAN_OPERATOR_MODULES=tests.plugins.broken, to see the start fail
naming them."""
from __future__ import annotations

import pandas as pd

from operators.base import Context, Operator, Port


class MisnamedInput(Operator):
    name = "test.misnamed_input"
    label = "Misnamed input (test)"
    category = "transform"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)

    def run(self, ctx: Context, params: object, data: pd.DataFrame) -> dict:
        return {"table": data}


class Impostor(Operator):
    name = "transform.sample"
    label = "Another sample (test)"
    category = "transform"

    def run(self, ctx: Context, params: object) -> dict:
        return {}

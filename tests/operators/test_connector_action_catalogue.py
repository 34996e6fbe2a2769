"""The catalogue checks of test_registry, for the connectors and actions that call out."""
from __future__ import annotations

import json

import pytest

from operators import LocalContext, get_operator

MINIMAL_PARAMS: dict[str, dict] = {
    "connector.sql_query": {"connection": "c", "query": "SELECT 1"},
    "connector.http_json": {"connection": "c"},
    "action.hubspot_upsert": {"connection": "c", "key_column": "email"},
    "action.salesforce_upsert": {"connection": "c", "external_id_field": "Ext__c",
                                 "key_column": "id"},
    "action.webhook": {"connection": "c", "key_column": "id"},
    "action.email_report": {"recipients": ["a@example.com"], "subject": "Report"},
    "action.sql_table": {"connection": "c", "table": "t", "key_columns": ["id"]},
}
ACTIONS = sorted(n for n in MINIMAL_PARAMS if n.startswith("action."))


@pytest.mark.parametrize("name", sorted(MINIMAL_PARAMS))
def test_each_describes_itself_for_the_palette_with_every_param_explained(name: str) -> None:
    op = get_operator(name)
    described = json.loads(json.dumps(op.describe()))
    assert described["description"] and described["icon"] != "box" and described["keywords"]
    assert op.__doc__ and "Example" in op.__doc__
    for field, spec in described["params_schema"]["properties"].items():
        assert spec.get("description"), f"{name}.{field} has no description"


@pytest.mark.parametrize("name", sorted(MINIMAL_PARAMS))
def test_each_infers_every_output_when_its_inputs_are_unknown(name: str) -> None:
    op = get_operator(name)
    params = op.parse_params(MINIMAL_PARAMS[name])
    result = op.infer_schema(LocalContext(), params, **{p.name: None for p in op.inputs})
    assert set(result) == {p.name for p in op.outputs}


@pytest.mark.parametrize("name", ACTIONS)
def test_every_action_is_batch_only_and_outputs_the_same_results_table(name: str) -> None:
    op = get_operator(name)
    assert op.batch_only and [p.name for p in op.outputs] == ["results"]
    schema = op.infer_schema(LocalContext(), op.parse_params(MINIMAL_PARAMS[name]),
                             table=None)["results"]
    assert [c["name"] for c in schema] == ["record_key", "status", "reason", "payload"]
    properties = op.describe()["params_schema"]["properties"]
    assert properties["dry_run"]["default"] is False
    assert properties["require_approval"]["default"] is False

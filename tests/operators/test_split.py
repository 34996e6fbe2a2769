from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from datagran.datasets.artifacts import ArtifactStore
from datagran.datasets.storage import LocalStorage
from datagran.engine.execute import execute_node
from operators import LocalContext, OperatorError, get_operator, schema_of
from operators.engines import EngineSettings

op = get_operator("transform.split")
TABLE = pd.DataFrame({"id": range(100), "label": ["a"] * 80 + ["b"] * 20})


def split(table: pd.DataFrame = TABLE, **raw: object) -> dict[str, pd.DataFrame]:
    return op.run(LocalContext(), op.parse_params(raw), table=table)


def test_it_puts_a_quarter_of_the_rows_in_test_and_each_row_in_exactly_one_side() -> None:
    result = split()
    assert (len(result["train"]), len(result["test"])) == (75, 25)
    assert sorted([*result["train"]["id"], *result["test"]["id"]]) == list(range(100))
    assert list(result["test"].index) == list(range(25))


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    assert split(seed=7)["test"]["id"].tolist() == split(seed=7)["test"]["id"].tolist()
    assert split(seed=7)["test"]["id"].tolist() != split(seed=8)["test"]["id"].tolist()


def test_stratifying_keeps_the_class_shares_equal_on_both_sides() -> None:
    result = split(test_size=0.2, stratify="label")
    assert (result["test"]["label"] == "b").sum() == 4
    assert (result["train"]["label"] == "b").sum() == 16


def test_both_outputs_have_the_input_schema() -> None:
    schema = schema_of(TABLE)
    params = op.parse_params({"stratify": "label"})
    assert op.infer_schema(LocalContext(), params, table=schema) == {
        "train": schema, "test": schema}


def test_it_rejects_stratifying_on_a_missing_column() -> None:
    params = op.parse_params({"stratify": "labell"})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=schema_of(TABLE))
    assert err.value.field == "stratify"
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, table=TABLE)
    assert err.value.field == "stratify"


def test_it_rejects_a_table_too_small_to_split() -> None:
    with pytest.raises(OperatorError) as err:
        split(TABLE.head(1))
    assert err.value.field == "test_size"
    assert "1 row" in err.value.message
    with pytest.raises(OperatorError):
        split(TABLE.iloc[:0])


def test_it_rejects_a_test_size_that_leaves_no_training_row() -> None:
    with pytest.raises(OperatorError) as err:
        split(TABLE.head(10), test_size=0.99)
    assert err.value.field == "test_size"


def test_it_rejects_stratifying_on_a_value_seen_only_once() -> None:
    table = pd.DataFrame({"id": range(10), "label": ["a"] * 9 + ["rare"]})
    with pytest.raises(OperatorError, match="rare") as err:
        split(table, stratify="label")
    assert err.value.field == "stratify"


def test_it_rejects_stratifying_on_a_column_with_missing_values() -> None:
    table = pd.DataFrame({"id": range(10), "label": ["a", "b"] * 4 + [None, "a"]})
    with pytest.raises(OperatorError, match="missing") as err:
        split(table, stratify="label")
    assert err.value.field == "stratify"


@pytest.mark.parametrize("raw", [{"test_size": 0}, {"test_size": 1}, {"test_size": -0.1},
                                 {"test_size": 1e-9}, {"test_size": 1 - 1e-9},
                                 {"seed": "abc"}])
def test_it_rejects_impossible_params(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)


def test_it_is_not_part_of_serving() -> None:
    assert op.describe()["batch_only"] is True


def test_a_split_node_on_the_engine_logs_the_rows_of_each_side(tmp_path) -> None:
    """The node's card shows its first output's rows (train); its log names both sides."""
    store = ArtifactStore(LocalStorage(str(tmp_path / "store")))
    ctx = LocalContext()
    out = execute_node(store=store, op=op, raw_params={"test_size": 0.25, "seed": 3},
                       input_refs={"table": store.put_table(TABLE).as_json()}, ctx=ctx,
                       engine=EngineSettings(temp_dir=str(tmp_path / "tmp")))
    rows = {port: len(store.read_table(ref["hash"])) for port, ref in out.outputs.items()
            if port in ("train", "test")}
    assert rows == {"train": 75, "test": 25}
    assert "Rows out: train 75, test 25." in ctx.logs

from __future__ import annotations

import io

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator

op = get_operator("action.export_file")
TABLE = pd.DataFrame({"name": ["Ana", "Ben"], "score": [0.25, 0.75]})


def export(table: pd.DataFrame = TABLE, **raw: object) -> tuple[LocalContext, pd.DataFrame]:
    ctx = LocalContext()
    return ctx, op.run(ctx, op.parse_params(raw), table=table)["table"]


def test_it_saves_a_csv_named_export_by_default_and_passes_the_rows_through() -> None:
    ctx, out = export()
    data, content_type = ctx.files["export.csv"]
    assert content_type == "text/csv"
    assert data.decode() == "name,score\r\nAna,0.25\r\nBen,0.75\r\n"  # RFC 4180
    pd.testing.assert_frame_equal(out, TABLE)
    assert ctx.logs == ["Exported 2 rows to export.csv."]


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_made_inert() -> None:
    table = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "Ann"], "n": [-1, 2, 3]})
    ctx = LocalContext()
    op.run(ctx, op.parse_params({}), table=table)
    text = ctx.files["export.csv"][0].decode()
    assert "'=HYPERLINK" in text and "'+1" in text and "\r\nAnn,3" in text
    assert ",-1\r\n" in text  # numbers stay numbers


def test_it_saves_parquet_that_reads_back_identical() -> None:
    ctx, _ = export(format="parquet", filename="churn-scores_v1.2")
    data, content_type = ctx.files["churn-scores_v1.2.parquet"]
    assert content_type == "application/vnd.apache.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(data)), TABLE)


def test_an_empty_table_exports_just_the_header() -> None:
    ctx, _ = export(TABLE.iloc[:0])
    assert ctx.files["export.csv"][0].decode() == "name,score\r\n"


def test_it_reports_a_table_parquet_cannot_hold() -> None:
    mixed = pd.DataFrame({"v": pd.Series([1, "one"], dtype=object)})
    with pytest.raises(OperatorError) as err:
        export(mixed, format="parquet")
    assert err.value.field == "format"


@pytest.mark.parametrize("filename", ["../etc/passwd", "a/b", "a\\b", ".hidden", "", "my file",
                                      "x" * 101])
def test_it_rejects_a_filename_that_could_escape_or_confuse(filename: str) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"filename": filename})


def test_it_rejects_an_unknown_format() -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"format": "docx"})


def test_it_passes_the_schema_through_and_is_not_part_of_serving() -> None:
    schema = [{"name": "name", "type": "str"}]
    assert op.infer_schema(LocalContext(), op.parse_params({}), table=schema) == {
        "table": schema}
    assert op.batch_only is True


def test_it_saves_excel_with_formula_cells_made_inert() -> None:
    table = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "Ann"], "n": [1, 2]})
    ctx = LocalContext()
    op.run(ctx, op.parse_params({"format": "xlsx", "filename": "book"}), table=table)
    data, content_type = ctx.files["book.xlsx"]
    assert content_type.endswith("spreadsheetml.sheet")
    back = pd.read_excel(io.BytesIO(data))
    assert back["name"].tolist() == ["'=cmd|' /C calc'!A0", "Ann"] and back["n"].tolist() == [1, 2]

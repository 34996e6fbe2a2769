"""Score a whole table with a served pipeline: batch scoring through its deployment."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
from pydantic import Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..tables import Table, as_table

# Rows handed to the deployment at once: its online limit per request, so a batch is scored
# exactly as that many requests would be, in bounded memory.
CHUNK_ROWS = 10_000


class ScoreDeploymentParams(Params):
    pipeline: str = Field(..., min_length=1, max_length=200,
                          description="Name of the served pipeline (in this workspace) whose "
                                      "deployment scores the rows.")


class ScoreDeployment(Operator):
    """Adds the ``prediction`` (and ``probability``) that the named pipeline's deployment
    answers for each row, through the same plan as its online endpoint: the pipeline's
    transforms with the state they learned in training, its features looked up live (or as of
    training, as the deployment says) and the model version promoted to production. A row
    scored here equals, column for column, the answer to the same row sent online.

    Example: a HubSpot contacts source → ``{"pipeline": "Churn model"}`` → a filter on
    ``prediction`` → a HubSpot upsert of ``probability``: nightly churn scores in the CRM.

    The rows must carry the columns the endpoint requires (its deploy page lists them);
    other columns pass through. A table of any size is scored 10,000 rows at a time.
    """

    name = "model.score_deployment"
    label = "Score with deployment"
    description = "Score every row with a served pipeline's production model."
    category = "model"
    icon = "rocket"
    keywords = ("batch", "score", "deployment", "serve", "production", "predict", "schedule")
    lazy_inputs = True
    # The production version moves and lookups read live data: never a cached result.
    reuse_output = False
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = ScoreDeploymentParams
    example = {"pipeline": "Customer churn → CSV export"}

    def run(self, ctx: Context, params: ScoreDeploymentParams,
            table: pd.DataFrame | Table) -> dict[str, Any]:
        rows = as_table(table)
        if rows.rows == 0:
            raise OperatorError("The table to score is empty.")
        scorer = ctx.deployment_scorer(params.pipeline)
        # The first chunk scored before anything is written: a table the endpoint refuses
        # fails the node at once, with the endpoint's message.
        _scored(scorer, rows.head(CHUNK_ROWS))
        return {"table": _scored_batches(ctx, scorer, rows)}

    def infer_schema(self, ctx: Context, params: ScoreDeploymentParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        answer = ctx.deployment_answer(params.pipeline)
        if table is None or answer is None:
            return {"table": None}
        added = {c["name"] for c in answer}
        return {"table": [c for c in table if c["name"] not in added] + answer}


def _scored(scorer: Callable[[pd.DataFrame], pd.DataFrame], chunk: pd.DataFrame
            ) -> pd.DataFrame:
    answer = scorer(chunk)
    if len(answer) != len(chunk):
        raise OperatorError(f"The deployment answered {len(answer):,} row(s) for {len(chunk):,}"
                            f" (a node on its serving path drops or adds rows), so the scores "
                            f"cannot be matched to the rows.")
    kept = chunk.drop(columns=[c for c in answer.columns if c in chunk.columns])
    return pd.concat([kept.reset_index(drop=True), answer.reset_index(drop=True)], axis=1)


def _scored_batches(ctx: Context, scorer: Callable[[pd.DataFrame], pd.DataFrame],
                    rows: Table) -> Iterator[pd.DataFrame]:
    done = 0
    for chunk in rows.batches(CHUNK_ROWS):
        yield _scored(scorer, chunk)
        done += len(chunk)
        ctx.progress(done / rows.rows)
    ctx.log(f"Scored {done:,} rows.")

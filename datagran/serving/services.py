"""Online predictions from the pipeline that trained the model.

Compiled serving plans (the plan, learned states, the model, lookup tables) are kept in
memory per process, keyed by the pipeline version and the model version served; when an
alias moves, the next request builds the new one while requests in flight finish on the old."""
from __future__ import annotations

import functools
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import close_old_connections, transaction

from datagran.core.exceptions import (
    Conflict,
    DatagranError,
    FieldError,
    PermanentError,
    Unavailable,
)
from datagran.core.lru import Lru
from datagran.datasets.artifacts import StorageSettingError, artifact_store
from datagran.engine.calls import has_calls
from datagran.engine.execute import STATE, load_state
from datagran.engine.graph import Graph, graph_hash
from datagran.engine.serve import (
    LiveSource,
    Resources,
    ServingError,
    ServingPlan,
    live_source,
    plan_serving,
    request_columns,
    serve,
)
from datagran.pipelines.calls import expanded_graph
from datagran.pipelines.models import Pipeline
from datagran.pipelines.selectors import pipeline_get
from datagran.registry.models import ModelVersion, RegisteredModel
from datagran.registry.services import alias_remove, alias_set, version_resolve
from datagran.runs.models import NodeRun, Run, RunStatus
from datagran.workspaces.services import audit_record
from operators.base import OperatorError, Schema, TrainedModel
from operators.pipelines import CALL
from operators.registry import get_operator

from .lookups import LIVE, TRAINING, Lookup, LookupContext, RequestReport, start_report
from .models import Deployment, PredictionLog
from .validation import CheckedRows, check_rows

SERVING_ALIAS = "production"
CHALLENGER_ALIAS = "challenger"  # answers the same requests in the shadow
# What a served answer is, when the output node has them; else every column of the output.
ANSWER_COLUMNS = ("prediction", "probability")
MAX_ROWS = 10_000
ERR_NOT_PROMOTED = ("No version of the model “{model}” is promoted to production yet: "
                    "promote one on the model's page, and this pipeline serves it.")
ERR_STORE = ("The served model's files cannot be read now ({error}); try again, or run the "
             "pipeline again if it persists.")


class ServingContext:
    """Operators see no datasets, files or connections while serving."""

    seed = 0
    url_allowlist: list[str] = []
    approved = False

    def log(self, message: str) -> None:
        pass

    def progress(self, fraction: float) -> None:
        pass

    def deployment_scorer(self, pipeline: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
        # A served path that scores with a deployment (its own, even) would serve within
        # serving: refused, with the node named by the caller.
        raise OperatorError("Score with deployment cannot run on a serving path: move it "
                            "after the node the deployment answers with.", field="pipeline")


@dataclass
class Compiled:
    plan: ServingPlan
    resources: Resources
    input_schema: Schema
    targets: list[str]
    model: ModelVersion | None
    # Why the pipeline does not serve yet (no version promoted to production), or "".
    waiting: str
    training_table: str  # the hash of what the serving input gave in training
    features: list[str]  # the request columns the model reads as they come (drift is of these)
    lookups: list[Lookup]  # the tables the path reads from outside it
    task: str | None = None  # the served model's: classification or regression
    classes: list[Any] = field(default_factory=list)
    challenger: ModelVersion | None = None
    challenger_model: TrainedModel | None = None

    @cached_property
    def training_inputs(self) -> pd.DataFrame:
        """Read when the deploy page first asks (drift, the example row), not for serving: the
        training table can be large, and every plan in memory would keep its own."""
        return artifact_store().read_table(self.training_table)


# Bounded: each promotion or saved version compiles a new plan, and the old ones (with their
# model and training inputs) would otherwise stay in memory for the life of the process.
_compiled = Lru(16)


# --- the deployment ----------------------------------------------------------------------------

def deployment_defaults(graph: Graph) -> tuple[str, str]:
    """The first predict node is the output; the source that feeds its rows is the input:
    the one whose rows become the predicted rows, else the first source before them."""
    predict = next((n.id for n in graph.nodes if n.operator == "model.predict"), None)
    if predict is None:
        raise PermanentError("This pipeline has no predict node to serve; add one, or set "
                             "input_node and output_node.")
    feeding = next(e.source for e in graph.incoming(predict) if e.target_port == "table")
    kept = _rows_source(graph, feeding)
    if kept is not None:
        return kept, predict
    sources = [n for n in graph.nodes if not graph.incoming(n.id)
               and predict in graph.descendants(n.id) | {n.id}]
    ancestors = [s.id for s in sources if feeding == s.id or feeding in graph.descendants(s.id)]
    return (ancestors or [feeding])[0], predict


def _rows_source(graph: Graph, node_id: str) -> str | None:
    """The source reached back from ``node_id`` through each node's only input, or a join's
    side whose rows it keeps (left; right for a right join): where one request row makes one
    answer. Customers left-joined to features aggregated from orders are served customer by
    customer, not order by order (a request of one order answered every trained customer)."""
    seen: set[str] = set()
    while node_id not in seen:
        seen.add(node_id)
        edges = graph.incoming(node_id)
        if not edges:
            return node_id
        if len(edges) > 1:
            node = graph.node(node_id)
            if node.operator != "transform.join":
                return None
            side = "right" if node.params.get("how") == "right" else "left"
            edges = [e for e in edges if e.target_port == side]
            if len(edges) != 1:
                return None
        node_id = edges[0].source
    return None


def serving_graph(pipeline: Pipeline) -> Graph:
    """The graph a pipeline serves with: its current version's, with the pipelines it calls
    expanded (their nodes and the fitted states their runs recorded, as in a run)."""
    graph = Graph.model_validate(pipeline.current_version.graph)
    if not has_calls(graph):
        return graph
    expanded = expanded_graph(pipeline, graph)
    if expanded.problems:
        raise PermanentError(f"The pipeline cannot serve: {expanded.problems[0].message}")
    return expanded.graph


def deployment_for(*, pipeline: Pipeline) -> Deployment:
    existing = Deployment.objects.filter(pipeline=pipeline).first()
    graph = serving_graph(pipeline)
    if existing is not None:
        return _follow_graph(existing, graph)
    input_node, output_node = deployment_defaults(graph)
    deployment, _ = Deployment.objects.get_or_create(
        pipeline=pipeline, defaults={"input_node": input_node, "output_node": output_node})
    return deployment


def _follow_graph(deployment: Deployment, graph: Graph) -> Deployment:
    """A deployment whose entry or answer node is no longer in the pipeline (replaced in the
    editor) takes the defaults of the current version, so its request schema follows."""
    ids = {n.id for n in graph.nodes}
    if deployment.input_node in ids and deployment.output_node in ids:
        return deployment
    try:
        input_node, output_node = deployment_defaults(graph)
    except PermanentError:
        return deployment
    deployment.input_node = input_node if deployment.input_node not in ids else \
        deployment.input_node
    deployment.output_node = output_node if deployment.output_node not in ids else \
        deployment.output_node
    deployment.save(update_fields=["input_node", "output_node", "updated_at"])
    return deployment


MAX_LOOKUP_TTL = 86_400


def deployment_update(*, pipeline: Pipeline, enabled: bool | None = None,
                      input_node: str | None = None, output_node: str | None = None,
                      sample_rate: float | None = None,
                      lookup_modes: dict[str, str] | None = None,
                      lookup_ttl_seconds: float | None = None,
                      alerts: dict[str, Any] | None = None) -> Deployment:
    deployment = deployment_for(pipeline=pipeline)
    graph = serving_graph(pipeline)
    new_input = input_node or deployment.input_node
    new_output = output_node or deployment.output_node
    try:
        plan = plan_serving(graph, input_node=new_input, output_node=new_output)
    except (ServingError, OperatorError) as exc:
        raise FieldError(str(exc), {"input_node": [str(exc)]}) from None
    if lookup_modes is not None:
        known = {n for n, _ in plan.lookups}
        for node, mode in lookup_modes.items():
            if node not in known:
                message = (f"lookup_modes: {node!r} is not a table the serving path reads "
                           f"from outside it ({', '.join(sorted(known)) or 'there is none'}).")
                raise FieldError(message, {f"lookup_modes.{node}": [message]})
            if mode not in (LIVE, TRAINING):
                message = f"lookup_modes.{node}: {LIVE} or {TRAINING}."
                raise FieldError(message, {f"lookup_modes.{node}": [message]})
        deployment.lookup_modes = {**deployment.lookup_modes, **lookup_modes}
    if lookup_ttl_seconds is not None:
        if not 0 <= lookup_ttl_seconds <= MAX_LOOKUP_TTL:
            message = f"lookup_ttl_seconds: from 0 (always fresh) to {MAX_LOOKUP_TTL:,}."
            raise FieldError(message, {"lookup_ttl_seconds": [message]})
        deployment.lookup_ttl_seconds = lookup_ttl_seconds
    if alerts is not None:
        from .alerts import alerts_settings

        deployment.alerts = alerts_settings(deployment.alerts or {}, alerts,
                                            pipeline.workspace_id)
    deployment.input_node, deployment.output_node = new_input, new_output
    if enabled is not None:
        deployment.enabled = enabled
    if sample_rate is not None:
        if not 0 <= sample_rate <= 1:
            raise FieldError("sample_rate: must be between 0 and 1.",
                                 {"sample_rate": ["between 0 and 1"]})
        deployment.sample_rate = sample_rate
    deployment.save()
    return deployment


# --- compiling -----------------------------------------------------------------------------------

def _served_version(pipeline: Pipeline, plan: ServingPlan, graph: Graph
                    ) -> tuple[ModelVersion | None, str, ModelVersion | None]:
    """The version behind the production alias of the plan's model, and "" ; before any
    version is promoted, the newest (for the request schema and example) and why the
    pipeline does not serve yet. Third: the version behind the challenger alias, when it is
    another one (it answers in the shadow)."""
    model_nodes = plan.nodes("model")
    if not model_nodes:
        return None, "", None
    spec = graph.node(model_nodes[0])
    registered = RegisteredModel.objects.filter(pipeline=pipeline, node_id=spec.id).first()
    if spec.operator == "model.registered":
        params: Any = get_operator(spec.operator).parse_params(spec.params)  # its Params
        registered = RegisteredModel.objects.filter(workspace_id=pipeline.workspace_id,
                                                    name=params.model).first()
    if registered is None or not registered.versions.exists():
        raise PermanentError("No trained model to serve yet: run the pipeline first.")
    promoted = registered.aliases.filter(name=SERVING_ALIAS).exists()
    version = version_resolve(model=registered, alias=SERVING_ALIAS, fallback_to_latest=True)
    challenger = registered.aliases.select_related("version").filter(
        name=CHALLENGER_ALIAS).first()
    shadow = challenger.version if challenger is not None and promoted and \
        challenger.version_id != version.pk else None
    return version, "" if promoted else ERR_NOT_PROMOTED.format(model=registered.name), shadow


def _reference_run(pipeline: Pipeline, version: ModelVersion | None) -> Run:
    if version is not None and version.run_id is not None:
        return version.run
    run = pipeline.runs.filter(status=RunStatus.SUCCEEDED).order_by("-created_at").first()
    if run is None:
        raise PermanentError("No successful run to serve from yet: run the pipeline first.")
    return run


_plans = Lru(64)


def _plan(pipeline: Pipeline, deployment: Deployment) -> tuple[Graph, ServingPlan]:
    key: tuple[Any, ...] = (pipeline.current_version.hash, deployment.input_node,
                            deployment.output_node)
    graph = None
    if any(n.get("operator") == CALL for n in pipeline.current_version.graph.get("nodes", [])):
        # A call of "latest" follows the called pipeline: the plan is the expanded graph's.
        graph = serving_graph(pipeline)
        key += (graph_hash(graph),)
    found = _plans.get(key)
    if found is None:
        graph = graph or Graph.model_validate(pipeline.current_version.graph)
        try:
            plan = plan_serving(graph, input_node=deployment.input_node,
                                output_node=deployment.output_node)
        except (ServingError, OperatorError) as exc:
            raise PermanentError(str(exc)) from None
        found = (graph, plan)
        _plans.put(key, found)
    return found


_recent = Lru(4096)


def _recently(key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
    """What the database said about ``key`` at most DATAGRAN_SERVING_CACHE_SECONDS ago, per
    process, so that a prediction makes no query of its own: a change made by another process
    (a promotion, a saved pipeline, a revoked token or membership) is served within that time;
    one made by this process forgets everything at once (``forget_recent``)."""
    hit = _recent.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    value = load()
    _recent.put(key, (time.monotonic() + settings.DATAGRAN["SERVING_CACHE_SECONDS"], value))
    return value


def forget_recent(**_signal: Any) -> None:
    _recent.clear()


def serving_pipeline(*, user: Any, pipeline_id: object) -> Pipeline:
    """The pipeline to predict with, if the user may (pipeline_get), remembered."""
    return _recently(("pipeline", user.pk, str(pipeline_id)),
                     lambda: pipeline_get(user=user, pipeline_id=pipeline_id))


def serving_credentials(key: str, load: Callable[[], Any]) -> Any:
    """What an API token authenticates as, remembered."""
    return _recently(("token", key), load)


def _served_version_cached(pipeline: Pipeline, plan: ServingPlan, graph: Graph
                           ) -> tuple[ModelVersion | None, str, ModelVersion | None]:
    return _recently(("version", pipeline.pk, pipeline.current_version.hash,
                      tuple(plan.nodes("model"))),
                     lambda: _served_version(pipeline, plan, graph))


_compiling: dict[tuple[Any, ...], threading.Lock] = {}
_compiling_guard = threading.Lock()


def _compile(pipeline: Pipeline, deployment: Deployment) -> Compiled:
    graph, plan = _plan(pipeline, deployment)
    version, waiting, challenger = _served_version_cached(pipeline, plan, graph)
    key = (pipeline.pk, pipeline.current_version.hash, deployment.input_node,
           deployment.output_node, version.pk if version else None, waiting,
           challenger.pk if challenger else None,
           json.dumps(deployment.lookup_modes, sort_keys=True), deployment.lookup_ttl_seconds)
    compiled = _compiled.get(key)
    if compiled is not None:
        return compiled
    # The requests that arrive together after a promotion wait for one of them to load the
    # new model, instead of each loading it.
    with _compiling_guard:
        lock = _compiling.setdefault(key, threading.Lock())
    try:
        with lock:
            compiled = _compiled.get(key)
            if compiled is None:
                compiled = _build_or_unavailable(pipeline, deployment, graph, plan, version,
                                                 waiting)
                if challenger is not None:
                    compiled.challenger = challenger
                    compiled.challenger_model = artifact_store().read_model(
                        challenger.model_hash)
                _compiled.put(key, compiled)
    finally:
        with _compiling_guard:
            _compiling.pop(key, None)
    return compiled


def _build_or_unavailable(pipeline: Pipeline, deployment: Deployment, graph: Graph,
                          plan: ServingPlan, version: ModelVersion | None, waiting: str
                          ) -> Compiled:
    """_build, with the artifact store's faults as a 503: the store may be back soon."""
    try:
        return _build(pipeline, deployment, graph, plan, version, waiting)
    except (OSError, StorageSettingError) as exc:
        raise Unavailable(ERR_STORE.format(error=f"{type(exc).__name__}: {exc}")) from exc


ERR_PUSHED = ("{node} ran inside the database in the run that trained the served model "
              "(pushdown), so there is no table of it to serve from: turn Pushdown off on "
              "the SQL source {source} and run the pipeline again.")


def _build(pipeline: Pipeline, deployment: Deployment, graph: Graph, plan: ServingPlan,
           version: ModelVersion | None, waiting: str) -> Compiled:
    run = _reference_run(pipeline, version)
    nodes = list(NodeRun.objects.filter(run=run).values_list("node_id", "outputs",
                                                             "pushed_into"))
    outputs = {node: out for node, out, _ in nodes}
    pushed = {node for node, _, into in nodes if into}
    for node in [plan.input_node, *(n for n, _ in plan.lookups)]:
        if node in pushed and not outputs.get(node):
            sources = [a for a in graph.ancestors(node) | {node}
                       if graph.node(a).operator == "connector.sql_query"]
            raise PermanentError(ERR_PUSHED.format(node=node, source=", ".join(sorted(
                sources)) or node))
    store = artifact_store()
    missing = [n for n in plan.nodes("apply") if STATE not in outputs.get(n, {})]
    if missing:
        raise PermanentError(f"The run that trained the served model has no learned state for "
                             f"{', '.join(missing)}; run the pipeline again.")
    states = {n: load_state(store, outputs[n][STATE]) for n in plan.nodes("apply")}
    lookups = {(n, p): _lookup(pipeline, deployment, graph, plan, outputs, n, p)
               for n, p in plan.lookups}
    model = store.read_model(version.model_hash) if version else None
    input_ref = outputs.get(plan.input_node, {})
    table_port = next((p for p, r in input_ref.items() if r.get("kind") == "table"), None)
    if table_port is None:
        raise PermanentError(f"The reference run has no output of {plan.input_node}.")
    targets = [model.target] if model is not None and model.target else []
    required = _required(plan, outputs, model)
    schema = [{**c, "required": required is None or c["name"] in required}
              for c in input_ref[table_port]["schema"] if c["name"] not in targets]
    inputs = [c["name"] for c in schema]
    used = {c["name"] for c in model.features} if model is not None else set()
    return Compiled(
        plan=plan,
        resources=Resources(state=states.__getitem__, model=lambda _node: _model(model),
                            lookup=lambda n, p, given: lookups[(n, p)].table(given)),
        input_schema=schema, targets=targets, model=version, waiting=waiting,
        lookups=list(lookups.values()),
        task=model.task if model is not None else None,
        classes=list(model.classes) if model is not None else [],
        training_table=input_ref[table_port]["hash"],
        # Without a model, or with features all derived on the way, every request column.
        features=[c for c in inputs if c in used] or inputs)


def _lookup(pipeline: Pipeline, deployment: Deployment, graph: Graph, plan: ServingPlan,
            outputs: dict[str, Any], node: str, port: str) -> Lookup:
    """The table ``(node, port)`` the path reads from outside it: live by key where its
    source can be (unless the deployment says "training"), else as the training run saw it."""
    store = artifact_store()
    ref = outputs.get(node, {}).get(port)
    if not isinstance(ref, dict) or "hash" not in ref:
        raise PermanentError(f"The reference run has no output of {node}; run the pipeline "
                             f"again.")
    snapshot = functools.cache(lambda: store.read_table(ref["hash"]))
    live = live_source(graph, plan, node, port)
    why = live if isinstance(live, str) else ""
    label = node
    if isinstance(live, LiveSource):
        label = f"{live.source.op.label} ({live.source.node_id})"
        source_ref = outputs.get(live.source.node_id, {}).get("table") or {}
        source_schema = source_ref.get("schema")
        why = live.source.op.lookup_refusal(live.source.params) or ""
        if not why and live.source_key not in {c["name"] for c in source_schema or []}:
            why = f"the key {live.source_key!r} is not a column of what the source reads"
        missing = [s.node_id for s in live.chain if s.mode == "apply"
                   and STATE not in outputs.get(s.node_id, {})]
        if not why and missing:
            why = f"the training run has no learned state for {', '.join(missing)}"
    else:
        source_schema = None
    mode = TRAINING if why else deployment.lookup_modes.get(node, LIVE)
    found = Lookup(node=node, port=port, label=label, mode=mode, why_not_live=why,
                   snapshot=snapshot, ttl=deployment.lookup_ttl_seconds)
    if isinstance(live, LiveSource) and not why:
        found.live, found.source_schema = live, source_schema
        found.states = {s.node_id: load_state(store, outputs[s.node_id][STATE])
                        for s in live.chain if s.mode == "apply"}
        found.ctx = LookupContext(pipeline.workspace_id, _recently)
    return found


def _required(plan: ServingPlan, outputs: dict[str, Any], model: TrainedModel | None
              ) -> set[str] | None:
    """The request columns the answer depends on (the rest are optional), by column lineage
    from the answer's columns: the prediction and probability, else every output column."""
    def schema(node: str, port: str) -> Schema | None:
        ref = outputs.get(node, {}).get(port)
        return ref.get("schema") if isinstance(ref, dict) else None

    answer = {c["name"] for port in _table_ports(plan) for c in schema(plan.output_node,
                                                                      port) or []}
    asked = answer & set(ANSWER_COLUMNS) or None
    return request_columns(plan, schema, model, asked)


def _table_ports(plan: ServingPlan) -> list[str]:
    step = next(s for s in plan.steps if s.node_id == plan.output_node)
    return [p.name for p in step.op.outputs if p.type == "table"][:1]


def _model(model: TrainedModel | None) -> TrainedModel:
    if model is None:
        raise OperatorError("No model to serve.")
    return model


# --- predicting ----------------------------------------------------------------------------------

MAX_RETURNED = 50


def predict(*, pipeline: Pipeline, rows: Any, returned: Any = None) -> dict[str, Any]:
    """The answer to ``rows``: a prediction (and probability) per row, each with the request
    columns named in ``returned`` echoed from its row."""
    started = time.perf_counter()
    deployment = _recently(("deployment", pipeline.pk), lambda: deployment_for(pipeline=pipeline))
    if not deployment.enabled:
        raise PermanentError("Serving is turned off for this pipeline.")
    if not isinstance(rows, list) or not rows:
        raise FieldError("rows: send a non-empty list of objects, one per row.",
                             {"rows": ["a non-empty list of objects"]})
    if len(rows) > MAX_ROWS:
        raise FieldError(f"rows: at most {MAX_ROWS:,} rows a request.",
                             {"rows": [f"at most {MAX_ROWS} rows"]})
    try:
        return _predict(deployment, pipeline, rows, returned, started)
    except DatagranError as exc:  # counted for the error-rate alert, as the answers are
        _log(deployment, [], (time.perf_counter() - started) * 1000, None, {}, rows=len(rows),
             status=exc.status)
        raise


def _predict(deployment: Deployment, pipeline: Pipeline, rows: list[Any], returned: Any,
             started: float) -> dict[str, Any]:
    compiled = _compile(pipeline, deployment)
    if compiled.waiting:
        raise Conflict(compiled.waiting, {"model": [compiled.waiting]})
    echoed = _returned(returned, rows)
    checked, report, result = _serve_rows(compiled, rows)
    predictions = _answer(result)
    if echoed:
        if len(predictions) != len(rows):
            message = (f"return: the answer has {len(predictions)} row(s) for {len(rows)} "
                       f"request row(s) (a node on the serving path drops or adds rows), so "
                       f"request columns cannot be matched to answers.")
            raise FieldError(message, {"return": [message]})
        predictions = [{**{name: row.get(name) for name in echoed}, **answer}
                       for row, answer in zip(rows, predictions, strict=True)]
    warnings = list(report.warnings)
    if checked.ignored:
        warnings.append(f"Ignored column(s) the pipeline does not take: "
                        f"{', '.join(checked.ignored[:20])}"
                        f"{' …' if len(checked.ignored) > 20 else ''}.")
    latency = (time.perf_counter() - started) * 1000
    logged = _log(deployment, rows, latency, compiled.model, report.lookups,
                  [[a.get("prediction"), a.get("probability")] for a in predictions])
    if logged is not None:  # an id per answer, for the feedback on it
        predictions = [{"id": f"{logged.pk}-{i}", **answer}
                       for i, answer in enumerate(predictions)]
        if compiled.challenger is not None:
            shadow_submit(compiled, checked.frame, logged.pk)
    version = compiled.model
    return {"model": None if version is None else {
        "name": version.registered_model.name, "version": version.version},
        "predictions": predictions, "warnings": warnings, "latency_ms": round(latency, 3)}


def _returned(returned: Any, rows: list[dict[str, Any]]) -> list[str]:
    """The request columns to echo in each answer (``"return"``), checked."""
    if returned is None:
        return []
    if not isinstance(returned, list) or not all(isinstance(n, str) for n in returned) or \
            len(returned) > MAX_RETURNED:
        message = f"return: a list of at most {MAX_RETURNED} column names."
        raise FieldError(message, {"return": [message]})
    clash = [n for n in returned if n in ANSWER_COLUMNS]
    absent = [n for n in returned if not any(isinstance(r, dict) and n in r for r in rows)]
    if clash or absent:
        message = (f"return: {', '.join(map(repr, clash))} is a column of the answer itself."
                   if clash else f"return: no request row has the column(s) "
                                 f"{', '.join(map(repr, absent))}.")
        raise FieldError(message, {"return": [message]})
    return list(dict.fromkeys(returned))


def _serve_rows(compiled: Compiled, rows: list[Any]
                ) -> tuple[CheckedRows, RequestReport, pd.DataFrame]:
    """Request rows (JSON objects) checked against the request schema and run through the
    compiled plan: what an online request and a batch-scored chunk both go through."""
    checked = check_rows(rows, compiled.input_schema, blank=compiled.targets)
    report = start_report()
    try:
        result = serve(compiled.plan, checked.frame, compiled.resources, ServingContext())
    except OperatorError as exc:
        raise PermanentError(exc.message) from None
    return checked, report, result


def _answer_columns(result: pd.DataFrame) -> list[str]:
    """The answer's columns: the prediction and probability, else every output column."""
    return [c for c in ANSWER_COLUMNS if c in result.columns] or list(result.columns)


def _answer(result: pd.DataFrame) -> list[dict[str, Any]]:
    columns = _answer_columns(result)
    values = [_plain(result[c]) for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _plain(column: pd.Series) -> list[Any]:
    """JSON-ready values: Python scalars, None for missing."""
    values = column.tolist()
    if column.hasnans:
        values = [None if pd.isna(v) else v for v in values]
    return values


# A deployment's log is trimmed back to its newest PredictionLog.MAX_KEPT rows once it holds
# TRIM_EVERY more, so it stays below MAX_KEPT + TRIM_EVERY rows per deployment (plus one row
# per request logged at the same instant) and a logged request pays an insert and an indexed
# count.
TRIM_EVERY = 50


def _log(deployment: Deployment, inputs: list[Any], latency: float,
         version: ModelVersion | None, lookups: dict[str, dict[str, float]],
         answers: list[list[Any]] | None = None, *, rows: int | None = None,
         status: int = 200) -> PredictionLog | None:
    """The request logged, if the sample rate picks it (else None). A refused request
    (``status``) is logged without its rows."""
    if random.random() >= deployment.sample_rate:
        return None
    entry = PredictionLog.objects.create(
        deployment=deployment, rows=len(inputs) if rows is None else rows, latency_ms=latency,
        model_version=version.version if version else None, inputs=inputs[:20],
        lookups=lookups, predictions=answers or [], status=status)
    kept = PredictionLog.objects.filter(deployment_id=deployment.pk)
    if kept.count() >= PredictionLog.MAX_KEPT + TRIM_EVERY:
        stale = kept.order_by("-created_at", "-id").values_list(
            "id", flat=True)[PredictionLog.MAX_KEPT:]
        PredictionLog.objects.filter(id__in=list(stale)).delete()
    return entry


# --- a challenger in the shadow ------------------------------------------------------------------

MAX_SHADOW_PENDING = 64  # requests waiting for the challenger; beyond, it skips them
_shadow_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="datagran-shadow")
_shadow_pending = threading.BoundedSemaphore(MAX_SHADOW_PENDING)


def shadow_submit(compiled: Compiled, frame: pd.DataFrame, log_id: int) -> bool:
    """Score the request's rows with the challenger after the answer has gone, on one
    background thread per process, and log its answers beside the champion's; a request is
    skipped (False) while MAX_SHADOW_PENDING wait, so the shadow never holds a request up."""
    if not _shadow_pending.acquire(blocking=False):
        return False
    try:
        _shadow_pool.submit(_shadow, compiled, frame.copy(), log_id)
    except RuntimeError:  # the pool is shut down: the process is ending
        _shadow_pending.release()
        return False
    return True


def _shadow(compiled: Compiled, frame: pd.DataFrame, log_id: int) -> None:
    try:
        challenger, model = compiled.challenger, compiled.challenger_model
        if challenger is None or model is None:
            return
        started = time.perf_counter()
        start_report()
        resources = Resources(state=compiled.resources.state, model=lambda _node: model,
                              lookup=compiled.resources.lookup)
        try:
            answers = _answer(serve(compiled.plan, frame, resources, ServingContext()))
            shadow: dict[str, Any] = {
                "version": challenger.version,
                "predictions": [[a.get("prediction"), a.get("probability")] for a in answers],
                "ms": round((time.perf_counter() - started) * 1000, 3)}
        except Exception as exc:  # noqa: BLE001 - the challenger failing is logged, not raised
            shadow = {"version": challenger.version, "error": f"{type(exc).__name__}: {exc}"[
                :300]}
        PredictionLog.objects.filter(pk=log_id).update(shadow=shadow)
    finally:
        _shadow_pending.release()
        close_old_connections()


def shadow_wait(timeout: float = 30) -> None:
    """Until the shadow work submitted so far is done (tests, and a clean shutdown)."""
    _shadow_pool.submit(lambda: None).result(timeout=timeout)


def challenger_promote(*, pipeline: Pipeline, user: Any) -> ModelVersion:
    """Move production to the challenger's version and drop the challenger alias: one action,
    audited."""
    deployment = deployment_for(pipeline=pipeline)
    graph, plan = _plan(pipeline, deployment)
    champion, _waiting, challenger = _served_version(pipeline, plan, graph)
    if challenger is None or champion is None:
        raise Conflict("There is no challenger to promote: point the “challenger” alias of "
                       "the served model at another version first.",
                       {"challenger": ["no challenger"]})
    model = challenger.registered_model
    with transaction.atomic():
        alias_set(model=model, alias=SERVING_ALIAS, version_number=challenger.version,
                  user=user)
        alias_remove(model=model, alias=CHALLENGER_ALIAS, user=user)
        audit_record(workspace_id=pipeline.workspace_id, actor=user,
                     action="deployment.promote_challenger", target=pipeline.name,
                     version=challenger.version, previous=champion.version)
    forget_recent()
    return challenger


# --- feedback ----------------------------------------------------------------------------------

MAX_FEEDBACK = 10_000
ERR_FEEDBACK = ('Send a list of at most {n:,} objects {{"id": "<prediction id>", "label": '
                "<the true value>}}: the ids are in the answers of logged requests.")


def feedback_record(*, pipeline: Pipeline, items: Any) -> dict[str, Any]:
    """Record the ground truth of logged predictions. Ids this deployment never gave (or no
    longer keeps) are listed back, the others recorded; a label sent again replaces it."""
    if not isinstance(items, list) or not items or len(items) > MAX_FEEDBACK:
        message = ERR_FEEDBACK.format(n=MAX_FEEDBACK)
        raise FieldError(message, {"feedback": [message]})
    wanted: dict[int, dict[str, Any]] = {}
    for i, item in enumerate(items):
        parsed = _feedback_item(item)
        if parsed is None:
            message = (f"feedback.{i}: {{\"id\": \"<log>-<row>\", \"label\": a number, text "
                       f"or true/false}}.")
            raise FieldError(message, {f"feedback.{i}": [message]})
        log_id, row, label = parsed
        wanted.setdefault(log_id, {})[str(row)] = label
    deployment = _recently(("deployment", pipeline.pk), lambda: deployment_for(pipeline=pipeline))
    recorded, unknown = 0, []
    with transaction.atomic():
        entries = {e.pk: e for e in PredictionLog.objects.select_for_update().filter(
            deployment_id=deployment.pk, pk__in=list(wanted))}
        for log_id, labels in wanted.items():
            entry = entries.get(log_id)
            known = {r: v for r, v in labels.items()
                     if entry is not None and int(r) < len(entry.predictions)}
            unknown += [f"{log_id}-{r}" for r in labels if r not in known]
            if known and entry is not None:
                entry.labels = {**entry.labels, **known}
                entry.save(update_fields=["labels"])
                recorded += len(known)
    return {"recorded": recorded, "unknown": unknown[:100]}


def _feedback_item(item: Any) -> tuple[int, int, Any] | None:
    if not isinstance(item, dict) or set(item) != {"id", "label"}:
        return None
    ident, label = item["id"], item["label"]
    if not isinstance(ident, str) or len(ident) > 40 or ident.count("-") != 1:
        return None
    log_id, row = ident.split("-")
    if not (log_id.isdigit() and row.isdigit() and len(log_id) <= 18 and len(row) <= 6):
        return None
    if not isinstance(label, (str, int, float, bool)) or (isinstance(label, str) and
                                                           len(label) > 200):
        return None
    return int(log_id), int(row), label


# --- batch scoring: whole tables through the deployment (operators.models.score_deployment) ----

@dataclass
class BatchScorer:
    """Gives the answer columns for a table of the serving input's rows, row for row: each
    chunk goes through what an online request goes through (the rows as JSON, checked
    against the request schema, the compiled plan, the production model), so a batch-scored
    row equals the answer to it sent online. Not logged as requests."""

    compiled: Compiled

    @property
    def served(self) -> str:
        version = self.compiled.model
        return "" if version is None else \
            f"{version.registered_model.name} v{version.version}"

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        compiled = self.compiled
        missing = [c["name"] for c in compiled.input_schema
                   if c["required"] and c["name"] not in frame.columns]
        if missing:
            raise PermanentError(f"The table to score lacks the column(s) the deployment "
                                 f"requires: {', '.join(missing)}.")
        rows = json.loads(frame.to_json(orient="records", date_format="iso", date_unit="us"))
        _checked, _report, result = _serve_rows(compiled, rows)
        return result[_answer_columns(result)].reset_index(drop=True)


def batch_scorer(*, pipeline: Pipeline) -> BatchScorer:
    """The pipeline's deployment scoring whole tables, compiled now. Works with the endpoint
    turned off (that stops requests, not a scheduled scoring); refuses (409) before a version
    is promoted to production, as the endpoint does."""
    compiled = _compile(pipeline, deployment_for(pipeline=pipeline))
    if compiled.waiting:
        raise Conflict(compiled.waiting, {"pipeline": [compiled.waiting]})
    return BatchScorer(compiled)


def batch_answer_schema(*, pipeline: Pipeline) -> Schema | None:
    """The columns ``batch_scorer`` gives, as the served model's classes type them; None
    when the pipeline has no model to serve yet. Saves nothing (asked when another pipeline
    is saved)."""
    try:
        deployment = Deployment.objects.filter(pipeline=pipeline).first()
        if deployment is None:
            input_node, output_node = deployment_defaults(serving_graph(pipeline))
            deployment = Deployment(pipeline=pipeline, input_node=input_node,
                                    output_node=output_node)
        graph, plan = _plan(pipeline, deployment)
        version, _waiting, _challenger = _served_version_cached(pipeline, plan, graph)
    except (PermanentError, FieldError):
        return None
    if version is None:
        return None
    if version.task == "regression":
        return [{"name": "prediction", "type": "float"}]
    kinds = {type(c) for c in version.classes}
    kind = next((name for t, name in ((bool, "bool"), (int, "int"), (float, "float"))
                 if kinds == {t}), "str")
    return [{"name": "prediction", "type": kind}, {"name": "probability", "type": "float"}]


def training_inputs(*, pipeline: Pipeline) -> tuple[Compiled, Deployment]:
    deployment = deployment_for(pipeline=pipeline)
    return _compile(pipeline, deployment), deployment


def deployment_state(deployment: Deployment) -> tuple[str, str]:
    """("off" | "waiting" | "serving", why): serving only once it is on and the model it
    serves has a version promoted to production."""
    if not deployment.enabled:
        return "off", "Serving is turned off: the endpoint refuses requests."
    pipeline = deployment.pipeline
    try:
        graph, plan = _plan(pipeline, deployment)
        _version, waiting, _challenger = _served_version_cached(pipeline, plan, graph)
    except (PermanentError, FieldError) as exc:
        return "waiting", exc.message
    return ("waiting", waiting) if waiting else ("serving", "")

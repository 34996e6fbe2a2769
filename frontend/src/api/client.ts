// The app's calls, by operation, over the typed client of ./http.
import type {
  Annotation,
  BatchScoring,
  BatchScoringInput,
  CallablePipeline,
  Comparison,
  Connection,
  Dataset,
  Deployment,
  DeploymentStats,
  Graph,
  ModelDetail,
  ModelImported,
  ModelSummary,
  ModelVersionDetail,
  OperatorSample,
  OperatorSpec,
  Pipeline,
  PipelineVersion,
  Prediction,
  Preview,
  Run,
  RunPlanResult,
  RunPage,
  RunStats,
  Schedule,
  ScheduleInput,
  Template,
  TemplateInstantiateInput,
  ValidateResult,
  VersionDiff,
  Workspace,
} from "./types";

import { getApiWorkspace, http, unwrap, withWorkspace } from "./http";
import type { components } from "./schema";

export {
  ApiError,
  configureApi,
  errorMessage,
  getApiWorkspace,
  http,
  setApiWorkspace,
  unwrap,
  withWorkspace,
  type ErrorExtra,
} from "./http";
interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  workspace?: boolean;
}

type Result = Promise<{ data?: unknown; error?: unknown; response: Response }>;
/** The typed client without the schema's request/response types: for the operations whose
 * serializers the schema does not describe yet. TODO(schema): move each call to `http`. */
const loose = http as unknown as {
  request(method: string, url: string, init: { body?: unknown; signal?: AbortSignal }): Result;
};

/** A call by concrete URL (ids and query already in it; a server-given absolute `next` too). */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  let url = opts.workspace ? withWorkspace(path) : path;
  if (/^https?:/.test(url)) {
    const u = new URL(url);
    url = u.pathname + u.search;
  }
  return unwrap(loose.request(opts.method ?? "GET", url, { body: opts.body, signal: opts.signal })) as Promise<T>;
}

const enc = encodeURIComponent;

/** The active workspace as a query parameter (undefined: the caller's personal one). */
const ws = () => ({ workspace: getApiWorkspace() ?? undefined });
const path = <P extends object>(p: P) => ({ params: { path: p } });

type RunOutput = components["schemas"]["RunOutput"];
/** A run as ./types reads it: the schema types a node's outputs as free-form objects, the
 * executor writes {kind, rows, schema} in each. */
const toRun = (r: RunOutput): Run => r as unknown as Run;
const asRun = (p: Promise<{ data?: RunOutput; error?: unknown; response: Response }>) => unwrap(p).then(toRun);

/**
 * Every call the app makes, one function per operation, through the typed client: paths,
 * path and query parameters and bodies are checked against the server's schema. The answer is
 * given as the refined type of ./types (a narrowing of the generated one, which the cast checks).
 */
export const api = {
  workspaces: () => unwrap(http.GET("/api/workspaces/")) as Promise<Workspace[]>,
  // TODO(schema): the operator list takes ?workspace= (plugins) but does not declare it.
  operators: () => request<OperatorSpec[]>("/api/operators/", { workspace: true }),

  pipelines: () =>
    unwrap(http.GET("/api/pipelines/", { params: { query: ws() } })) as Promise<Pipeline[]>,
  pipeline: (id: string) =>
    unwrap(http.GET("/api/pipelines/{pipeline_id}/", path({ pipeline_id: id }))) as Promise<Pipeline>,
  createPipeline: (body: { name: string; description?: string; graph?: Graph }) =>
    unwrap(
      http.POST("/api/pipelines/", { body: { ...body, workspace: getApiWorkspace() ?? undefined } }),
    ) as Promise<Pipeline>,
  updatePipeline: (
    id: string,
    body: { name?: string; description?: string; graph?: Graph; annotations?: Annotation[] },
  ) =>
    unwrap(
      http.PATCH("/api/pipelines/{pipeline_id}/", { ...path({ pipeline_id: id }), body }),
    ) as Promise<Pipeline>,
  deletePipeline: (id: string) =>
    unwrap(http.DELETE("/api/pipelines/{pipeline_id}/", path({ pipeline_id: id }))) as Promise<void>,
  versions: (id: string) =>
    unwrap(
      http.GET("/api/pipelines/{pipeline_id}/versions/", path({ pipeline_id: id })),
    ) as Promise<PipelineVersion[]>,
  versionDiff: (id: string, a: string, b: string, signal?: AbortSignal) =>
    unwrap(
      http.GET("/api/pipelines/{pipeline_id}/versions/diff/", {
        params: { path: { pipeline_id: id }, query: { a, b } },
        signal,
      }),
    ) as Promise<VersionDiff>,
  validate: (id: string, graph: Graph, signal?: AbortSignal) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/validate/", {
        ...path({ pipeline_id: id }),
        body: { graph },
        signal,
      }),
    ) as Promise<ValidateResult>,
  plan: (pipelineId: string, graph: Graph, signal?: AbortSignal) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/plan/", {
        ...path({ pipeline_id: pipelineId }),
        body: { graph },
        signal,
      }),
    ) as Promise<RunPlanResult>,
  /** The workspace's other pipelines that declare an input or an output (the palette's
   * "Pipelines"). */
  callablePipelines: (id: string, signal?: AbortSignal) =>
    unwrap(
      http.GET("/api/pipelines/{pipeline_id}/callable/", { ...path({ pipeline_id: id }), signal }),
    ) as Promise<CallablePipeline[]>,
  /** The graph with one calling node replaced by the called pipeline's nodes (not saved). */
  expandCall: (id: string, graph: Graph, node: string) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/expand/", { ...path({ pipeline_id: id }), body: { graph, node } }),
    ).then((r) => (r as { graph: Graph }).graph),
  /** The selected nodes saved as a new pipeline; the graph with them replaced by its call. */
  makeSubpipeline: (id: string, graph: Graph, nodes: string[], name: string) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/subpipeline/", {
        ...path({ pipeline_id: id }),
        body: { graph, nodes, name },
      }),
    ) as Promise<{ pipeline: Pipeline; graph: Graph }>,

  // TODO(schema): the runs page builds its filters as a query string (runsQuery.ts).
  runs: (query: string) => request<RunPage>(withWorkspace(`/api/runs/${query ? `?${query}` : ""}`)),
  /** A `next`/`previous` URL as the server gave it (it keeps the workspace and filters). */
  runsPage: (url: string) => request<RunPage>(url),
  runStats: (params: { days: number; pipeline?: string }) =>
    unwrap(
      http.GET("/api/runs/stats/", { params: { query: { ...ws(), days: params.days, pipeline: params.pipeline } } }),
    ) as Promise<RunStats>,
  /** `force` recomputes every node instead of reusing cached outputs; `fullRefresh` has the
   * sources read everything again from the start (their cursors start over). */
  startRun: (pipelineId: string, force = false, fullRefresh = false) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/runs/", {
        ...path({ pipeline_id: pipelineId }),
        body: { ...(force ? { force: true } : {}), ...(fullRefresh ? { full_refresh: true } : {}) },
      }),
    ).then(toRun),
  run: (id: string) => asRun(http.GET("/api/runs/{run_id}/", path({ run_id: id }))),
  cancelRun: (id: string) => asRun(http.POST("/api/runs/{run_id}/cancel/", path({ run_id: id }))),
  approveNode: (runId: string, nodeId: string) =>
    asRun(http.POST("/api/runs/{run_id}/nodes/{node_id}/approve/", path({ run_id: runId, node_id: nodeId }))),
  rejectNode: (runId: string, nodeId: string) =>
    asRun(http.POST("/api/runs/{run_id}/nodes/{node_id}/reject/", path({ run_id: runId, node_id: nodeId }))),
  preview: (runId: string, nodeId: string, port: string, limit = 50, signal?: AbortSignal) =>
    unwrap(
      http.GET("/api/runs/{run_id}/nodes/{node_id}/preview/", {
        params: { path: { run_id: runId, node_id: nodeId }, query: { port, limit } },
        signal,
      }),
    ) as Promise<Preview>,

  /** The choices of one param of an operator, given the params so far (a database's tables). */
  operatorOptions: (name: string, body: { params: Record<string, unknown>; field: string }, signal?: AbortSignal) =>
    unwrap(
      http.POST("/api/operators/{name}/options/", {
        ...path({ name }),
        body: { ...body, workspace: getApiWorkspace() ?? undefined },
        signal,
      }),
    ),
  /** Up to 100 rows a source would read with these params, and their columns. */
  operatorSample: (name: string, params: Record<string, unknown>, signal?: AbortSignal) =>
    unwrap(
      http.POST("/api/operators/{name}/sample/", {
        ...path({ name }),
        body: { params, workspace: getApiWorkspace() ?? undefined },
        signal,
      }),
    ) as Promise<OperatorSample>,

  datasets: () =>
    unwrap(http.GET("/api/datasets/", { params: { query: ws() } })) as Promise<Dataset[]>,
  // A multipart body: the schema types its fields, not a FormData.
  uploadDataset: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    const w = getApiWorkspace();
    if (w) form.append("workspace", w);
    return request<Dataset>("/api/datasets/", { method: "POST", body: form, workspace: true });
  },
  connections: () =>
    unwrap(http.GET("/api/connections/", { params: { query: ws() } })) as Promise<Connection[]>,

  /** The template gallery: the built-in templates, then the workspace's own. */
  templates: () =>
    unwrap(http.GET("/api/templates/", { params: { query: ws() } })) as Promise<Template[]>,
  /** A new pipeline from a template (a built-in's slug or a workspace template's id). */
  instantiateTemplate: (id: string, body: TemplateInstantiateInput) =>
    unwrap(
      http.POST("/api/templates/{template_id}/instantiate/", {
        ...path({ template_id: id }),
        body: { ...body, workspace: getApiWorkspace() ?? undefined },
      }),
    ) as Promise<Pipeline>,
  /** Save a pipeline's current graph as a template of its workspace. */
  saveTemplate: (pipelineId: string, body: { name?: string; description?: string }) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/template/", { ...path({ pipeline_id: pipelineId }), body }),
    ) as Promise<Template>,
  deleteTemplate: (id: string) =>
    unwrap(http.DELETE("/api/templates/{template_id}/", path({ template_id: id }))) as Promise<void>,

  models: () =>
    unwrap(http.GET("/api/models/", { params: { query: ws() } })) as Promise<ModelSummary[]>,
  model: (id: string) =>
    unwrap(http.GET("/api/models/{model_id}/", path({ model_id: id }))) as Promise<ModelDetail>,
  modelVersion: (id: string, n: number) =>
    unwrap(
      http.GET("/api/models/{model_id}/versions/{number}/", path({ model_id: id, number: n })),
    ) as Promise<ModelVersionDetail>,
  compareModels: (id: string, a: number, b: number) =>
    unwrap(
      http.GET("/api/models/{model_id}/compare/", { params: { path: { model_id: id }, query: { a, b } } }),
    ) as Promise<Comparison>,
  setAlias: (id: string, alias: string, version: number) =>
    unwrap(
      http.POST("/api/models/{model_id}/aliases/", { ...path({ model_id: id }), body: { alias, version } }),
    ) as Promise<ModelDetail>,
  removeAlias: (id: string, alias: string) =>
    unwrap(
      http.DELETE("/api/models/{model_id}/aliases/{alias}/", path({ model_id: id, alias })),
    ) as Promise<ModelDetail>,
  // A multipart body with ?workspace=, which the schema does not declare. TODO(schema)
  importModel: (form: FormData) =>
    request<ModelImported>(withWorkspace("/api/models/import/"), { method: "POST", body: form }),

  schedules: (pipelineId: string) =>
    unwrap(
      http.GET("/api/pipelines/{pipeline_id}/schedules/", path({ pipeline_id: pipelineId })),
    ) as Promise<Schedule[]>,
  createSchedule: (pipelineId: string, body: ScheduleInput) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/schedules/", { ...path({ pipeline_id: pipelineId }), body }),
    ) as Promise<Schedule>,
  // TODO(schema): PatchedScheduleInput marks enabled, missed_policy and timezone required
  // (their defaults); a pause sends only `enabled`.
  updateSchedule: (id: string, body: Partial<ScheduleInput>) =>
    request<Schedule>(`/api/schedules/${enc(id)}/`, { method: "PATCH", body }),
  deleteSchedule: (id: string) =>
    unwrap(http.DELETE("/api/schedules/{schedule_id}/", path({ schedule_id: id }))) as Promise<void>,
  previewSchedule: (body: { cron: string; timezone: string }, signal?: AbortSignal) =>
    // TODO(schema): the preview reads cron and timezone only, but is declared with ScheduleInput.
    request<{ upcoming: string[] }>("/api/schedules/preview/", { method: "POST", body, signal }),

  createWebhook: (pipelineId: string) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/webhook/", path({ pipeline_id: pipelineId })),
    ) as Promise<{ url: string }>,
  deleteWebhook: (pipelineId: string) =>
    unwrap(
      http.DELETE("/api/pipelines/{pipeline_id}/webhook/", path({ pipeline_id: pipelineId })),
    ) as Promise<void>,

  deployment: (pipelineId: string) =>
    unwrap(
      http.GET("/api/pipelines/{pipeline_id}/deployment/", path({ pipeline_id: pipelineId })),
    ) as Promise<Deployment>,
  updateDeployment: (pipelineId: string, body: Partial<Omit<Deployment, "pipeline" | "endpoint">>) =>
    unwrap(
      http.PUT("/api/pipelines/{pipeline_id}/deployment/", { ...path({ pipeline_id: pipelineId }), body }),
    ) as Promise<Deployment>,
  promoteChallenger: (pipelineId: string) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/deployment/promote-challenger/", path({ pipeline_id: pipelineId })),
    ) as Promise<{ name: string; version: number }>,
  batchScoring: (pipelineId: string) =>
    unwrap(
      http.GET("/api/pipelines/{pipeline_id}/deployment/batch/", path({ pipeline_id: pipelineId })),
    ) as Promise<BatchScoring[]>,
  createBatchScoring: (pipelineId: string, body: BatchScoringInput) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/deployment/batch/", { ...path({ pipeline_id: pipelineId }), body }),
    ) as Promise<BatchScoring>,
  deploymentStats: (pipelineId: string) =>
    unwrap(
      http.GET("/api/pipelines/{pipeline_id}/deployment/stats/", path({ pipeline_id: pipelineId })),
    ) as Promise<DeploymentStats>,
  predict: (pipelineId: string, rows: unknown) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/predict", {
        ...path({ pipeline_id: pipelineId }),
        body: { rows } as { rows: Record<string, unknown>[] },
      }),
    ) as Promise<Prediction>,
};

export function outputUrl(
  runId: string,
  nodeId: string,
  port: string,
  format: "csv" | "parquet",
): string {
  return `/api/runs/${runId}/nodes/${encodeURIComponent(nodeId)}/output/?port=${encodeURIComponent(
    port,
  )}&format=${format}`;
}

/** Close codes after which reconnecting cannot help: not signed in (4401), access revoked,
 * e.g. removed from the workspace (4403), no such run (4404). */
export const SOCKET_CLOSE_FINAL: ReadonlySet<number> = new Set([4401, 4403, 4404]);

export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

export function runSocketUrl(runId: string): string {
  return wsUrl(`/ws/runs/${enc(runId)}/`);
}


/** The canvas's run planning: what a run would reuse, and starting a run that reuses nothing. */
export const runPlanApi = {
  plan: api.plan,
  startRun: (pipelineId: string, opts: { force?: boolean } = {}) => api.startRun(pipelineId, !!opts.force),
};

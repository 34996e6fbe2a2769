// The app's calls, by operation, over the typed client of ./http.
import type {
  Comparison,
  Connection,
  Dataset,
  Deployment,
  DeploymentStats,
  Graph,
  ModelDetail,
  ModelSummary,
  ModelVersion,
  ModelVersionDetail,
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
  ValidateResult,
  VersionDiff,
  Workspace,
} from "./types";

import { getApiWorkspace, http, unwrap, withWorkspace } from "./http";

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

/** Every call the app makes, one function per operation. */
export const api = {
  workspaces: () => request<Workspace[]>("/api/workspaces/"),
  operators: () => request<OperatorSpec[]>("/api/operators/", { workspace: true }),

  pipelines: () => request<Pipeline[]>("/api/pipelines/", { workspace: true }),
  pipeline: (id: string) => request<Pipeline>(`/api/pipelines/${enc(id)}/`),
  createPipeline: (body: { name: string; description?: string; graph?: Graph }) =>
    request<Pipeline>("/api/pipelines/", {
      method: "POST",
      workspace: true,
      body: withWorkspaceField(body),
    }),
  updatePipeline: (id: string, body: { name?: string; description?: string; graph?: Graph }) =>
    request<Pipeline>(`/api/pipelines/${enc(id)}/`, { method: "PATCH", body }),
  deletePipeline: (id: string) => request<void>(`/api/pipelines/${enc(id)}/`, { method: "DELETE" }),
  versions: (id: string) => request<PipelineVersion[]>(`/api/pipelines/${enc(id)}/versions/`),
  versionDiff: (id: string, a: string, b: string, signal?: AbortSignal) =>
    request<VersionDiff>(`/api/pipelines/${enc(id)}/versions/diff/?a=${enc(a)}&b=${enc(b)}`, {
      signal,
    }),
  validate: (id: string, graph: Graph, signal?: AbortSignal) =>
    request<ValidateResult>(`/api/pipelines/${enc(id)}/validate/`, {
      method: "POST",
      body: { graph },
      signal,
    }),
  plan: (pipelineId: string, graph: Graph, signal?: AbortSignal) =>
    request<RunPlanResult>(`/api/pipelines/${enc(pipelineId)}/plan/`, {
      method: "POST",
      body: { graph },
      signal,
    }),

  runs: (query: string) => request<RunPage>(withWorkspace(`/api/runs/${query ? `?${query}` : ""}`)),
  /** A `next`/`previous` URL as the server gave it (it keeps the workspace and filters). */
  runsPage: (url: string) => request<RunPage>(url),
  runStats: (params: { days: number; pipeline?: string }) =>
    request<RunStats>(
      withWorkspace(
        `/api/runs/stats/?days=${params.days}${params.pipeline ? `&pipeline=${enc(params.pipeline)}` : ""}`,
      ),
    ),
  /** `force` recomputes every node instead of reusing cached outputs. */
  startRun: (pipelineId: string, force = false) =>
    request<Run>(`/api/pipelines/${enc(pipelineId)}/runs/`, {
      method: "POST",
      body: force ? { force: true } : {},
    }),
  run: (id: string) => request<Run>(`/api/runs/${enc(id)}/`),
  cancelRun: (id: string) => request<Run>(`/api/runs/${enc(id)}/cancel/`, { method: "POST", body: {} }),
  approveNode: (runId: string, nodeId: string) =>
    request<Run>(`/api/runs/${enc(runId)}/nodes/${enc(nodeId)}/approve/`, { method: "POST", body: {} }),
  rejectNode: (runId: string, nodeId: string) =>
    request<Run>(`/api/runs/${enc(runId)}/nodes/${enc(nodeId)}/reject/`, { method: "POST", body: {} }),
  preview: (runId: string, nodeId: string, port: string, limit = 50, signal?: AbortSignal) =>
    request<Preview>(
      `/api/runs/${enc(runId)}/nodes/${enc(nodeId)}/preview/?port=${enc(port)}&limit=${limit}`,
      { signal },
    ),

  datasets: () => request<Dataset[]>("/api/datasets/", { workspace: true }),
  uploadDataset: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    const ws = getApiWorkspace();
    if (ws) form.append("workspace", ws);
    return request<Dataset>("/api/datasets/", { method: "POST", body: form, workspace: true });
  },
  connections: () => request<Connection[]>("/api/connections/", { workspace: true }),

  models: () => request<ModelSummary[]>("/api/models/", { workspace: true }),
  model: (id: string) => request<ModelDetail>(`/api/models/${enc(id)}/`),
  modelVersion: (id: string, n: number) =>
    request<ModelVersionDetail>(`/api/models/${enc(id)}/versions/${n}/`),
  compareModels: (id: string, a: number, b: number) =>
    request<Comparison>(`/api/models/${enc(id)}/compare/?a=${a}&b=${b}`),
  setAlias: (id: string, alias: string, version: number) =>
    request<ModelDetail>(`/api/models/${enc(id)}/aliases/`, {
      method: "POST",
      body: { alias, version },
    }),
  removeAlias: (id: string, alias: string) =>
    request<ModelDetail>(`/api/models/${enc(id)}/aliases/${enc(alias)}/`, { method: "DELETE" }),
  importModel: (form: FormData) =>
    request<ModelVersion & { model: string }>(withWorkspace("/api/models/import/"), {
      method: "POST",
      body: form,
    }),

  schedules: (pipelineId: string) => request<Schedule[]>(`/api/pipelines/${enc(pipelineId)}/schedules/`),
  createSchedule: (pipelineId: string, body: ScheduleInput) =>
    request<Schedule>(`/api/pipelines/${enc(pipelineId)}/schedules/`, { method: "POST", body }),
  updateSchedule: (id: string, body: Partial<ScheduleInput>) =>
    request<Schedule>(`/api/schedules/${enc(id)}/`, { method: "PATCH", body }),
  deleteSchedule: (id: string) => request<void>(`/api/schedules/${enc(id)}/`, { method: "DELETE" }),
  previewSchedule: (body: { cron: string; timezone: string }, signal?: AbortSignal) =>
    request<{ upcoming: string[] }>("/api/schedules/preview/", { method: "POST", body, signal }),

  createWebhook: (pipelineId: string) =>
    request<{ url: string }>(`/api/pipelines/${enc(pipelineId)}/webhook/`, { method: "POST", body: {} }),
  deleteWebhook: (pipelineId: string) =>
    request<void>(`/api/pipelines/${enc(pipelineId)}/webhook/`, { method: "DELETE" }),

  deployment: (pipelineId: string) => request<Deployment>(`/api/pipelines/${enc(pipelineId)}/deployment/`),
  updateDeployment: (pipelineId: string, body: Partial<Omit<Deployment, "pipeline" | "endpoint">>) =>
    request<Deployment>(`/api/pipelines/${enc(pipelineId)}/deployment/`, { method: "PUT", body }),
  deploymentStats: (pipelineId: string) =>
    request<DeploymentStats>(`/api/pipelines/${enc(pipelineId)}/deployment/stats/`),
  predict: (pipelineId: string, rows: unknown) =>
    request<Prediction>(`/api/pipelines/${enc(pipelineId)}/predict`, { method: "POST", body: { rows } }),
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

function withWorkspaceField<T extends object>(body: T): T & { workspace?: string | number } {
  const ws = getApiWorkspace();
  if (!ws) return body;
  return { ...body, workspace: /^\d+$/.test(ws) ? Number(ws) : ws };
}

/** The canvas's run planning: what a run would reuse, and starting a run that reuses nothing. */
export const runPlanApi = {
  plan: api.plan,
  startRun: (pipelineId: string, opts: { force?: boolean } = {}) => api.startRun(pipelineId, !!opts.force),
};

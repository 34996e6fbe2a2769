import type {
  Connection,
  Dataset,
  RegisteredModel,
  Graph,
  OperatorSpec,
  Pipeline,
  PipelineVersion,
  Preview,
  Run,
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

export const api = {
  workspaces: () => request<Workspace[]>("/api/workspaces/"),
  operators: () => request<OperatorSpec[]>("/api/operators/", { workspace: true }),

  pipelines: () => request<Pipeline[]>("/api/pipelines/", { workspace: true }),
  pipeline: (id: string) => request<Pipeline>(`/api/pipelines/${id}/`),
  createPipeline: (body: { name: string; description?: string; graph?: Graph }) =>
    request<Pipeline>("/api/pipelines/", {
      method: "POST",
      workspace: true,
      body: withWorkspaceField(body),
    }),
  updatePipeline: (
    id: string | number,
    body: { name?: string; description?: string; graph?: Graph },
  ) => request<Pipeline>(`/api/pipelines/${id}/`, { method: "PATCH", body }),
  deletePipeline: (id: string | number) =>
    request<void>(`/api/pipelines/${id}/`, { method: "DELETE" }),
  versions: (id: string) => request<PipelineVersion[]>(`/api/pipelines/${id}/versions/`),
  versionDiff: (id: string, a: string, b: string, signal?: AbortSignal) =>
    request<VersionDiff>(
      `/api/pipelines/${id}/versions/diff/?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`,
      { signal },
    ),
  validate: (id: string, graph: Graph, signal?: AbortSignal) =>
    request<ValidateResult>(`/api/pipelines/${id}/validate/`, {
      method: "POST",
      body: { graph },
      signal,
    }),

  startRun: (pipelineId: string) =>
    request<Run>(`/api/pipelines/${pipelineId}/runs/`, { method: "POST", body: {} }),
  run: (id: string | number) => request<Run>(`/api/runs/${id}/`),
  cancelRun: (id: string | number) =>
    request<unknown>(`/api/runs/${id}/cancel/`, { method: "POST", body: {} }),
  approveNode: (runId: string | number, nodeId: string) =>
    request<Run>(`/api/runs/${runId}/nodes/${encodeURIComponent(nodeId)}/approve/`, {
      method: "POST",
      body: {},
    }),
  rejectNode: (runId: string | number, nodeId: string) =>
    request<Run>(`/api/runs/${runId}/nodes/${encodeURIComponent(nodeId)}/reject/`, {
      method: "POST",
      body: {},
    }),
  preview: (runId: string | number, nodeId: string, port: string, limit = 50) =>
    request<Preview>(
      `/api/runs/${runId}/nodes/${encodeURIComponent(nodeId)}/preview/?port=${encodeURIComponent(
        port,
      )}&limit=${limit}`,
    ),

  datasets: () => request<Dataset[]>("/api/datasets/", { workspace: true }),
  connections: () => request<Connection[]>("/api/connections/", { workspace: true }),
  models: () => request<RegisteredModel[]>("/api/models/", { workspace: true }),
  uploadDataset: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    const ws = getApiWorkspace();
    if (ws) form.append("workspace", ws);
    return request<Dataset>("/api/datasets/", { method: "POST", body: form, workspace: true });
  },
};

export function outputUrl(
  runId: string | number,
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

export function runSocketUrl(runId: string | number): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws/runs/${runId}/`;
}

function withWorkspaceField<T extends object>(body: T): T & { workspace?: string | number } {
  const ws = getApiWorkspace();
  if (!ws) return body;
  return { ...body, workspace: /^\d+$/.test(ws) ? Number(ws) : ws };
}

/** The canvas's run planning: what a run would reuse, and starting a run that reuses nothing. */
export const runPlanApi = {
  plan: (pipelineId: string, graph: Graph, signal?: AbortSignal) =>
    request<import("./types").RunPlanResult>(`/api/pipelines/${pipelineId}/plan/`, {
      method: "POST",
      body: { graph },
      signal,
    }),
  startRun: (pipelineId: string, opts: { force?: boolean } = {}) =>
    request<Run>(`/api/pipelines/${pipelineId}/runs/`, {
      method: "POST",
      body: opts.force ? { force: true } : {},
    }),
};

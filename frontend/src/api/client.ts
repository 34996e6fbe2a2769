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

/** An API failure: the server's `{"message", "extra"}` body, or a network error. */
export class ApiError extends Error {
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.extra = extra;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

let csrfToken = "";
let workspaceId: string | null = null;

export function configureApi(opts: { csrfToken?: string }): void {
  if (opts.csrfToken) csrfToken = opts.csrfToken;
}

export function setApiWorkspace(id: string | number | null): void {
  workspaceId = id === null ? null : String(id);
}

export function getApiWorkspace(): string | null {
  return workspaceId;
}

function readCookie(name: string): string {
  const match = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return match ? decodeURIComponent(match.slice(name.length + 1)) : "";
}

function currentCsrf(): string {
  // Django rotates the token at login; the cookie is the freshest copy when readable.
  return (typeof document !== "undefined" && readCookie("csrftoken")) || csrfToken;
}

export function withWorkspace(path: string): string {
  if (!workspaceId) return path;
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}workspace=${encodeURIComponent(workspaceId)}`;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  workspace?: boolean;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined;
  if (opts.body instanceof FormData) {
    body = opts.body;
  } else if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = currentCsrf();
  const url = opts.workspace ? withWorkspace(path) : path;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "Cannot reach the server. Check your connection and try again.");
  }
  if (res.redirected && /\/accounts\/login\//.test(res.url)) {
    // The session expired: the API bounced us to the login page.
    window.location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, "Your session has expired. Please sign in again.");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const obj = (data ?? {}) as { message?: unknown; extra?: unknown; detail?: unknown };
    const message =
      typeof obj.message === "string"
        ? obj.message
        : typeof obj.detail === "string"
          ? obj.detail
          : `Request failed (${res.status} ${res.statusText || "error"})`;
    const extra =
      obj.extra && typeof obj.extra === "object" ? (obj.extra as Record<string, unknown>) : {};
    throw new ApiError(res.status, message, extra);
  }
  return data as T;
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
      body: workspaceId ? { ...body, workspace: maybeNumber(workspaceId) } : body,
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
    if (workspaceId) form.append("workspace", workspaceId);
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

function maybeNumber(v: string): string | number {
  return /^\d+$/.test(v) ? Number(v) : v;
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

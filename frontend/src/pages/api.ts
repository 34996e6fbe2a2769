// The API the workspace pages use (runs, stats, models, schedules, serving). Built on the
// shared `request` of api/client.ts; the editor's calls stay there.
import { request, withWorkspace } from "../api/client";
import type { Column, NodeRun, NodeStatus, Preview } from "../api/types";

export type RunState = "pending" | "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type Trigger = "manual" | "api" | "schedule" | "webhook";

export const RUN_STATES: RunState[] = [
  "pending",
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
];
export const ACTIVE_STATES: ReadonlySet<RunState> = new Set(["pending", "queued", "running"]);
export const TRIGGERS: Trigger[] = ["manual", "api", "schedule", "webhook"];

/** A run as the list and the workspace websocket carry it (the list adds name/version/user). */
export interface RunRow {
  id: string;
  status: RunState;
  started_at: string | null;
  finished_at: string | null;
  error: string;
  duration_ms: number | null;
  rows_processed: number;
  pipeline: string;
  workspace: string;
  trigger: Trigger | string;
  created_at: string;
  pipeline_name?: string;
  version?: string;
  created_by?: string | null;
  seq?: number;
}

export interface NodeRunFull extends NodeRun {
  attempts?: number;
  queued_at?: string | null;
}

export interface RunDetail extends RunRow {
  version: string;
  seq: number;
  nodes: NodeRunFull[];
}

export interface Page<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface DayStats {
  day: string;
  total: number;
  succeeded: number;
  failed: number;
  mean_duration_ms: number | null;
  success_rate: number | null;
}

export interface SlowNode {
  node_id: string;
  operator: string;
  mean_ms: number;
  max_ms: number;
  runs: number;
}

export interface RunStats {
  days: number;
  total: number;
  by_status: Record<RunState, number>;
  success_rate: number | null;
  rows_processed: number;
  duration_ms: { p50: number | null; p95: number | null };
  per_day: DayStats[];
  slowest_nodes?: SlowNode[];
}

export interface ModelVersion {
  version: number;
  source: string;
  task: string;
  algorithm: string;
  target: string;
  features: Column[];
  classes: unknown[] | null;
  metrics: Record<string, number | null>;
  params: Record<string, unknown>;
  training_data: { hash?: string; rows?: number; schema?: Column[] } | null;
  environment: Record<string, string>;
  aliases: string[];
  pipeline: string | null;
  pipeline_version: string | null;
  run: string | null;
  node_id: string;
  operator: string;
  operator_version: string;
  code_reference: string;
  data_description: string;
  model_hash: string;
  created_by: string | null;
  created_at: string;
}

export interface LineageNode {
  id: string;
  kind: "dataset" | "run" | "model_version" | "output" | string;
  label: string;
  status?: string;
  operator?: string;
}

export interface ModelVersionDetail extends ModelVersion {
  lineage: { nodes: LineageNode[]; edges: { source: string; target: string }[] };
}

export interface ModelSummary {
  id: string;
  name: string;
  workspace: string;
  description: string;
  aliases: Record<string, number>;
  latest: ModelVersion | null;
  version_count: number;
}

export interface ModelDetail extends ModelSummary {
  versions: ModelVersion[];
}

export interface Comparison {
  a: number;
  b: number;
  metrics: Record<string, { a: number | null; b: number | null }>;
  params: Record<string, { a: unknown; b: unknown }>;
  training_data: {
    same_data: boolean;
    rows: { a: number | null; b: number | null };
    columns_added: string[];
    columns_removed: string[];
    type_changes: Record<string, { a: string; b: string }>;
  };
}

export interface Schedule {
  id: string;
  pipeline: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  missed_policy: "skip" | "run_once";
  next_fire_at: string | null;
  upcoming: string[];
  last_fires: { fire_time: string; run: string | null; error: string }[];
}

export interface ScheduleInput {
  cron: string;
  timezone: string;
  enabled: boolean;
  missed_policy: "skip" | "run_once";
}

export interface Deployment {
  pipeline: string;
  enabled: boolean;
  input_node: string;
  output_node: string;
  sample_rate: number;
  endpoint: string;
}

export interface DriftRow {
  feature: string;
  psi: number | null;
  warning: boolean;
}

export interface DeploymentStats {
  deployment: Deployment;
  model: { name: string; version: number } | null;
  input_schema: Column[];
  example: Record<string, unknown>;
  requests: { at: string; rows: number; latency_ms: number; model_version: number | null }[];
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  drift: DriftRow[];
  psi_warning: number;
}

export interface Prediction {
  model: { name: string; version: number } | null;
  predictions: Record<string, unknown>[];
  latency_ms: number;
}

export type { NodeStatus, Preview };

const enc = encodeURIComponent;

export const pagesApi = {
  runs: (query: string) =>
    request<Page<RunRow>>(withWorkspace(`/api/runs/${query ? `?${query}` : ""}`)),
  /** A `next`/`previous` URL as the server gave it (it keeps the workspace and filters). */
  runsPage: (url: string) => request<Page<RunRow>>(url),
  runStats: (params: { days: number; pipeline?: string }) =>
    request<RunStats>(
      withWorkspace(
        `/api/runs/stats/?days=${params.days}${params.pipeline ? `&pipeline=${enc(params.pipeline)}` : ""}`,
      ),
    ),
  run: (id: string) => request<RunDetail>(`/api/runs/${enc(id)}/`),
  /** `force` recomputes every node instead of reusing cached outputs. */
  startRun: (pipelineId: string, force = false) =>
    request<RunDetail>(`/api/pipelines/${enc(pipelineId)}/runs/`, {
      method: "POST",
      body: force ? { force: true } : {},
    }),
  cancelRun: (id: string) =>
    request<RunDetail>(`/api/runs/${enc(id)}/cancel/`, { method: "POST", body: {} }),
  approve: (runId: string, node: string) =>
    request<RunDetail>(`/api/runs/${enc(runId)}/nodes/${enc(node)}/approve/`, {
      method: "POST",
      body: {},
    }),
  reject: (runId: string, node: string) =>
    request<RunDetail>(`/api/runs/${enc(runId)}/nodes/${enc(node)}/reject/`, {
      method: "POST",
      body: {},
    }),
  preview: (runId: string, node: string, port: string, limit = 50, signal?: AbortSignal) =>
    request<Preview>(
      `/api/runs/${enc(runId)}/nodes/${enc(node)}/preview/?port=${enc(port)}&limit=${limit}`,
      { signal },
    ),

  models: () => request<ModelSummary[]>(withWorkspace("/api/models/")),
  model: (id: string) => request<ModelDetail>(`/api/models/${enc(id)}/`),
  modelVersion: (id: string, n: number) =>
    request<ModelVersionDetail>(`/api/models/${enc(id)}/versions/${n}/`),
  compare: (id: string, a: number, b: number) =>
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

  schedules: (pipelineId: string) =>
    request<Schedule[]>(`/api/pipelines/${enc(pipelineId)}/schedules/`),
  createSchedule: (pipelineId: string, body: ScheduleInput) =>
    request<Schedule>(`/api/pipelines/${enc(pipelineId)}/schedules/`, { method: "POST", body }),
  updateSchedule: (id: string, body: Partial<ScheduleInput>) =>
    request<Schedule>(`/api/schedules/${enc(id)}/`, { method: "PATCH", body }),
  deleteSchedule: (id: string) =>
    request<void>(`/api/schedules/${enc(id)}/`, { method: "DELETE" }),
  previewSchedule: (body: { cron: string; timezone: string }, signal?: AbortSignal) =>
    request<{ upcoming: string[] }>("/api/schedules/preview/", { method: "POST", body, signal }),

  createWebhook: (pipelineId: string) =>
    request<{ url: string }>(`/api/pipelines/${enc(pipelineId)}/webhook/`, {
      method: "POST",
      body: {},
    }),
  deleteWebhook: (pipelineId: string) =>
    request<void>(`/api/pipelines/${enc(pipelineId)}/webhook/`, { method: "DELETE" }),

  deployment: (pipelineId: string) =>
    request<Deployment>(`/api/pipelines/${enc(pipelineId)}/deployment/`),
  updateDeployment: (pipelineId: string, body: Partial<Omit<Deployment, "pipeline" | "endpoint">>) =>
    request<Deployment>(`/api/pipelines/${enc(pipelineId)}/deployment/`, { method: "PUT", body }),
  deploymentStats: (pipelineId: string) =>
    request<DeploymentStats>(`/api/pipelines/${enc(pipelineId)}/deployment/stats/`),
  predict: (pipelineId: string, rows: unknown) =>
    request<Prediction>(`/api/pipelines/${enc(pipelineId)}/predict`, {
      method: "POST",
      body: { rows },
    }),
};

export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

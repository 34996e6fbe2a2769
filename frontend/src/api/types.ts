// Types of the Datagran HTTP/websocket API, as the browser sees it: the one set, for the editor
// and the workspace pages alike.
//
// TODO(schema): the server's schema does not describe these responses yet (its views answer
// with hand-built dicts). As each gets an output serializer, replace its interface here with an
// alias of the generated type, e.g. `export type Run = components["schemas"]["RunOutput"]`
// (`npm run gen:api` first). The names stay, so their users do not change.

export type Category = "connector" | "transform" | "model" | "action";
export type PortType = "table" | "model";

export interface Workspace {
  id: string;
  name: string;
  role: string;
}

export interface PortSpec {
  name: string;
  type: PortType;
  label: string;
  optional: boolean;
}

/** A (pydantic-generated) JSON Schema. Loosely typed on purpose: we read it defensively. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  "x-column-of"?: string;
  "x-dataset"?: boolean;
  "x-connection"?: string | string[];
  "x-registered-model"?: boolean;
  [key: string]: unknown;
}

export interface OperatorSpec {
  name: string;
  label: string;
  description: string;
  category: Category;
  icon: string;
  keywords: string[];
  version: string;
  inputs: PortSpec[];
  outputs: PortSpec[];
  params_schema: JsonSchema;
  stateful: boolean;
  batch_only: boolean;
}

export interface GraphNode {
  id: string;
  operator: string;
  /** A name the user gave the node; empty means "use the operator's label". */
  label?: string;
  params: Record<string, unknown>;
  position: { x: number; y: number };
}

export interface GraphEdge {
  source: string;
  source_port: string;
  target: string;
  target_port: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export type RunStatus = "pending" | "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type Trigger = "manual" | "api" | "schedule" | "webhook";

export const RUN_STATES: RunStatus[] = [
  "pending",
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
];
export const ACTIVE_STATES: ReadonlySet<RunStatus> = new Set(["pending", "queued", "running"]);
export const TRIGGERS: Trigger[] = ["manual", "api", "schedule", "webhook"];
export type NodeStatus =
  | "pending"
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled"
  | "waiting"; // an action waits for someone to approve its preview

export interface RunSummary {
  id: string;
  status: RunStatus;
  created_at: string;
}

export interface Pipeline {
  id: string;
  name: string;
  description: string;
  workspace: string;
  graph: Graph;
  version: string;
  updated_at: string;
  last_run: RunSummary | null;
}

export interface PipelineVersion {
  hash: string;
  current?: boolean;
  created_at: string;
  created_by: string | null;
  graph: Graph;
}

/** One value before and after, in a version diff. */
export interface ValueChange<T = unknown> {
  old: T;
  new: T;
}

/** GET /api/pipelines/{id}/versions/diff/?a=&b=: what changed from version a to version b. */
export interface VersionDiff {
  nodes_added: string[];
  nodes_removed: string[];
  operators_changed: Record<string, ValueChange<string>>;
  labels_changed: Record<string, ValueChange<string>>;
  /** Node id → param name → old and new value (null when the param was not set). */
  params_changed: Record<string, Record<string, ValueChange>>;
  edges_added: GraphEdge[];
  edges_removed: GraphEdge[];
  moved: string[];
}

export interface Column {
  name: string;
  type: string;
}

export interface GraphError {
  node: string | null;
  field: string | null;
  message: string;
}

export type NodeSchemas = Record<string, Record<string, Column[] | null>>;

export interface ValidateResult {
  valid: boolean;
  errors: GraphError[];
  schemas: NodeSchemas;
}

export interface PortOutput {
  kind: string;
  rows: number | null;
  schema: Column[] | null;
}

export interface NodeFile {
  name: string;
  url: string;
  size?: number;
  content_type?: string;
}

export interface NodeRun {
  node_id: string;
  operator: string;
  status: NodeStatus;
  started_at: string | null;
  finished_at: string | null;
  rows_out: number | null;
  cached: boolean;
  error: string | null;
  /** The param at fault when the node failed ("column", "conditions.0.value"). */
  error_field?: string | null;
  duration_ms?: number | null;
  attempts?: number;
  queued_at?: string | null;
  logs: string[];
  outputs: Record<string, PortOutput>;
  files: NodeFile[];
}

/** A run as the list and the workspace websocket carry it (the list adds name/version/user). */
export interface RunRow {
  id: string;
  status: RunStatus;
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

/** One run with its nodes: GET /api/runs/{id}/, the run socket's snapshot. */
export interface Run extends RunRow {
  version: string;
  seq: number;
  nodes: NodeRun[];
}

export interface ColumnStats {
  name: string;
  type: string;
  nulls: number | null;
  distinct: number | null;
  min: unknown;
  max: unknown;
  mean: number | null;
}

export interface Preview {
  columns: Column[];
  rows: unknown[][];
  total_rows: number;
  stats: ColumnStats[];
}

export interface Dataset {
  id: string;
  name: string;
  columns: Column[] | null;
  row_count: number | null;
}

export interface Connection {
  id: string;
  name: string;
  kind: string;
}

export type RunMessage =
  | { type: "snapshot"; seq: number; run: Run }
  | { type: "node"; seq: number; node: NodeRun }
  | {
      type: "run";
      seq: number;
      run: Pick<Run, "id" | "status" | "started_at" | "finished_at" | "error">;
    }
  | { type: "log"; seq: number; node_id: string; lines: string[] };

export const TERMINAL_RUN: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled"]);
export const TERMINAL_NODE: ReadonlySet<NodeStatus> = new Set([
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
]);

/** POST /api/pipelines/{id}/plan/: per node, whether a run would reuse its cached output. */
export interface RunPlanResult {
  nodes: Record<string, "cached" | "run">;
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
  by_status: Record<RunStatus, number>;
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

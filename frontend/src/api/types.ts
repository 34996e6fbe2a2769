// Types of the Datagran HTTP/websocket API, as the browser sees it.

export type Category = "connector" | "transform" | "model" | "action";
export type PortType = "table" | "model";

export interface Workspace {
  id: number | string;
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

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
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
  id: number | string;
  status: RunStatus;
  created_at: string;
}

export interface Pipeline {
  id: number | string;
  name: string;
  description: string;
  workspace: number | string;
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
  logs: string[];
  outputs: Record<string, PortOutput>;
  files: NodeFile[];
}

export interface Run {
  id: number | string;
  pipeline: number | string;
  version: string;
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
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
  id: number | string;
  name: string;
  columns: Column[] | null;
  row_count: number | null;
}

export interface Connection {
  id: string;
  name: string;
  kind: string;
}

export interface RegisteredModel {
  id: string;
  name: string;
  description?: string;
  version_count?: number;
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

// Types of the Datagran HTTP/websocket API, as the browser sees it: the one set, for the editor
// and the workspace pages alike. Each is the generated type of the server's schema
// (schema.d.ts, `npm run gen:api`), refined where the schema is looser than the contract: JSON
// fields the serializers declare as plain objects (metrics, features, params schemas) and the
// category/port-type strings the catalogue fixes. Only the websocket messages, which the
// OpenAPI schema does not describe, are written by hand here.
import type { components } from "./schema";

type S = components["schemas"];

export type Category = "connector" | "transform" | "model" | "action" | "pipeline";
export type PortType = "table" | "model";

export type Workspace = S["WorkspaceOutput"];

export type PortSpec = Omit<S["PortOutput"], "type"> & { type: PortType };

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

export type OperatorSpec = Omit<S["OperatorOutput"], "category" | "params_schema" | "inputs" | "outputs"> & {
  category: Category;
  params_schema: JsonSchema;
  inputs: PortSpec[];
  outputs: PortSpec[];
};

/** A node as the canvas holds it: params and a position always present. */
export type GraphNode = Omit<S["GraphNodeSchema"], "params" | "position"> & {
  params: Record<string, unknown>;
  position: S["PositionSchema"];
};
export type GraphEdge = S["GraphEdgeSchema"];
export type ExposedParam = S["ExposedParamSchema"];
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Params of its nodes a pipeline calling this one may set. */
  exposed?: ExposedParam[];
}
/** What a node calling a pipeline offers (validation's `calls`, the palette's callables). */
export type CallInterface = Omit<S["CallOutput"], "inputs" | "outputs" | "params"> & {
  inputs: (Omit<S["InterfacePortOutput"], "type"> & { type: PortType })[];
  outputs: (Omit<S["InterfacePortOutput"], "type"> & { type: PortType })[];
  params: (Omit<S["InterfaceParamOutput"], "schema"> & { schema?: JsonSchema })[];
};
export type CallablePipeline = Omit<CallInterface, "pipeline"> & { id: string; description: string };

export type RunStatus = S["RunStatusEnum"];
export type Trigger = S["TriggerEnum"];
export type NodeStatus = S["NodeStatusEnum"];

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

export type RunSummary = Omit<S["LastRunOutput"], "status"> & { status: RunStatus };

/** A sticky note or a frame on the canvas: saved with the pipeline, outside its graph. */
export type Annotation = S["AnnotationSchema"];

export type Pipeline = Omit<S["PipelineOutput"], "graph" | "last_run" | "annotations"> & {
  graph: Graph;
  last_run: RunSummary | null;
  /** Read defensively (editor/annotations/annotations.ts parseAnnotations). */
  annotations?: Annotation[];
};

export type PipelineVersion = Omit<S["PipelineVersionOutput"], "graph"> & { graph: Graph };

/** One value before and after, in a version diff. */
export interface ValueChange<T = unknown> {
  old: T;
  new: T;
}

/** GET /api/pipelines/{id}/versions/diff/?a=&b=: what changed from version a to version b. */
export type VersionDiff = Omit<
  S["VersionDiffOutput"],
  "operators_changed" | "labels_changed" | "params_changed"
> & {
  operators_changed: Record<string, ValueChange<string>>;
  labels_changed: Record<string, ValueChange<string>>;
  /** Node id → param name → old and new value (null when the param was not set). */
  params_changed: Record<string, Record<string, ValueChange>>;
};

export type Column = S["ColumnOutput"];
export type GraphError = S["GraphProblemOutput"];
export type NodeSchemas = Record<string, Record<string, Column[] | null>>;
export type ValidateResult = Omit<S["ValidationOutput"], "schemas" | "calls"> & {
  schemas: NodeSchemas;
  calls?: Record<string, CallInterface>;
};

/** One output port of a finished node (the schema types `outputs` as free-form objects). */
export interface PortOutput {
  kind: string;
  rows: number | null;
  schema: Column[] | null;
}

export type NodeFile = S["NodeFileOutput"];
/** Pushdown of a node into a SQL source's database (optional here: events and fixtures from
 * before it lack the fields, which mean "ran as usual"). */
export type Pushdown = S["PushdownOutput"];
export type NodeRun = Omit<S["NodeRunOutput"], "outputs" | "pushdown" | "pushed_into"> & {
  outputs: Record<string, PortOutput>;
  pushdown?: Pushdown | null;
  pushed_into?: string;
};

/** A run in the runs list (and, fewer fields, on the workspace websocket). */
export type RunRow = S["RunListItemOutput"];
/** One run with its nodes: GET /api/runs/{id}/, the run socket's snapshot. */
/** `calls`: the pipelines the run called (absent from the websocket's run messages). */
export type Run = Omit<S["RunOutput"], "nodes" | "calls"> & { nodes: NodeRun[]; calls?: S["RunOutput"]["calls"] };
export type RunPage = S["RunPageOutput"];

type RunListOnly = "pipeline_name" | "version" | "created_by" | "datasets" | "force" | "replay_of" | "seq";
/** A row of the live runs list: from the list, or from a workspace socket event (a run's
 * summary, which the OpenAPI schema does not describe) that may lack the list-only fields. */
export type LiveRunRow = Omit<RunRow, RunListOnly> & Partial<Pick<RunRow, RunListOnly>>;

/** POST /api/operators/{name}/sample/: up to 100 rows a source would read (lists in the
 * columns' order), and their columns. */
export type OperatorSample = S["OperatorSampleOutput"];
/** What a source node loaded in a run (NodeRun.source; the server keeps its state). */
export type SourceReport = S["SourceReportOutput"];

export type ColumnStats = S["ColumnStatsOutput"];
export type Preview = S["NodePreviewOutput"];

export type Dataset = Omit<S["DatasetOutput"], "columns"> & { columns: Column[] | null };
export type Connection = S["ConnectionOutput"];

/** A card of the template gallery: a built-in template or one of the workspace's own. */
export type Template = S["TemplateOutput"];
export type TemplateNeed = S["TemplateNeedOutput"];
export type TemplateInstantiateInput = Omit<S["TemplateInstantiateInput"], "workspace">;

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
export type RunPlanResult = S["PlanOutput"];

export type DayStats = S["DayStatsOutput"];
export type SlowNode = S["SlowNodeOutput"];
export type RunStats = Omit<S["RunStatsOutput"], "by_status" | "duration_ms"> & {
  by_status: Record<RunStatus, number>;
  duration_ms: { p50: number | null; p95: number | null };
};

/** The JSON fields of a model version, as the registry writes them. */
interface VersionJson {
  features: Column[];
  classes: unknown[] | null;
  metrics: Record<string, number | null>;
  training_data: { hash?: string; rows?: number; schema?: Column[] } | null;
  environment: Record<string, string>;
}
type VersionFields = keyof VersionJson;

export type ModelVersion = Omit<S["VersionOutput"], VersionFields> & VersionJson;
export type ModelVersionDetail = ModelVersion & Pick<S["VersionDetailOutput"], "lineage" | "evaluation">;
export type ModelImported = Omit<S["ModelImportOutput"], VersionFields> & VersionJson;
export type LineageNode = S["LineageNodeOutput"];

export type ModelSummary = Omit<S["ModelOutput"], "latest"> & { latest: ModelVersion | null };
export type ModelDetail = Omit<S["ModelDetailOutput"], "latest" | "versions"> & {
  latest: ModelVersion | null;
  versions: ModelVersion[];
};

interface Pair<T> {
  a: T;
  b: T;
}
export type Comparison = Omit<S["CompareOutput"], "metrics" | "params" | "training_data"> & {
  metrics: Record<string, Pair<number | null>>;
  params: Record<string, Pair<unknown>>;
  training_data: Omit<S["TrainingDataCompareOutput"], "rows" | "type_changes"> & {
    rows: Pair<number | null>;
    type_changes: Record<string, Pair<string>>;
  };
};

export type Schedule = S["ScheduleOutput"];
export type ScheduleInput = S["ScheduleInput"];

export type Deployment = S["DeploymentOutput"];
export type BatchScoring = S["BatchScoringOutput"];
export type BatchScoringInput = S["BatchScoringInput"];
export type DriftRow = S["DriftOutput"];
export type DeploymentStats = S["DeploymentStatsOutput"];
export type Prediction = S["PredictOutput"];

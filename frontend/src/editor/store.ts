// The editor's state: one store per open pipeline, made by a factory (no module singletons).
import { createStore, type StoreApi } from "zustand/vanilla";
import type {
  Column,
  CallablePipeline,
  CallInterface,
  Graph,
  GraphError,
  NodeRun,
  NodeSchemas,
  Pipeline,
  Run,
  RunMessage,
  ValidateResult,
} from "../api/types";
import { mergeSchemas } from "./columns";
import { groupErrors } from "./errors";
import { canonicalGraph, toFlow, type Catalogue, type FlowEdge, type OpNode } from "./graph";
import { graphActions, graphKeys, type GraphActions } from "./graphActions";
import { emptyHistory, type History } from "./history";
import { makePlan, planAfterRun, projectPlan, reusableNodes, runJustEnded, type Plan, type PlanStatus } from "./plan";
import { applyRunMessage, nodeRunMap } from "./runState";
import {
  annotationActions,
  annotationInit,
  isDirty,
  type AnnotationActions,
  type AnnotationState,
  type Snapshot,
} from "./annotations/annotationActions";
import { canonicalAnnotations, parseAnnotations, type Annotation } from "./annotations/annotations";

export type SocketState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface EditorState extends AnnotationState {
  pipelineId: string;
  name: string;
  description: string;
  version: string;
  workspace: Pipeline["workspace"];
  catalogue: Catalogue;

  nodes: OpNode[];
  edges: FlowEdge[];
  /** Canonical form of the graph as last saved (or loaded). */
  savedKey: string;
  /** Canonical form of the current graph. */
  graphKey: string;
  /** Canonical form without positions: changes here call for re-validation. */
  semanticKey: string;
  dirty: boolean;

  history: History<Snapshot>;
  lastCommit: { key: string; at: number } | null;

  errors: GraphError[];
  errorsByNode: Record<string, GraphError[]>;
  schemas: NodeSchemas;
  /** Each node calling a pipeline: what it calls (its ports, params, version), as validated. */
  calls: Record<string, CallInterface>;
  /** The pipelines a node can call (the palette's "Pipelines"). */
  callables: CallablePipeline[];
  validating: boolean;
  /** The semantic key the current errors/schemas belong to. */
  validatedKey: string | null;
  /** Bumped to validate again with the graph unchanged (a source sampled: the server now
   * knows its columns). */
  validationRequest: number;

  run: Run | null;
  nodeRuns: Record<string, NodeRun>;

  /** The server's last plan (what a run would reuse or recompute), or null: none yet, or the
   * graph is invalid. */
  plan: Plan | null;
  /** That plan as it stands for the current graph (edited nodes and their descendants run). */
  planStatus: Record<string, PlanStatus> | null;
  socket: SocketState;

  saving: boolean;
  /** A node drag is under way: the graph keys are stale until it ends. */
  dragging: boolean;
  /** Shown on the canvas while a refused connection is explained. */
  connectionNotice: string | null;
}

/** What the server says: saving, validation, the run and its plan. */
export interface ServerActions {
  /** The server has `p`: `savedGraph` and `savedAnnotations` (what was sent; else p's). */
  markSaved(p: Pipeline, savedGraph?: Graph, savedAnnotations?: Annotation[]): void;
  setMeta(meta: { name?: string; description?: string }): void;
  setValidating(v: boolean): void;
  setValidation(result: ValidateResult, forKey: string): void;
  setErrors(errors: GraphError[]): void;
  /** A source node's sample answered these columns on `port`: known at once, and the graph
   * validated again so the nodes after it learn theirs. */
  sampled(nodeId: string, port: string, columns: Column[]): void;
  setRun(run: Run | null): void;
  /** The server's plan for `graph` (a graph seen a moment ago), or null to drop it. */
  setPlan(nodes: Record<string, PlanStatus> | null, graph?: Graph): void;
  applyRunMessage(msg: RunMessage): { resync: boolean };
  setSocket(state: SocketState): void;
  setSaving(v: boolean): void;
  setConnectionNotice(msg: string | null): void;
  setCallables(callables: CallablePipeline[]): void;
}

export type EditorActions = GraphActions & ServerActions & AnnotationActions;

export type EditorStore = EditorState & EditorActions;

export interface EditorInit {
  pipeline: Pipeline;
  catalogue: Catalogue;
  /** Start from this graph instead of the pipeline's (a restored draft); it counts as unsaved. */
  graph?: Graph;
}

export function createEditorStore(init: EditorInit): StoreApi<EditorStore> {
  const saved = init.pipeline.graph ?? { nodes: [], edges: [] };
  const start = init.graph ?? saved;
  const flow = toFlow(start);
  const savedKey = canonicalGraph(saved);
  const { graphKey: startGraphKey, semanticKey: startSemanticKey } = graphKeys(flow.nodes, flow.edges);
  const annotations = annotationInit(parseAnnotations(init.pipeline.annotations));

  return createStore<EditorStore>()((set, get) => ({
    pipelineId: String(init.pipeline.id),
    name: init.pipeline.name,
    description: init.pipeline.description ?? "",
    version: init.pipeline.version ?? "",
    workspace: init.pipeline.workspace,
    catalogue: init.catalogue,
    nodes: flow.nodes,
    edges: flow.edges,
    savedKey,
    graphKey: startGraphKey,
    semanticKey: startSemanticKey,
    dirty: startGraphKey !== savedKey,
    ...annotations,
    history: emptyHistory<Snapshot>(),
    lastCommit: null,
    errors: [],
    errorsByNode: {},
    schemas: {},
    calls: {},
    callables: [],
    validating: false,
    validatedKey: null,
    validationRequest: 0,
    run: null,
    nodeRuns: {},
    plan: null,
    planStatus: null,
    socket: "idle",
    saving: false,
    dragging: false,
    connectionNotice: null,

    ...graphActions(set, get),
    ...annotationActions(set, get),

    markSaved: (p, savedGraph, savedAnnotations) => {
      const g = savedGraph ?? p.graph;
      const savedKey = canonicalGraph(g);
      const savedAnnotationsKey = canonicalAnnotations(savedAnnotations ?? parseAnnotations(p.annotations));
      set({
        name: p.name,
        description: p.description ?? "",
        version: p.version ?? "",
        savedKey,
        savedAnnotationsKey,
        dirty: isDirty({ ...get(), savedKey, savedAnnotationsKey }),
      });
    },

    setMeta: (meta) => set(meta),
    setValidating: (validating) => set({ validating }),

    setValidation: (result, forKey) =>
      set({
        errors: result.errors ?? [],
        errorsByNode: groupErrors(result.errors ?? []),
        schemas: mergeSchemas(get().schemas, result.schemas),
        calls: result.calls ?? {},
        validating: false,
        validatedKey: forKey,
      }),
    setCallables: (callables) => set({ callables }),

    setErrors: (errors) => set({ errors, errorsByNode: groupErrors(errors) }),

    sampled: (nodeId, port, columns) =>
      set({
        schemas: mergeSchemas(get().schemas, { [nodeId]: { [port]: columns } }),
        validationRequest: get().validationRequest + 1,
      }),

    setRun: (run) => set({ run, nodeRuns: nodeRunMap(run), ...planOnRunEnd(get(), run) }),

    setPlan: (nodes, graph) => {
      if (!nodes) {
        set({ plan: null, planStatus: null });
        return;
      }
      const plan = makePlan(nodes, graph ?? get().getGraph());
      set({ plan, planStatus: projectPlan(plan, get().getGraph()) });
    },

    applyRunMessage: (msg) => {
      const r = applyRunMessage(get().run, msg);
      if (r.run !== get().run) set({ run: r.run, nodeRuns: nodeRunMap(r.run), ...planOnRunEnd(get(), r.run) });
      return { resync: r.resync };
    },

    setSocket: (socket) => set({ socket }),
    setSaving: (saving) => set({ saving }),
    setConnectionNotice: (connectionNotice) => set({ connectionNotice }),
  }));
}

/**
 * The plan, in the same update as the run that just ended: no moment shows the plan from before
 * the run (the server's answer, asked for at once, follows).
 */
function planOnRunEnd(s: EditorStore, run: Run | null): Partial<EditorState> {
  if (!s.plan || !runJustEnded(s.run, run)) return {};
  const graph = s.getGraph();
  const plan = planAfterRun(s.plan, run, reusableNodes(graph, s.catalogue));
  return { plan, planStatus: projectPlan(plan, graph) };
}

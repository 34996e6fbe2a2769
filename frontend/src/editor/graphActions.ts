// Editing the graph: React Flow's changes, connections, nodes and params, selection, the
// clipboard, layout, undo and redo. Each edit records the graph for undo first, then sets the
// nodes and edges and the keys derived from them (dirty, re-validation, the projected plan).
import {
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import type { StoreApi } from "zustand/vanilla";
import type { Graph } from "../api/types";
import {
  canonicalGraph,
  cloneSubgraph,
  graphEdgeToFlow,
  graphNodeToFlow,
  newNodeId,
  subgraph,
  toFlow,
  toGraph,
  type FlowEdge,
  type OpNode,
} from "./graph";
import { record, redo, undo } from "./history";
import { freeSpot, layoutGraph, pasteOffset } from "./layout";
import { projectPlan } from "./plan";
import { CALL, CALL_PREFIX, callNode, callPorts, callShape } from "./calls";
import { checkConnection, type ConnectionCheck } from "./ports";
import { defaultParams, setIn, type Path } from "./schemaForm";
import type { EditorState, EditorStore } from "./store";
import { annotationsReplaced, isDirty, withoutSelectedAnnotations } from "./annotations/annotationActions";

export interface GraphActions {
  getGraph(): Graph;
  onNodesChange(changes: NodeChange<OpNode>[]): void;
  onEdgesChange(changes: EdgeChange<FlowEdge>[]): void;
  /** Record the current graph for undo. Calls with the same `coalesceKey` within a second merge. */
  commit(coalesceKey?: string): void;
  checkConnection(conn: Connection | FlowEdge): ConnectionCheck;
  connect(conn: Connection): ConnectionCheck;
  /** Add a node; with `from`, also connect it to that node's first compatible output. */
  addNode(operator: string, position: { x: number; y: number }, opts?: { from?: string }): string | null;
  setParam(nodeId: string, path: Path, value: unknown): void;
  setParams(nodeId: string, params: Record<string, unknown>): void;
  setLabel(nodeId: string, label: string): void;
  /** Expose a param to pipelines calling this one under `name` (null: stop exposing it). */
  setExposed(nodeId: string, param: string, name: string | null): void;
  deleteSelected(): number;
  deleteNodes(ids: readonly string[]): void;
  selectOnly(ids: readonly string[]): void;
  selectAll(): void;
  copySelection(): Graph | null;
  /**
   * Paste a copied group: its first node centred on `at` (flow coordinates) when given, else
   * where the group was, moved to the nearest free spot (never on top of the original).
   */
  paste(sub: Graph, at?: { x: number; y: number }): string[];
  /** Duplicate the selection, like paste. */
  duplicateSelection(at?: { x: number; y: number }): string[];
  autoLayout(sizes?: Record<string, { width: number; height: number }>): void;
  undo(): void;
  redo(): void;
  /** Replace the whole graph (import, restore a version, restore a draft). */
  replaceGraph(graph: Graph, opts?: { record?: boolean }): void;
}

const COALESCE_MS = 1000;

/** Changes React Flow sends while a drag is under way (position moves with dragging: true). */
export function isDragFrame(changes: readonly NodeChange<OpNode>[]): boolean {
  return (
    changes.length > 0 &&
    changes.every((c) => c.type === "position" && c.dragging === true) &&
    changes.some((c) => c.type === "position" && c.position !== undefined)
  );
}

export function graphKeys(nodes: readonly OpNode[], edges: readonly FlowEdge[]) {
  const graph = toGraph(nodes, edges);
  return {
    graph,
    graphKey: canonicalGraph(graph),
    semanticKey: canonicalGraph(graph, { positions: false }),
  };
}

/** How far to move a pasted group so that none of its nodes sits on an existing one. */
function freeOffset(
  group: readonly { position: { x: number; y: number } }[],
  nodes: readonly OpNode[],
): { x: number; y: number } {
  const minX = Math.min(...group.map((n) => n.position.x));
  const minY = Math.min(...group.map((n) => n.position.y));
  const height = Math.max(...group.map((n) => n.position.y)) - minY;
  // Each try moves the whole group; the first node's spot is searched with the group's height.
  for (let k = 0; k < 40; k++) {
    const dy = Math.ceil(k / 2) * (height + 150) * (k % 2 ? 1 : -1);
    const spot = freeSpot(nodes, { x: minX, y: minY + dy });
    const offset = { x: spot.x - minX, y: spot.y - minY };
    const clear = group.every(
      (n) => freeSpot(nodes, { x: n.position.x + offset.x, y: n.position.y + offset.y }).y === n.position.y + offset.y,
    );
    if (clear) return offset;
  }
  return { x: 40, y: 40 };
}

export function graphActions(
  set: StoreApi<EditorStore>["setState"],
  get: () => EditorStore,
): GraphActions {
  /** Set nodes/edges and recompute the derived keys. */
  const setGraphState = (nodes: OpNode[], edges: FlowEdge[], extra: Partial<EditorState> = {}) => {
    const { graph, graphKey, semanticKey } = graphKeys(nodes, edges);
    const { plan, semanticKey: before } = get();
    // Only a change of meaning can change the plan (not a move).
    const planStatus = plan && semanticKey !== before ? { planStatus: projectPlan(plan, graph) } : {};
    set({
      nodes,
      edges,
      graphKey,
      semanticKey,
      dirty: isDirty({ ...get(), graphKey }),
      dragging: false,
      ...planStatus,
      ...extra,
    });
  };

  const operatorOf = (id: string) => get().nodes.find((n) => n.id === id)?.data.operator;

  return {
    getGraph: () => toGraph(get().nodes, get().edges),

    commit: (coalesceKey) => {
      const now = Date.now();
      const last = get().lastCommit;
      if (coalesceKey && last && last.key === coalesceKey && now - last.at < COALESCE_MS) {
        set({ lastCommit: { key: coalesceKey, at: now } });
        return;
      }
      set({
        history: record(get().history, get().getSnapshot()),
        lastCommit: coalesceKey ? { key: coalesceKey, at: now } : null,
      });
    },

    onNodesChange: (changes) => {
      const structural = changes.some((c) => c.type === "remove" || c.type === "add");
      if (structural) get().commit();
      const nodes = applyNodeChanges(changes, get().nodes);
      if (!structural && isDragFrame(changes)) {
        // Mid-drag: only the nodes move. The derived keys (dirty, drafts, validation) are
        // brought up to date by the drag's last change, which React Flow sends with
        // dragging: false.
        set({ nodes, dragging: true });
        return;
      }
      const moved = changes.some(
        (c) => structural || (c.type === "position" && c.position !== undefined),
      );
      if (moved) {
        let edges = get().edges;
        if (structural) {
          const ids = new Set(nodes.map((n) => n.id));
          edges = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
        }
        setGraphState(nodes, edges);
      } else {
        set({ nodes });
      }
    },

    onEdgesChange: (changes) => {
      const structural = changes.some((c) => c.type === "remove" || c.type === "add");
      if (structural) get().commit();
      const edges = applyEdgeChanges(changes, get().edges);
      if (structural) setGraphState(get().nodes, edges);
      else set({ edges });
    },

    checkConnection: (conn) =>
      checkConnection(conn, operatorOf, get().catalogue, toGraph(get().nodes, get().edges).edges, (id) => {
        const node = get().nodes.find((n) => n.id === id);
        return node?.data.operator === CALL
          ? callPorts(callShape(node.data, get().calls[id], get().callables))
          : undefined;
      }),

    connect: (conn) => {
      const check = get().checkConnection(conn);
      if (!check.ok) return check;
      get().commit();
      // An input takes one edge: a new connection replaces the old one.
      const kept = get().edges.filter(
        (e) => !(e.target === conn.target && e.targetHandle === conn.targetHandle),
      );
      const edge = graphEdgeToFlow({
        source: conn.source,
        source_port: conn.sourceHandle ?? "",
        target: conn.target,
        target_port: conn.targetHandle ?? "",
      });
      setGraphState(get().nodes, [...kept, edge]);
      return check;
    },

    addNode: (name, position, opts = {}) => {
      // "pipeline.call#<id>": a node calling that pipeline (the palette's "Pipelines").
      const called = name.startsWith(CALL_PREFIX)
        ? get().callables.find((c) => c.id === name.slice(CALL_PREFIX.length))
        : undefined;
      const operator = called ? CALL : name;
      const op = get().catalogue[operator];
      if (!op || (operator === CALL && !called)) return null;
      get().commit();
      const id = newNodeId(get().nodes.map((n) => n.id));
      const node = graphNodeToFlow({
        id,
        operator,
        params: called ? { ...callNode(called).params } : defaultParams(op.params_schema),
        position,
        ...(called ? { label: called.name } : {}),
      });
      node.selected = true;
      const nodes = get().nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
      let edges = get().edges;
      const fromOp = opts.from ? get().catalogue[operatorOf(opts.from) ?? ""] : undefined;
      const inputs = called ? callPorts(called).inputs : op.inputs;
      if (opts.from && fromOp) {
        outer: for (const out of fromOp.outputs) {
          for (const inp of inputs) {
            if (out.type === inp.type) {
              edges = [
                ...edges,
                graphEdgeToFlow({ source: opts.from, source_port: out.name, target: id, target_port: inp.name }),
              ];
              break outer;
            }
          }
        }
      }
      setGraphState([...nodes, node], edges);
      return id;
    },

    setParam: (nodeId, path, value) => {
      get().commit(`param:${nodeId}:${path.join(".")}`);
      const nodes = get().nodes.map((n) =>
        n.id === nodeId ? { ...n, data: { ...n.data, params: setIn(n.data.params, path, value) } } : n,
      );
      setGraphState(nodes, get().edges);
    },

    setParams: (nodeId, params) => {
      get().commit();
      const nodes = get().nodes.map((n) =>
        n.id === nodeId ? { ...n, data: { ...n.data, params } } : n,
      );
      setGraphState(nodes, get().edges);
    },

    setLabel: (nodeId, label) => {
      get().commit(`label:${nodeId}`);
      const nodes = get().nodes.map((n) =>
        n.id === nodeId ? { ...n, data: { ...n.data, label } } : n,
      );
      setGraphState(nodes, get().edges);
    },

    setExposed: (nodeId, param, name) => {
      get().commit(`exposed:${nodeId}:${param}`);
      const nodes = get().nodes.map((n) => {
        if (n.id !== nodeId) return n;
        const exposed = { ...(n.data.exposed ?? {}) };
        if (name === null) delete exposed[param];
        else exposed[param] = name;
        const { exposed: _old, ...rest } = n.data;
        return { ...n, data: Object.keys(exposed).length ? { ...rest, exposed } : rest };
      });
      setGraphState(nodes, get().edges);
    },

    deleteNodes: (ids) => {
      if (!ids.length) return;
      const drop = new Set(ids);
      get().commit();
      setGraphState(
        get().nodes.filter((n) => !drop.has(n.id)),
        get().edges.filter((e) => !drop.has(e.source) && !drop.has(e.target)),
      );
    },

    deleteSelected: () => {
      const nodeIds = new Set(get().nodes.filter((n) => n.selected).map((n) => n.id));
      const edgeIds = new Set(get().edges.filter((e) => e.selected).map((e) => e.id));
      const notes = withoutSelectedAnnotations(get());
      if (!nodeIds.size && !edgeIds.size && !notes) return 0;
      get().commit();
      if (notes) set(notes.state);
      setGraphState(
        get().nodes.filter((n) => !nodeIds.has(n.id)),
        get().edges.filter(
          (e) => !edgeIds.has(e.id) && !nodeIds.has(e.source) && !nodeIds.has(e.target),
        ),
      );
      return nodeIds.size + edgeIds.size + (notes?.count ?? 0);
    },

    selectOnly: (ids) => {
      const want = new Set(ids);
      set({
        nodes: get().nodes.map((n) =>
          !!n.selected === want.has(n.id) ? n : { ...n, selected: want.has(n.id) },
        ),
        edges: get().edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        annotations: get().annotations.map((a) => (a.selected ? { ...a, selected: false } : a)),
      });
    },

    selectAll: () => {
      set({
        nodes: get().nodes.map((n) => (n.selected ? n : { ...n, selected: true })),
      });
    },

    copySelection: () => {
      const ids = new Set(get().nodes.filter((n) => n.selected).map((n) => n.id));
      if (!ids.size) return null;
      return structuredClone(subgraph(get().getGraph(), ids));
    },

    paste: (sub, at) => {
      if (!sub.nodes.length) return [];
      const known = sub.nodes.filter((n) => get().catalogue[n.operator]);
      if (!known.length) return [];
      get().commit();
      const offset = at ? pasteOffset(known, at) : freeOffset(known, get().nodes);
      const clone = cloneSubgraph(
        { nodes: known, edges: sub.edges },
        get().nodes.map((n) => n.id),
        offset,
      );
      const flow = toFlow(clone);
      for (const n of flow.nodes) n.selected = true;
      const nodes = get().nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
      setGraphState([...nodes, ...flow.nodes], [...get().edges, ...flow.edges]);
      return flow.nodes.map((n) => n.id);
    },

    duplicateSelection: (at) => {
      const sub = get().copySelection();
      return sub ? get().paste(sub, at) : [];
    },

    autoLayout: (sizes) => {
      const g = get().getGraph();
      if (!g.nodes.length) return;
      get().commit();
      const pos = layoutGraph(g, sizes);
      setGraphState(
        get().nodes.map((n) => ({ ...n, position: pos[n.id] ?? n.position })),
        get().edges,
      );
    },

    undo: () => {
      const r = undo(get().history, get().getSnapshot());
      if (!r) return;
      if (r.present.annotations) set(annotationsReplaced(r.present.annotations));
      const flow = toFlow(r.present);
      setGraphState(flow.nodes, flow.edges, { history: r.history, lastCommit: null });
    },

    redo: () => {
      const r = redo(get().history, get().getSnapshot());
      if (!r) return;
      if (r.present.annotations) set(annotationsReplaced(r.present.annotations));
      const flow = toFlow(r.present);
      setGraphState(flow.nodes, flow.edges, { history: r.history, lastCommit: null });
    },

    replaceGraph: (graph, opts = {}) => {
      if (opts.record ?? true) get().commit();
      const flow = toFlow(graph);
      setGraphState(flow.nodes, flow.edges, { lastCommit: null });
    },
  };
}

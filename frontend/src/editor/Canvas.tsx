import {
  Background,
  BackgroundVariant,
  ConnectionLineType,
  Controls,
  getBezierPath,
  getNodesBounds,
  MiniMap,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  useStore as useFlowStore,
  type Connection,
  type ConnectionLineComponentProps,
  type Edge,
  type FinalConnectionState,
  type InternalNode,
  type Node,
  type OnConnectEnd,
} from "@xyflow/react";
import { MousePointerClick } from "lucide-react";
import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type DragEvent,
  type MouseEvent as ReactMouseEvent,
  type MutableRefObject,
} from "react";
import type { Category } from "../api/types";
import { toast } from "../ui/toast";
import { useEditor, useEditorApi } from "./context";
import type { FlowEdge, OpNode } from "./graph";
import { nodeTypes } from "./nodeTypes";
import { DRAG_MIME } from "./Palette";
import type { EditorStore } from "./store";
import type { ConnectionCheck } from "./ports";
import { DEFAULT_NODE_SIZE, freeCorner, keepInView, viewportFor, type Corner } from "./layout";
import { isAnnotationNode, minimapColorOf } from "./annotations/annotations";
import { AnnotationTools } from "./annotations/AnnotationTools";
import { useAnnotationLayer, type CanvasNode } from "./annotations/useAnnotationLayer";

const CATEGORY_COLOR: Record<Category, string> = {
  connector: "#2563eb",
  transform: "#7c3aed",
  model: "#d97706",
  action: "#059669",
  pipeline: "#0e7490",
};

type HandleLike = { id?: string | null; type: "source" | "target" } | null;

/** Connection being dragged (from → to), put the right way round. */
export function orientConnection(
  fromNodeId: string,
  fromHandle: HandleLike,
  toNodeId: string | null | undefined,
  toHandle: HandleLike,
): Connection | null {
  if (!fromHandle || !toHandle || !toNodeId) return null;
  if (fromHandle.type === "source") {
    return {
      source: fromNodeId,
      sourceHandle: fromHandle.id ?? null,
      target: toNodeId,
      targetHandle: toHandle.id ?? null,
    };
  }
  return {
    source: toNodeId,
    sourceHandle: toHandle.id ?? null,
    target: fromNodeId,
    targetHandle: fromHandle.id ?? null,
  };
}

function explain(state: EditorStore, conn: Connection | null, sameKind: boolean): ConnectionCheck {
  if (sameKind) return { ok: false, reason: "Connect an output to an input." };
  if (!conn) return { ok: true };
  return state.checkConnection(conn);
}

function ConnectionLine({
  fromX,
  fromY,
  toX,
  toY,
  fromPosition,
  toPosition,
  fromNode,
  fromHandle,
  toNode,
  toHandle,
  connectionStatus,
}: ConnectionLineComponentProps<Node>) {
  const store = useEditorApi();
  const [path] = getBezierPath({
    sourceX: fromX,
    sourceY: fromY,
    sourcePosition: fromPosition,
    targetX: toX,
    targetY: toY,
    targetPosition: toPosition,
  });
  let reason: string | null = null;
  if (connectionStatus === "invalid" && toHandle) {
    const check = explain(
      store.getState(),
      orientConnection(fromNode.id, fromHandle, toNode?.id, toHandle),
      toHandle.type === fromHandle.type,
    );
    if (!check.ok) reason = check.reason;
  }
  const cls =
    connectionStatus === "invalid" ? "conn-invalid" : connectionStatus === "valid" ? "conn-valid" : "";
  return (
    <g className={`connection-line ${cls}`}>
      <path d={path} fill="none" className="connection-path" />
      <circle cx={toX} cy={toY} r={4} className="connection-end" />
      {reason && (
        <foreignObject x={toX + 12} y={toY - 34} width={260} height={60} style={{ overflow: "visible" }}>
          <div className="connection-reason" role="alert">
            {reason}
          </div>
        </foreignObject>
      )}
    </g>
  );
}

const MIN_READABLE_ZOOM = 0.62;

/**
 * Above this many nodes only the nodes and edges in view are in the DOM. Every node still
 * renders once to be measured; after that, moving one node no longer costs style, layout, paint
 * and hit testing over the whole graph. Small graphs keep every node in the DOM.
 */
export const RENDER_VISIBLE_ONLY_ABOVE = 150;

/**
 * Below this zoom a big graph's nodes show only their name, in large type (their details are
 * under 6 px there, unreadable); the box, its size, colours and edges stay. Painting the details
 * of every node in view was most of the cost of each frame of a drag.
 */
export const FAR_ZOOM = 0.45;
const selectFar = (s: { transform: [number, number, number] }) => s.transform[2] < FAR_ZOOM;

// Objects handed to React Flow are module constants: a fresh object on every render reaches its
// internal store and re-renders every edge (each edge reads defaultEdgeOptions).
const DEFAULT_EDGE_OPTIONS = { type: "default" } as const;
const FIT_VIEW_OPTIONS = { padding: 0.12, maxZoom: 1 } as const;
const PRO_OPTIONS = { hideAttribution: true } as const;
const MINIMAP_STYLE = { width: 144, height: 96 } as const;
const MULTI_SELECTION_KEYS = ["Meta", "Control"];

/** Where the pointer last was over the canvas (screen coordinates); null once it left. */
export type PointerRef = MutableRefObject<{ x: number; y: number } | null>;

type FlowState = {
  width: number;
  height: number;
  transform: [number, number, number];
  nodeLookup: Map<string, InternalNode>;
};

/**
 * The corner the minimap goes in: the first that covers no node on screen, or none (hidden) when
 * every corner has one. It moves out of the way rather than sit over a node.
 */
const selectMinimapCorner = (s: FlowState): Corner | null => {
  const [tx, ty, zoom] = s.transform;
  const rects = [];
  for (const n of s.nodeLookup.values()) {
    if (isAnnotationNode(n)) continue; // notes and frames are behind: the minimap may cover them
    const p = n.internals.positionAbsolute;
    rects.push({
      x: p.x * zoom + tx,
      y: p.y * zoom + ty,
      width: (n.measured.width ?? DEFAULT_NODE_SIZE.width) * zoom,
      height: (n.measured.height ?? DEFAULT_NODE_SIZE.height) * zoom,
    });
  }
  return freeCorner(rects, { width: s.width, height: s.height }, MINIMAP_STYLE);
};

const selectNodes = (s: EditorStore) => s.nodes;
const selectEdges = (s: EditorStore) => s.edges;
const selectNodeRuns = (s: EditorStore) => s.nodeRuns;

export function Canvas({
  onAddAt,
  pointerRef,
}: {
  onAddAt: (operator: string, pos: { x: number; y: number }) => void;
  pointerRef?: PointerRef;
}) {
  const store = useEditorApi();
  const nodes = useEditor(selectNodes);
  const rawEdges = useEditor(selectEdges);
  const nodeRuns = useEditor(selectNodeRuns);
  // The operator nodes with the notes and frames behind them; their changes are split again.
  const layer = useAnnotationLayer(nodes);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const empty = nodes.length === 0;
  const big = nodes.length > RENDER_VISIBLE_ONLY_ABOVE;
  const far = useFlowStore(selectFar) && big;
  const { screenToFlowPosition, getNodes, setViewport, getViewport } = useReactFlow();
  const minimapCorner = useFlowStore(selectMinimapCorner);
  const containerRef = useRef<HTMLDivElement>(null);
  const initialized = useNodesInitialized();
  // An empty pipeline is never fitted: the first node dropped on it stays where it was dropped.
  const didFit = useRef(empty);
  // The first view is in place (data-ready on the canvas; benchmarks and tests wait for it).
  const [placed, setPlaced] = useState(false);
  const flow = useRef({ getNodes, getViewport, setViewport });
  flow.current = { getNodes, getViewport, setViewport };
  const pane = useRef<{ width: number; height: number } | null>(null);

  // The minimap only where there is room for it beside the graph.
  const [roomy, setRoomy] = useState(true);
  useEffect(() => {
    const el = containerRef.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      setRoomy(height >= 440 && width >= 520);
      const before = pane.current;
      pane.current = { width, height };
      // A panel or the output drawer opened or closed: a graph that was wholly in view stays so
      // (panned, or zoomed out only as far as needed).
      const all = flow.current.getNodes();
      if (!before || !didFit.current || !all.length || all.length > RENDER_VISIBLE_ONLY_ABOVE) return;
      const bounds = getNodesBounds(all);
      const view = flow.current.getViewport();
      if (keepInView(bounds, view, before, 0)) return; // it was not wholly in view before
      const next = keepInView(bounds, view, { width, height });
      if (next) void flow.current.setViewport(next);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // First view: the whole graph (a big one: its start, pipelines flow left to right, at a
  // readable zoom). The fit-view control still shows everything.
  useEffect(() => {
    if (!initialized || didFit.current) return;
    const el = containerRef.current;
    const all = getNodes();
    if (!el || !all.length) return;
    didFit.current = true;
    setPlaced(true);
    const { width, height } = el.getBoundingClientRect();
    const b = getNodesBounds(all);
    if (all.length <= RENDER_VISIBLE_ONLY_ABOVE) {
      void setViewport(viewportFor(b, { width, height }, { pad: 48, minZoom: 0 }));
      return;
    }
    const pad = 48;
    const fit = Math.min(1, (width - 2 * pad) / b.width, (height - 2 * pad) / b.height);
    if (fit >= MIN_READABLE_ZOOM) {
      void setViewport(viewportFor(b, { width, height }, { pad }));
    } else {
      const zoom = Math.max(0.3, Math.min(MIN_READABLE_ZOOM, (height - 2 * pad) / b.height));
      void setViewport({ x: pad - b.x * zoom, y: (height - b.height * zoom) / 2 - b.y * zoom, zoom });
    }
  }, [initialized, getNodes, setViewport]);

  // Edges into a running node are animated; edges feeding a failed node are marked.
  const edges = useMemo<FlowEdge[]>(
    () =>
      rawEdges.map((e) => {
        const st = nodeRuns[e.target]?.status;
        const src = nodeRuns[e.source]?.status;
        const animated = st === "running" || (src === "running" && st === "queued");
        const className = st === "failed" ? "edge-failed" : src === "succeeded" ? "edge-done" : undefined;
        return animated || className ? { ...e, animated, className } : e;
      }),
    [rawEdges, nodeRuns],
  );

  const isValidConnection = useCallback(
    (conn: Edge | Connection) => store.getState().checkConnection(conn as Connection).ok,
    [store],
  );

  const onConnect = useCallback(
    (conn: Connection) => {
      const check = store.getState().connect(conn);
      if (!check.ok) toast(check.reason, "error");
    },
    [store],
  );

  const onConnectEnd: OnConnectEnd = useCallback(
    (_event, state: FinalConnectionState<InternalNode>) => {
      if (state.isValid !== false || !state.toHandle || !state.fromHandle || !state.fromNode) return;
      const check = explain(
        store.getState(),
        orientConnection(state.fromNode.id, state.fromHandle, state.toNode?.id, state.toHandle),
        state.toHandle.type === state.fromHandle.type,
      );
      if (!check.ok) toast(check.reason, "error");
    },
    [store],
  );

  const onNodeDragStart = useCallback(() => store.getState().commit(), [store]);

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const name = e.dataTransfer.getData(DRAG_MIME);
      if (!name) return;
      e.preventDefault();
      // The node is centred where it was dropped.
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      onAddAt(name, {
        x: Math.round(p.x - DEFAULT_NODE_SIZE.width / 2),
        y: Math.round(p.y - DEFAULT_NODE_SIZE.height / 2),
      });
    },
    [screenToFlowPosition, onAddAt],
  );

  const onPointerMove = useCallback(
    (e: ReactMouseEvent) => {
      if (pointerRef) pointerRef.current = { x: e.clientX, y: e.clientY };
    },
    [pointerRef],
  );
  const onPointerLeave = useCallback(() => {
    if (pointerRef) pointerRef.current = null;
  }, [pointerRef]);

  const minimapColor = useCallback(
    (n: Node) => {
      const note = minimapColorOf(n);
      if (note) return note;
      const op = store.getState().catalogue[(n as OpNode).data?.operator];
      return op ? CATEGORY_COLOR[op.category] : "#94a3b8";
    },
    [store],
  );

  return (
    <div
      className={far ? "canvas canvas-far" : "canvas"}
      onDragOver={onDragOver}
      onDrop={onDrop}
      data-testid="canvas"
      data-ready={empty || placed ? "true" : undefined}
      ref={containerRef}
      onMouseMove={onPointerMove}
      onMouseLeave={onPointerLeave}
    >
      <ReactFlow<CanvasNode, FlowEdge>
        nodes={layer.nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={layer.onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={onNodeDragStart}
        onSelectionDragStart={onNodeDragStart}
        connectionLineComponent={ConnectionLine}
        connectionLineType={ConnectionLineType.Bezier}
        connectionRadius={24}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={MULTI_SELECTION_KEYS}
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        fitViewOptions={FIT_VIEW_OPTIONS}
        minZoom={0.2}
        maxZoom={2}
        proOptions={PRO_OPTIONS}
        onlyRenderVisibleElements={big}
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1.2} color="#cbd5e1" />
        <Controls position="bottom-left" showInteractive={false} />
        <AnnotationTools />
        {roomy && minimapCorner && (
        <MiniMap
          position={minimapCorner}
          style={MINIMAP_STYLE}
          pannable
          zoomable
          nodeColor={minimapColor}
          nodeStrokeWidth={0}
          nodeBorderRadius={6}
          maskColor="rgba(241, 245, 249, 0.7)"
        />
        )}
      </ReactFlow>
      {empty && (
        <div className="canvas-empty">
          <MousePointerClick size={28} />
          <p>
            <strong>Start by adding a connector.</strong>
            <br />
            Drag an operator from the left onto the canvas, or click it.
          </p>
        </div>
      )}
    </div>
  );
}

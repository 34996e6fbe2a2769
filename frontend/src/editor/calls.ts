// Nodes that call another pipeline ("pipeline.call"): their ports (the called pipeline's input
// and output markers), their params, and their status in a run, where the called nodes run as
// "<node>.<inner id>". Pure helpers, no React.
import type {
  CallablePipeline,
  CallInterface,
  GraphNode,
  NodeRun,
  NodeStatus,
  PortSpec,
} from "../api/types";

export const CALL = "pipeline.call";
export const LATEST = "latest";
/** What the palette hands the canvas for a pipeline to call: "pipeline.call#<id>". */
export const CALL_PREFIX = `${CALL}#`;
/** The separator of a called node's id in a run: "n7.n2" is n2 of the pipeline n7 calls. */
export const SEP = ".";

export interface CallParams {
  pipeline: string;
  version: string;
  params: Record<string, unknown>;
}

export function callParams(params: Record<string, unknown>): CallParams {
  const values = params.params;
  return {
    pipeline: typeof params.pipeline === "string" ? params.pipeline : "",
    version: typeof params.version === "string" ? params.version : LATEST,
    params: values && typeof values === "object" ? (values as Record<string, unknown>) : {},
  };
}

type Shape = Pick<CallInterface, "inputs" | "outputs">;

/** A calling node's ports: what validation says it calls, else the palette's entry for the
 * pipeline (a node just dropped, before the first validation). */
export function callShape(
  node: Pick<GraphNode, "params">,
  validated: CallInterface | undefined,
  callables: readonly CallablePipeline[],
): Shape | undefined {
  if (validated) return validated;
  const { pipeline } = callParams(node.params);
  return callables.find((c) => c.id === pipeline);
}

export function callPorts(shape: Shape | undefined): { inputs: PortSpec[]; outputs: PortSpec[] } {
  const port = (p: Shape["inputs"][number]): PortSpec => ({
    name: p.name,
    type: p.type,
    label: p.name,
    optional: false,
  });
  return { inputs: (shape?.inputs ?? []).map(port), outputs: (shape?.outputs ?? []).map(port) };
}

/** The node a palette entry adds: the pipeline's current version pinned, no param set. */
export function callNode(c: Pick<CallablePipeline, "id" | "version" | "name">): {
  params: CallParams;
  label: string;
} {
  return { params: { pipeline: c.id, version: c.version, params: {} }, label: c.name };
}

/** The run's nodes that a calling node expanded into (at any depth). */
export function innerRuns(nodeRuns: Record<string, NodeRun>, id: string): NodeRun[] {
  const prefix = id + SEP;
  return Object.values(nodeRuns)
    .filter((r) => r.node_id.startsWith(prefix))
    .sort((a, b) => (a.node_id < b.node_id ? -1 : 1));
}

export interface CallProgress {
  status: NodeStatus | undefined;
  done: number;
  total: number;
}

/** A calling node's status from its called nodes': failed if one failed, running while one
 * runs (or some are done and others queued), succeeded once all are; the count of those done. */
export function callProgress(runs: readonly NodeRun[]): CallProgress {
  const total = runs.length;
  if (!total) return { status: undefined, done: 0, total: 0 };
  const count = (s: NodeStatus) => runs.filter((r) => r.status === s).length;
  const done = count("succeeded");
  const order: NodeStatus[] = ["failed", "waiting", "running"];
  let status: NodeStatus | undefined = order.find((s) => count(s) > 0);
  if (!status) {
    if (done === total) status = "succeeded";
    else if (count("queued") > 0) status = done > 0 ? "running" : "queued";
    else if (count("cancelled") > 0) status = "cancelled";
    else if (count("skipped") + done === total) status = done ? "succeeded" : "skipped";
    else status = done > 0 ? "running" : "pending";
  }
  return { status, done, total };
}

/** "Top spenders v3" / "Top spenders · always latest (v4)". */
export function versionLabel(info: Pick<CallInterface, "name" | "number">, latest: boolean): string {
  return latest ? `${info.name} · always latest (v${info.number})` : `${info.name} v${info.number}`;
}

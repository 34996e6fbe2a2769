// The template gallery's logic, pure: the picture of a template's graph, the name a new
// pipeline gets, the connections a template's needs can use, and how it is started.
import type { Connection, Template, TemplateNeed } from "../../api/types";
import { describeCron } from "../cron";

/** A node's box in the picture, in canvas units (a canvas node is 204 px wide). */
export const THUMB_NODE = { width: 180, height: 60 };
const PAD = 30;

export type NodeCategory = "connector" | "transform" | "model" | "action" | "other";

export interface ThumbnailNode {
  id: string;
  x: number;
  y: number;
  category: NodeCategory;
  title: string;
}

export interface Thumbnail {
  viewBox: string;
  nodes: ThumbnailNode[];
  /** SVG path data, one curve per edge between two drawn nodes. */
  edges: string[];
}

interface OutlineNode {
  id: string;
  operator: string;
  label?: string;
  position?: { x?: number; y?: number } | null;
}

interface Outline {
  nodes: OutlineNode[];
  edges: { source: string; target: string }[];
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export function categoryOf(operator: string): NodeCategory {
  const prefix = operator.split(".", 1)[0];
  return prefix === "connector" || prefix === "transform" || prefix === "model" || prefix === "action"
    ? prefix
    : "other";
}

/**
 * The picture of a graph from its node positions: each node a box at its canvas position,
 * each edge a curve from the right side of its source to the left side of its target, and a
 * viewBox around them all (an empty graph gets a small empty one).
 */
export function thumbnailOf(graph: Outline): Thumbnail {
  const nodes: ThumbnailNode[] = graph.nodes.map((n) => ({
    id: n.id,
    x: num(n.position?.x),
    y: num(n.position?.y),
    category: categoryOf(n.operator),
    title: n.label || n.operator,
  }));
  if (nodes.length === 0) return { viewBox: "0 0 200 100", nodes, edges: [] };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: string[] = [];
  for (const e of graph.edges) {
    const a = byId.get(e.source);
    const b = byId.get(e.target);
    if (!a || !b) continue;
    const x1 = a.x + THUMB_NODE.width;
    const y1 = a.y + THUMB_NODE.height / 2;
    const x2 = b.x;
    const y2 = b.y + THUMB_NODE.height / 2;
    const bend = Math.max(40, Math.abs(x2 - x1) / 2);
    edges.push(`M${x1} ${y1} C${x1 + bend} ${y1} ${x2 - bend} ${y2} ${x2} ${y2}`);
  }
  const left = Math.min(...nodes.map((n) => n.x)) - PAD;
  const top = Math.min(...nodes.map((n) => n.y)) - PAD;
  const right = Math.max(...nodes.map((n) => n.x)) + THUMB_NODE.width + PAD;
  const bottom = Math.max(...nodes.map((n) => n.y)) + THUMB_NODE.height + PAD;
  return { viewBox: `${left} ${top} ${right - left} ${bottom - top}`, nodes, edges };
}

/** `name`, or "name (2)", "name (3)", … : the first one no pipeline of the workspace has. */
export function uniqueName(name: string, taken: Iterable<string>): string {
  const names = new Set(taken);
  if (!names.has(name)) return name;
  for (let n = 2; n < 1000; n++) {
    const suffix = ` (${n})`;
    const candidate = name.slice(0, 200 - suffix.length) + suffix;
    if (!names.has(candidate)) return candidate;
  }
  return name;
}

/** The workspace's connections that meet a template's need, by name. */
export function connectionsFor(need: TemplateNeed, connections: readonly Connection[]): Connection[] {
  return connections
    .filter((c) => need.kinds.includes(c.kind))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The connection chosen for each need: the one picked, else the first that meets it; a
 * need that no connection meets is listed in `missing` (the template cannot be used yet).
 */
export function chooseConnections(
  template: Pick<Template, "needs">,
  connections: readonly Connection[],
  picked: Record<string, string>,
): { chosen: Record<string, string>; missing: TemplateNeed[] } {
  const chosen: Record<string, string> = {};
  const missing: TemplateNeed[] = [];
  for (const need of template.needs) {
    const options = connectionsFor(need, connections);
    const pick = options.find((c) => c.id === picked[need.kind]) ?? options[0];
    if (pick) chosen[need.kind] = pick.id;
    else missing.push(need);
  }
  return { chosen, missing };
}

/** How a template's pipeline is started, in words (null: by hand). */
export function describeTrigger(trigger: Template["trigger"]): string | null {
  if (!trigger) return null;
  if (trigger.kind === "webhook") return "Started by its webhook URL (create it on the dashboard)";
  const when = trigger.cron ? describeCron(trigger.cron) ?? trigger.cron : "on a schedule";
  return `${when} (UTC), schedule created paused`;
}

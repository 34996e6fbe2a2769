// The run timeline: one row per node, time in the queue (queued_at → started_at) apart from
// time executing (started_at → finished_at), as percentages of the run's span. Pure.
import type { NodeRun, NodeStatus } from "../../api/types";

export interface Bar {
  /** Percent of the span from its start. */
  left: number;
  width: number;
  ms: number;
}

export interface GanttRow {
  node_id: string;
  operator: string;
  status: NodeStatus;
  cached: boolean;
  wait: Bar | null;
  exec: Bar | null;
  /** Still open: the bar grows with the clock. */
  live: boolean;
}

export interface Gantt {
  start: number;
  end: number;
  span: number;
  rows: GanttRow[];
  ticks: { left: number; label: string }[];
}

const t = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const v = Date.parse(iso);
  return isNaN(v) ? null : v;
};

/** A bar's place; bars too short to see still get a sliver. */
function bar(a: number, b: number, start: number, span: number): Bar {
  const left = ((a - start) / span) * 100;
  const width = Math.max(((Math.max(b, a) - a) / span) * 100, 0);
  return { left: clamp(left, 0, 100), width: Math.min(width, 100 - clamp(left, 0, 100)), ms: Math.max(0, b - a) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export interface WindowOpts {
  runStart?: string | null;
  runEnd?: string | null;
  now?: number;
}

/** The run's time window: from the first node queued (or the run's start) to its end, or
 * to now while a node is open. The one computation of a run's duration: the timeline draws
 * it and the run page's header says it (the server's duration_ms is the same span). */
export function runWindow(nodes: readonly NodeRun[], opts: WindowOpts = {}): { start: number; end: number } {
  const now = opts.now ?? Date.now();
  const times: number[] = [];
  for (const n of nodes) {
    for (const v of [t(n.queued_at), t(n.started_at), t(n.finished_at)]) if (v !== null) times.push(v);
  }
  const runStart = t(opts.runStart);
  if (runStart !== null) times.push(runStart);
  const open = nodes.some((n) => isOpen(n.status) && (n.queued_at || n.started_at));
  const runEnd = t(opts.runEnd);
  const start = times.length ? Math.min(...times) : now;
  let end = times.length ? Math.max(...times) : now;
  if (open) end = Math.max(end, now);
  if (runEnd !== null) end = Math.max(end, runEnd);
  return { start, end };
}

/** How long the run took (or has taken so far); null before it started. */
export function runDuration(
  run: { status: string; nodes: readonly NodeRun[]; started_at: string | null; finished_at: string | null },
  now?: number,
): number | null {
  if (!run.started_at && !run.finished_at) return null;
  const { start, end } = runWindow(run.nodes, { runStart: run.started_at, runEnd: run.finished_at, now });
  return Math.max(0, end - start);
}

export function computeGantt(nodes: readonly NodeRun[], opts: WindowOpts = {}): Gantt {
  const now = opts.now ?? Date.now();
  const { start, end } = runWindow(nodes, opts);
  const span = Math.max(end - start, 1);

  const rows = nodes.map((n): GanttRow => {
    const q = t(n.queued_at);
    const s = t(n.started_at);
    const f = t(n.finished_at);
    const live = isOpen(n.status);
    let wait: Bar | null = null;
    let exec: Bar | null = null;
    if (n.cached) {
      // Reused output: no queue, no work; a marker where the run picked it up.
      const at = s ?? q ?? start;
      exec = bar(at, at, start, span);
    } else {
      if (q !== null) {
        const waitEnd = s ?? (n.status === "queued" ? now : f ?? q);
        if (waitEnd > q || n.status === "queued") wait = bar(q, waitEnd, start, span);
      }
      if (s !== null) exec = bar(s, f ?? (live ? now : s), start, span);
    }
    return { node_id: n.node_id, operator: n.operator, status: n.status, cached: n.cached, wait, exec, live };
  });
  rows.sort((a, b) => firstLeft(a) - firstLeft(b));
  return { start, end, span, rows, ticks: ticks(span) };
}

function firstLeft(r: GanttRow): number {
  return r.wait?.left ?? r.exec?.left ?? 101;
}

function isOpen(status: NodeStatus): boolean {
  return status === "queued" || status === "running" || status === "waiting";
}

const STEPS = [10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000,
  120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000];

/** About five round-numbered ticks across the span. */
export function ticks(span: number): { left: number; label: string }[] {
  const step = STEPS.find((s) => span / s <= 6) ?? Math.ceil(span / 6);
  const out: { left: number; label: string }[] = [];
  for (let ms = 0; ms <= span + 1e-9; ms += step) {
    out.push({ left: (ms / span) * 100, label: tickLabel(ms, step, span) });
  }
  return out;
}

/** A tick's label in the unit that suits the whole span (ms below a second, then s, min, h). */
export function tickLabel(ms: number, step: number, span = step): string {
  if (ms === 0) return "0";
  if (span < 1000) return `${ms} ms`;
  if (step < 60_000) return `${+(ms / 1000).toFixed(step % 1000 ? 1 : 0)} s`;
  if (step < 3_600_000) return `${+(ms / 60_000).toFixed(step % 60_000 ? 1 : 0)} min`;
  return `${+(ms / 3_600_000).toFixed(1)} h`;
}

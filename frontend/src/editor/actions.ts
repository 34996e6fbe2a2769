// Editor operations that talk to the server. They take the store, not React state.
import type { StoreApi } from "zustand";
import { ApiError, errorMessage } from "../api/client";
import { startRunMutation, updatePipelineMutation } from "../api/queries";
import { queryClient } from "../api/queryClient";
import type { Graph, GraphError, Run } from "../api/types";
import { elapsed, formatDuration } from "../lib/format";
import { toast } from "../ui/toast";
import { clearDraft } from "./drafts";
import { canonicalAnnotations } from "./annotations/annotations";
import { canonicalGraph, parseGraph } from "./graph";
import { cancelRunMutation, invalidateAfterRun, mutate, startPartialRunMutation, type RunScope } from "./queries";
import { isRunActive } from "./runState";
import type { EditorStore } from "./store";

export function graphErrorsOf(err: unknown): GraphError[] | null {
  if (!(err instanceof ApiError)) return null;
  const errors = err.extra?.errors;
  if (!Array.isArray(errors)) return null;
  return errors.map((e) => {
    const o = (e ?? {}) as Record<string, unknown>;
    return {
      node: typeof o.node === "string" ? o.node : o.node == null ? null : String(o.node),
      field: typeof o.field === "string" ? o.field : null,
      message: typeof o.message === "string" ? o.message : String(o.message ?? "Invalid"),
    };
  });
}

/**
 * Save the graph and the annotations (notes, frames) in one PATCH. Only what changed is sent:
 * annotations alone leave the graph, its version and every cached output as they are.
 * Returns true when the server has it.
 */
export async function savePipeline(
  store: StoreApi<EditorStore>,
  opts: { quiet?: boolean } = {},
): Promise<boolean> {
  const s = store.getState();
  if (s.saving) return false;
  const graph = s.getGraph();
  const annotations = s.getAnnotations();
  // Worked out afresh: the keys lag behind a drag that is under way.
  const notesChanged = canonicalAnnotations(annotations) !== s.savedAnnotationsKey;
  const sendGraph = canonicalGraph(graph) !== s.savedKey || !notesChanged;
  s.setSaving(true);
  try {
    const p = await mutate(updatePipelineMutation, {
      id: s.pipelineId,
      ...(sendGraph ? { graph } : {}),
      ...(notesChanged ? { annotations } : {}),
    });
    // An unchanged graph is the saved one: the graph and annotations sent are what the server has.
    store.getState().markSaved(p, graph, annotations);
    if (!store.getState().dirty) clearDraft(s.pipelineId);
    if (!opts.quiet) toast("Saved.", "success", 2000);
    return true;
  } catch (err) {
    const errors = graphErrorsOf(err);
    if (errors) {
      store.getState().setErrors(errors);
      const n = errors.length;
      toast(
        `Not saved: ${err instanceof Error ? err.message : "the graph is invalid"}${
          n ? ` (${n} problem${n === 1 ? "" : "s"})` : ""
        }`,
        "error",
        6000,
      );
    } else {
      toast(`Not saved: ${errorMessage(err)}`, "error", 6000);
    }
    return false;
  } finally {
    store.getState().setSaving(false);
  }
}

/**
 * Save if need be, then run; `force` recomputes every node instead of reusing cached outputs,
 * `fullRefresh` has the sources read everything again (their cursors start over).
 * With a `target`, a partial run: up to that node (`scope` "upstream") or that node alone.
 */
export async function startRun(
  store: StoreApi<EditorStore>,
  opts: { force?: boolean; fullRefresh?: boolean; target?: string; scope?: RunScope } = {},
): Promise<Run | null> {
  const s = store.getState();
  if (isRunActive(s.run)) return null;
  if (!s.nodes.length) {
    toast("Add some operators before running the pipeline.", "info");
    return null;
  }
  if (s.dirty) {
    const ok = await savePipeline(store, { quiet: true });
    if (!ok) return null;
  }
  try {
    const run = opts.target
      ? await mutate(startPartialRunMutation, {
          pipeline: s.pipelineId,
          target: opts.target,
          scope: opts.scope ?? "upstream",
          force: opts.force,
        })
      : await mutate(startRunMutation, { pipeline: s.pipelineId, force: opts.force, fullRefresh: opts.fullRefresh });
    store.getState().setRun(run);
    // Everything cached: the run may be over before anyone could watch it.
    if (!isRunActive(run)) runEnded(run);
    return run;
  } catch (err) {
    const errors = graphErrorsOf(err);
    if (errors) store.getState().setErrors(errors);
    toast(`Could not start the run: ${errorMessage(err)}`, "error", 6000);
    return null;
  }
}

/** A run the editor follows has ended: say how, and refresh what it changed. */
export function runEnded(run: Run): void {
  announceRun(run);
  void invalidateAfterRun(queryClient);
}

function announceRun(run: Run): void {
  const took = formatDuration(elapsed(run.started_at ?? run.created_at, run.finished_at));
  if (run.status === "succeeded") toast(`Run succeeded${took ? ` in ${took}` : ""}.`, "success", 4000, "run");
  else if (run.status === "failed") toast(`Run failed${run.error ? `: ${run.error}` : "."}`, "error", 8000, "run");
  else if (run.status === "cancelled") toast("Run cancelled.", "info", 4000, "run");
}

export async function cancelRun(store: StoreApi<EditorStore>): Promise<void> {
  const run = store.getState().run;
  if (!run || !isRunActive(run)) return;
  try {
    await mutate(cancelRunMutation, String(run.id));
    toast("Cancelling the run…", "info", 4000, "run");
  } catch (err) {
    toast(`Could not cancel: ${errorMessage(err)}`, "error");
  }
}

export function exportGraph(store: StoreApi<EditorStore>): void {
  const s = store.getState();
  const data = { name: s.name, description: s.description, graph: s.getGraph() };
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `${slug(s.name) || "pipeline"}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function importGraphFile(store: StoreApi<EditorStore>, file: File): Promise<void> {
  let graph: Graph;
  try {
    graph = parseGraph(JSON.parse(await file.text()));
  } catch (err) {
    toast(`Cannot import ${file.name}: ${errorMessage(err)}`, "error", 6000);
    return;
  }
  const catalogue = store.getState().catalogue;
  const unknown = [...new Set(graph.nodes.map((n) => n.operator).filter((o) => !catalogue[o]))];
  store.getState().replaceGraph(graph);
  if (unknown.length) {
    toast(`Imported, but these operators are not installed: ${unknown.join(", ")}.`, "error", 6000);
  } else {
    toast(`Imported ${graph.nodes.length} nodes. Save to keep them.`, "success");
  }
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

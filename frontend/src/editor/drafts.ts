// Unsaved edits kept in localStorage, so a reload or a crash loses nothing.
import type { Annotation, Graph } from "../api/types";
import { safeGet, safeRemove, safeSet } from "../lib/session";

export interface Draft {
  graph: Graph;
  /** The notes and frames (absent from drafts written before there were any). */
  annotations?: Annotation[];
  /** The version the edits started from. */
  baseVersion: string;
  savedAt: string;
}

export function draftKey(pipelineId: string): string {
  return `datagran:draft:${pipelineId}`;
}

export function loadDraft(pipelineId: string): Draft | null {
  const raw = safeGet(draftKey(pipelineId));
  if (!raw) return null;
  try {
    const d = JSON.parse(raw) as Draft;
    if (!d || !d.graph || !Array.isArray(d.graph.nodes)) return null;
    return d;
  } catch {
    return null;
  }
}

export function saveDraft(
  pipelineId: string,
  graph: Graph,
  baseVersion: string,
  annotations?: Annotation[],
): void {
  const d: Draft = { graph, annotations, baseVersion, savedAt: new Date().toISOString() };
  safeSet(draftKey(pipelineId), JSON.stringify(d));
}

export function clearDraft(pipelineId: string): void {
  safeRemove(draftKey(pipelineId));
}

// Pure helpers of the datasets screen: the API lists versions; the screen shows datasets
// (a name) with their versions.
import type { Dataset } from "../../api/types";

export interface PipelineRef {
  id: string;
  name: string;
}

export interface DatasetGroup {
  name: string;
  latest: Dataset;
  /** Newest first. */
  versions: Dataset[];
  /** The pipelines reading any version, each once. */
  usedBy: PipelineRef[];
}

export function groupDatasets(list: Dataset[]): DatasetGroup[] {
  const byName = new Map<string, Dataset[]>();
  for (const d of list) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
  const groups = [...byName].map(([name, versions]): DatasetGroup => {
    versions.sort((a, b) => b.version - a.version);
    const seen = new Map<string, PipelineRef>();
    for (const v of versions) for (const p of v.used_by) seen.set(p.id, p);
    return { name, latest: versions[0], versions, usedBy: [...seen.values()] };
  });
  return groups.sort((a, b) => Date.parse(b.latest.created_at) - Date.parse(a.latest.created_at));
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !isFinite(n) || n < 0) return "";
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${u === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${UNITS[u]}`;
}

/** What an upload did, in a sentence. */
export function uploadOutcome(d: Dataset & { unchanged: boolean }): string {
  if (d.unchanged) return `Unchanged: version ${d.version} of ${d.name} already has this content.`;
  return d.version === 1 ? `New dataset ${d.name}.` : `Version ${d.version} of ${d.name}.`;
}

/** The files of a drop (only files: dragged text or links are ignored). */
export function droppedFiles(dt: DataTransfer | null): File[] {
  if (!dt) return [];
  return Array.from(dt.files ?? []);
}

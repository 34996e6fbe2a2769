// The workspace's datasets, connections and registered models, as the pickers offer them.
import { useEffect, useState } from "react";
import { api, errorMessage, getApiWorkspace } from "../../api/client";
import type { Dataset } from "../../api/types";

let datasetCache: Promise<Dataset[]> | null = null;
let datasetCacheWorkspace: string | null = null;
const datasetListeners = new Set<(list: Dataset[]) => void>();

function loadDatasets(force = false): Promise<Dataset[]> {
  if (!datasetCache || force || datasetCacheWorkspace !== getApiWorkspace()) {
    datasetCacheWorkspace = getApiWorkspace();
    datasetCache = api.datasets().catch((err) => {
      datasetCache = null;
      throw err;
    });
    datasetCache.then((list) => datasetListeners.forEach((l) => l(list))).catch(() => {});
  }
  return datasetCache;
}

export function resetDatasetCache(): void {
  datasetCache = null;
}

export function useDatasets(): { list: Dataset[] | null; error: string | null; reload: () => void } {
  const [list, setList] = useState<Dataset[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const l = (d: Dataset[]) => live && setList(d);
    datasetListeners.add(l);
    loadDatasets()
      .then(l)
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
      datasetListeners.delete(l);
    };
  }, []);
  return { list, error, reload: () => void loadDatasets(true).catch(() => {}) };
}

export type ResourceKind = "connections" | "models";
export interface ResourceOption {
  value: string;
  label: string;
  kind?: string;
}

const resourceCache = new Map<string, Promise<ResourceOption[]>>();

function loadResource(resource: ResourceKind): Promise<ResourceOption[]> {
  const key = `${resource}:${getApiWorkspace() ?? ""}`;
  let p = resourceCache.get(key);
  if (!p) {
    p =
      resource === "connections"
        ? api.connections().then((l) => l.map((c) => ({ value: String(c.id), label: c.name, kind: c.kind })))
        : api.models().then((l) => l.map((m) => ({ value: m.name, label: m.name })));
    p.catch(() => resourceCache.delete(key));
    resourceCache.set(key, p);
  }
  return p;
}

export function useResourceOptions(
  resource: ResourceKind,
  kinds: string[] | undefined,
): { options: ResourceOption[] | null; error: string | null } {
  const [options, setOptions] = useState<ResourceOption[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadResource(resource)
      .then((l) => live && setOptions(l.filter((o) => !kinds?.length || !o.kind || kinds.includes(o.kind))))
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [resource, kinds]);
  return { options, error };
}

// The workspace's datasets, connections and registered models, as the pickers offer them. They
// come from the app's query cache, so a dataset uploaded, a connection created or a model
// registered anywhere in the session shows here without a reload.
import { useMemo } from "react";
import { errorMessage } from "../../api/client";
import { useConnectionsQuery, useDatasetsQuery, useModelsQuery } from "../../api/queries";
import type { Dataset } from "../../api/types";

export interface ResourceOption {
  value: string;
  label: string;
  kind?: string;
}

export interface ResourceList<T> {
  /** null while loading. */
  list: T[] | null;
  error: string | null;
}

export function useDatasets(): ResourceList<Dataset> {
  const q = useDatasetsQuery();
  return { list: q.data ?? null, error: q.error ? errorMessage(q.error) : null };
}

/** The workspace's connections of some kinds (all kinds when none are given). */
export function useConnectionOptions(kinds: readonly string[] | undefined): ResourceList<ResourceOption> {
  const q = useConnectionsQuery();
  const list = useMemo(
    () =>
      q.data
        ?.map((c) => ({ value: String(c.id), label: c.name, kind: c.kind }))
        .filter((o) => !kinds?.length || !o.kind || kinds.includes(o.kind)) ?? null,
    [q.data, kinds],
  );
  return { list, error: q.error ? errorMessage(q.error) : null };
}

/** The workspace's registered models, by name. */
export function useModelOptions(): ResourceList<ResourceOption> {
  const q = useModelsQuery();
  const list = useMemo(() => q.data?.map((m) => ({ value: m.name, label: m.name })) ?? null, [q.data]);
  return { list, error: q.error ? errorMessage(q.error) : null };
}

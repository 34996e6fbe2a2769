import { useCallback, useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { OperatorSpec, Pipeline } from "../api/types";

/** The workspace's pipelines (for names and pickers); null while loading. */
export function usePipelines(workspaceId: string | null): {
  pipelines: Pipeline[] | null;
  byId: Record<string, Pipeline>;
  error: string | null;
  reload: () => void;
} {
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    api
      .pipelines()
      .then((list) => {
        setPipelines(list);
        setError(null);
      })
      .catch((err) => setError(errorMessage(err)));
  }, []);
  useEffect(() => {
    setPipelines(null);
    reload();
  }, [reload, workspaceId]);
  const byId: Record<string, Pipeline> = {};
  for (const p of pipelines ?? []) byId[String(p.id)] = p;
  return { pipelines, byId, error, reload };
}

let operatorsPromise: Promise<OperatorSpec[]> | null = null;

/** The operator catalogue, fetched once per page load. */
export function useOperators(): Record<string, OperatorSpec> {
  const [ops, setOps] = useState<Record<string, OperatorSpec>>({});
  useEffect(() => {
    let alive = true;
    operatorsPromise ??= api.operators().catch((err) => {
      operatorsPromise = null;
      throw err;
    });
    operatorsPromise
      .then((list) => {
        if (alive) setOps(Object.fromEntries(list.map((o) => [o.name, o])));
      })
      .catch(() => {});
    return () => {
      alive = false;
    };
  }, []);
  return ops;
}

/** `fn` at most once per `ms`, trailing: bursts of events cost one refetch. */
export function useDebounced(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef(0);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => ref.current(), ms);
  }, [ms]);
}

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Datagran` : "Datagran";
  }, [title]);
}

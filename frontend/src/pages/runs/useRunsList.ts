// The runs list as the runs page shows it: the first page for the filters, more pages on
// demand, and the workspace's run events merged in live (new runs flash, unplaceable ones
// are counted so the page can offer a refresh).
import { useCallback, useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../../api/client";
import type { LiveRunRow, Pipeline } from "../../api/types";
import { useWorkspaceRuns } from "../live";
import { mergeRunEvent, type RunFilters } from "./runsQuery";

export function useRunsList(
  workspaceId: string | null,
  filters: RunFilters,
  apiQuery: string,
  byId: Record<string, Pipeline>,
) {
  const [runs, setRuns] = useState<LiveRunRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [missed, setMissed] = useState(0);
  const [fresh, setFresh] = useState<Set<string>>(() => new Set());
  const request = useRef(0);

  const load = useCallback(() => {
    const id = ++request.current;
    setLoading(true);
    api
      .runs(apiQuery)
      .then((page) => {
        if (id !== request.current) return;
        setRuns(page.results);
        setNext(page.next);
        setError(null);
        setMissed(0);
      })
      .catch((err) => {
        if (id === request.current) setError(errorMessage(err));
      })
      .finally(() => {
        if (id === request.current) setLoading(false);
      });
  }, [apiQuery]);

  useEffect(load, [load]);

  const loadMore = () => {
    if (!next) return;
    const id = request.current;
    setLoadingMore(true);
    api
      .runsPage(next)
      .then((page) => {
        if (id !== request.current) return;
        setRuns((list) => {
          const have = new Set((list ?? []).map((r) => r.id));
          return [...(list ?? []), ...page.results.filter((r) => !have.has(r.id))];
        });
        setNext(page.next);
      })
      .catch((err) => setError(errorMessage(err)))
      .finally(() => setLoadingMore(false));
  };

  const state = useRef({ filters, next, byId, runs });
  state.current = { filters, next, byId, runs };

  const onRun = useCallback((event: LiveRunRow) => {
    const { filters: f, next: more, byId: names, runs: list } = state.current;
    if (!list) return;
    const out = mergeRunEvent(list, event, f, { hasMore: !!more, pipelineName: names[event.pipeline]?.name });
    if (out.missed) setMissed((n) => n + 1);
    if (out.runs === list) return;
    state.current.runs = out.runs;
    setRuns(out.runs);
    const id = out.added;
    if (!id) return;
    setFresh((set) => new Set(set).add(id));
    window.setTimeout(
      () =>
        setFresh((set) => {
          const n = new Set(set);
          n.delete(id);
          return n;
        }),
      2500,
    );
    // The event carries run-level fields only: fetch the name, version and user once.
    api
      .run(id)
      .then((full) =>
        setRuns((rows) =>
          rows?.map((r) =>
            r.id === id
              ? { ...r, pipeline_name: full.pipeline_name, version: full.version, created_by: full.created_by }
              : r,
          ) ?? rows,
        ),
      )
      .catch(() => {});
  }, []);

  const live = useWorkspaceRuns(workspaceId, onRun, () => load());

  return { runs, next, loading, loadingMore, error, missed, fresh, live, load, loadMore };
}

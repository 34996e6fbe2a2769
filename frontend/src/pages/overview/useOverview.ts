// The overview's data: the day's and the month's run statistics, recent failures, what is
// running, the models, and the soonest scheduled runs across the workspace's pipelines.
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import type { ModelSummary, Pipeline, RunRow, RunStats, Schedule } from "../../api/types";

export interface Overview {
  today: RunStats;
  month: RunStats;
  failures: RunRow[];
  failuresMore: boolean;
  active: RunRow[];
  activeMore: boolean;
  models: ModelSummary[];
}

export interface Upcoming {
  schedule: Schedule;
  pipeline: Pipeline;
  at: string;
}

const DAY_MS = 24 * 3600 * 1000;

export async function loadOverview(): Promise<Overview> {
  const since = new Date(Date.now() - DAY_MS).toISOString();
  const [today, month, failures, active, models] = await Promise.all([
    api.runStats({ days: 1 }),
    api.runStats({ days: 30 }),
    api.runs(`status=failed&since=${encodeURIComponent(since)}&page_size=8`),
    api.runs("status=running,queued,pending&page_size=8"),
    api.models(),
  ]);
  return {
    today,
    month,
    failures: failures.results,
    failuresMore: !!failures.next,
    active: active.results,
    activeMore: !!active.next,
    models,
  };
}

/** Schedules live per pipeline: one request each, then the soonest across all of them. */
export function useUpcoming(pipelines: Pipeline[] | null, workspaceId: string | null): Upcoming[] | null {
  const { data } = useQuery({
    queryKey: [...queryKeys.schedules.all, "upcoming", workspaceId, (pipelines ?? []).map((p) => p.id)],
    enabled: !!pipelines,
    queryFn: async () => {
      const lists = await Promise.all(
        (pipelines ?? []).map((p) =>
          api
            .schedules(p.id)
            .then((list) => list.map((s) => ({ s, p })))
            .catch(() => []),
        ),
      );
      return lists
        .flat()
        .filter(({ s }) => s.enabled && (s.next_fire_at || s.upcoming.length))
        .map(({ s, p }) => ({ schedule: s, pipeline: p, at: s.next_fire_at ?? s.upcoming[0] }))
        .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    },
  });
  return data ?? null;
}

// Server state lives in one TanStack Query cache; these are its keys and its client.
import { QueryClient } from "@tanstack/react-query";

/**
 * Every query key of the app. Keys are arrays that start with the resource, so invalidating
 * a prefix (`queryKeys.models.all`) refreshes every query below it (a list, one model, …).
 * Workspace-wide lists carry the workspace id: switching workspaces never shows stale rows.
 */
export const queryKeys = {
  workspaces: ["workspaces"] as const,
  operators: (workspace: string | null) => ["operators", workspace] as const,
  pipelines: {
    all: ["pipelines"] as const,
    list: (workspace: string | null) => ["pipelines", "list", workspace] as const,
    one: (id: string) => ["pipelines", "one", id] as const,
    versions: (id: string) => ["pipelines", "one", id, "versions"] as const,
  },
  runs: {
    all: ["runs"] as const,
    list: (workspace: string | null, query: string) => ["runs", "list", workspace, query] as const,
    stats: (workspace: string | null, days: number, pipeline?: string) =>
      ["runs", "stats", workspace, days, pipeline ?? null] as const,
    one: (id: string) => ["runs", "one", id] as const,
    preview: (id: string, node: string, port: string, limit: number) =>
      ["runs", "one", id, "preview", node, port, limit] as const,
  },
  models: {
    all: ["models"] as const,
    list: (workspace: string | null) => ["models", "list", workspace] as const,
    one: (id: string) => ["models", "one", id] as const,
    version: (id: string, n: number) => ["models", "one", id, "version", n] as const,
    producedBy: (run: string) => ["models", "producedBy", run] as const,
    compare: (id: string, a: number, b: number) => ["models", "one", id, "compare", a, b] as const,
  },
  datasets: {
    all: ["datasets"] as const,
    list: (workspace: string | null) => ["datasets", "list", workspace] as const,
  },
  connections: {
    all: ["connections"] as const,
    list: (workspace: string | null) => ["connections", "list", workspace] as const,
  },
  templates: {
    all: ["templates"] as const,
    list: (workspace: string | null) => ["templates", "list", workspace] as const,
  },
  schedules: {
    all: ["schedules"] as const,
    list: (pipeline: string) => ["schedules", "list", pipeline] as const,
  },
  deployments: {
    all: ["deployments"] as const,
    one: (pipeline: string) => ["deployments", pipeline] as const,
    stats: (pipeline: string) => ["deployments", pipeline, "stats"] as const,
  },
};

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A failure shows at once with its message and a retry button, as before the cache.
        retry: false,
        // The pages refetch on their own events (websockets, mutations); a refocus need not.
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export const queryClient = makeQueryClient();

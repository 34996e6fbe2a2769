// The connections screen's calls and queries: kinds (with their field schemas), create, edit,
// delete and test. Writes invalidate the connection list, so every picker shows the change.
import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { getApiWorkspace, http, unwrap } from "../../api/client";
import { queryKeys } from "../../api/queries";
import type { components } from "../../api/schema";
import type { Connection, JsonSchema } from "../../api/types";

export type ConnectionKind = Omit<components["schemas"]["ConnectionKindOutput"], "schema"> & {
  schema: JsonSchema;
};
export type TestResult = components["schemas"]["ConnectionTestOutput"];
export type ConnectionFields = Record<string, unknown>;

const ws = () => getApiWorkspace() ?? undefined;
const one = (id: string) => ({ params: { path: { connection_id: id } } });

export const connectionsApi = {
  kinds: () => unwrap(http.GET("/api/connections/kinds/")) as Promise<ConnectionKind[]>,
  create: (body: { name: string; kind: string; fields: ConnectionFields }) =>
    unwrap(http.POST("/api/connections/", { body: { ...body, workspace: ws() } })) as Promise<Connection>,
  update: (id: string, body: { name?: string; fields?: ConnectionFields }) =>
    unwrap(http.PATCH("/api/connections/{connection_id}/", { ...one(id), body })) as Promise<
      Connection & { message?: string }
    >,
  remove: (id: string) => unwrap(http.DELETE("/api/connections/{connection_id}/", one(id))) as Promise<void>,
  test: (id: string) => unwrap(http.POST("/api/connections/{connection_id}/test/", one(id))) as Promise<TestResult>,
  /** Fields not saved yet; `connection`: the saved one they edit (its secrets stand in). */
  testFields: (body: { kind: string; fields: ConnectionFields; connection?: string }) =>
    unwrap(http.POST("/api/connections/test/", { body: { ...body, workspace: ws() } })) as Promise<TestResult>,
};

export const kindsQuery = () =>
  queryOptions({
    queryKey: ["connection-kinds"] as const,
    queryFn: connectionsApi.kinds,
    // The kinds change only with a deploy.
    staleTime: Infinity,
  });

export function useConnectionKinds() {
  return useQuery(kindsQuery());
}

const invalidate = (qc: QueryClient) => void qc.invalidateQueries({ queryKey: queryKeys.connections.all });

export function useSaveConnection() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { id?: string; name: string; kind: string; fields: ConnectionFields }) =>
      v.id ? connectionsApi.update(v.id, { name: v.name, fields: v.fields }) : connectionsApi.create(v),
    onSuccess: (saved: Connection) => {
      // In the lists at once, so a picker can select it before the refetch answers.
      qc.setQueriesData<Connection[]>({ queryKey: [...queryKeys.connections.all, "list"] }, (old) =>
        old ? [...old.filter((c) => c.id !== saved.id), saved] : old,
      );
      invalidate(qc);
    },
  });
}

export function useDeleteConnection() {
  const qc = useQueryClient();
  // Settled, not only on success: a refused delete may come from a list that was stale.
  return useMutation({ mutationFn: connectionsApi.remove, onSettled: () => invalidate(qc) });
}

export function useTestConnection() {
  return useMutation({ mutationFn: connectionsApi.test });
}

export function useTestFields() {
  return useMutation({ mutationFn: connectionsApi.testFields });
}

// Server state through TanStack Query: one query per resource, one mutation per write, and
// each mutation invalidates what it changes (a model imported here shows in every picker).
import {
  queryOptions,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from "@tanstack/react-query";
import { useSession } from "../lib/session";
import { api } from "./client";
import { errorMessage } from "./http";
import { queryKeys } from "./queryClient";
import type {
  Annotation,
  Graph,
  OperatorSpec,
  Pipeline,
  ScheduleInput,
  TemplateInstantiateInput,
} from "./types";

export { queryKeys };

/** The active workspace: workspace-wide queries are keyed by it. */
export function useWorkspaceId(): string | null {
  return useSession((s) => s.workspaceId);
}

// --- queries --------------------------------------------------------------------------------

export const operatorsQuery = (workspace: string | null) =>
  queryOptions({
    queryKey: queryKeys.operators(workspace),
    queryFn: api.operators,
    // The catalogue changes only with a deploy.
    staleTime: Infinity,
  });

export const pipelinesQuery = (workspace: string | null) =>
  queryOptions({ queryKey: queryKeys.pipelines.list(workspace), queryFn: api.pipelines });

export const pipelineQuery = (id: string) =>
  queryOptions({ queryKey: queryKeys.pipelines.one(id), queryFn: () => api.pipeline(id) });

export const datasetsQuery = (workspace: string | null) =>
  queryOptions({ queryKey: queryKeys.datasets.list(workspace), queryFn: api.datasets });

export const connectionsQuery = (workspace: string | null) =>
  queryOptions({ queryKey: queryKeys.connections.list(workspace), queryFn: api.connections });

export const templatesQuery = (workspace: string | null) =>
  queryOptions({ queryKey: queryKeys.templates.list(workspace), queryFn: api.templates });

export const modelsQuery = (workspace: string | null) =>
  queryOptions({ queryKey: queryKeys.models.list(workspace), queryFn: api.models });

export const modelQuery = (id: string) =>
  queryOptions({ queryKey: queryKeys.models.one(id), queryFn: () => api.model(id) });

export const schedulesQuery = (pipeline: string) =>
  queryOptions({ queryKey: queryKeys.schedules.list(pipeline), queryFn: () => api.schedules(pipeline) });

/** The operator catalogue by name ({} while loading). */
export function useOperators(): Record<string, OperatorSpec> {
  const { data } = useQuery({ ...operatorsQuery(useWorkspaceId()), select: byName });
  return data ?? EMPTY;
}

const EMPTY: Record<string, OperatorSpec> = {};
function byName(list: OperatorSpec[]): Record<string, OperatorSpec> {
  return Object.fromEntries(list.map((o) => [o.name, o]));
}

/** The workspace's pipelines (for names and pickers); null while loading. */
export function usePipelines(workspaceId: string | null = null): {
  pipelines: Pipeline[] | null;
  byId: Record<string, Pipeline>;
  error: string | null;
  reload: () => void;
} {
  const active = useWorkspaceId();
  const q = useQuery(pipelinesQuery(workspaceId ?? active));
  const byId: Record<string, Pipeline> = {};
  for (const p of q.data ?? []) byId[p.id] = p;
  return {
    pipelines: q.data ?? null,
    byId,
    error: q.error ? errorMessage(q.error) : null,
    reload: () => void q.refetch(),
  };
}

export function useDatasetsQuery() {
  return useQuery(datasetsQuery(useWorkspaceId()));
}

export function useConnectionsQuery() {
  return useQuery(connectionsQuery(useWorkspaceId()));
}

export function useTemplatesQuery(enabled = true) {
  return useQuery({ ...templatesQuery(useWorkspaceId()), enabled });
}

export function useModelsQuery() {
  return useQuery(modelsQuery(useWorkspaceId()));
}

// --- mutations ------------------------------------------------------------------------------
// Each factory takes the QueryClient so its invalidation is testable without React. The
// refetches it causes run in the background: a mutation resolves when the server answered.

export const importModelMutation = (qc: QueryClient) => ({
  mutationFn: (form: FormData) => api.importModel(form),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.models.all }),
});

export const setAliasMutation = (qc: QueryClient) => ({
  mutationFn: (v: { model: string; alias: string; version: number }) =>
    api.setAlias(v.model, v.alias, v.version),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.models.all }),
});

export const removeAliasMutation = (qc: QueryClient) => ({
  mutationFn: (v: { model: string; alias: string }) => api.removeAlias(v.model, v.alias),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.models.all }),
});

export const uploadDatasetMutation = (qc: QueryClient) => ({
  mutationFn: (file: File) => api.uploadDataset(file),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.datasets.all }),
});

export const createPipelineMutation = (qc: QueryClient) => ({
  mutationFn: (body: { name: string; description?: string; graph?: Graph }) => api.createPipeline(body),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.pipelines.all }),
});

/** A pipeline made from a template: a new pipeline, and maybe a (paused) schedule. */
export const instantiateTemplateMutation = (qc: QueryClient) => ({
  mutationFn: (v: { template: string; body: TemplateInstantiateInput }) =>
    api.instantiateTemplate(v.template, v.body),
  onSuccess: () => {
    void qc.invalidateQueries({ queryKey: queryKeys.pipelines.all });
    void qc.invalidateQueries({ queryKey: queryKeys.schedules.all });
  },
});

export const saveTemplateMutation = (qc: QueryClient) => ({
  mutationFn: (v: { pipeline: string; name?: string; description?: string }) => {
    const { pipeline, ...body } = v;
    return api.saveTemplate(pipeline, body);
  },
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.templates.all }),
});

export const deleteTemplateMutation = (qc: QueryClient) => ({
  mutationFn: (id: string) => api.deleteTemplate(id),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.templates.all }),
});

export const updatePipelineMutation = (qc: QueryClient) => ({
  mutationFn: (v: { id: string; name?: string; description?: string; graph?: Graph; annotations?: Annotation[] }) => {
    const { id, ...body } = v;
    return api.updatePipeline(id, body);
  },
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.pipelines.all }),
});

export const deletePipelineMutation = (qc: QueryClient) => ({
  mutationFn: (id: string) => api.deletePipeline(id),
  onSuccess: () => {
    void qc.invalidateQueries({ queryKey: queryKeys.pipelines.all });
    void qc.invalidateQueries({ queryKey: queryKeys.runs.all });
  },
});

export const startRunMutation = (qc: QueryClient) => ({
  mutationFn: (v: { pipeline: string; force?: boolean; fullRefresh?: boolean }) =>
    api.startRun(v.pipeline, !!v.force, !!v.fullRefresh),
  onSuccess: () => {
    void qc.invalidateQueries({ queryKey: queryKeys.runs.all });
    // A pipeline's `last_run` changes.
    void qc.invalidateQueries({ queryKey: queryKeys.pipelines.all });
  },
});

export const saveScheduleMutation = (qc: QueryClient) => ({
  mutationFn: (v: { pipeline: string; id?: string; body: Partial<ScheduleInput> }) =>
    v.id ? api.updateSchedule(v.id, v.body) : api.createSchedule(v.pipeline, v.body as ScheduleInput),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.schedules.all }),
});

export const deleteScheduleMutation = (qc: QueryClient) => ({
  mutationFn: (id: string) => api.deleteSchedule(id),
  onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.schedules.all }),
});

export function useImportModel() {
  return useMutation(importModelMutation(useQueryClient()));
}
export function useSetAlias() {
  return useMutation(setAliasMutation(useQueryClient()));
}
export function useRemoveAlias() {
  return useMutation(removeAliasMutation(useQueryClient()));
}
export function useUploadDataset() {
  return useMutation(uploadDatasetMutation(useQueryClient()));
}
export function useCreatePipeline() {
  return useMutation(createPipelineMutation(useQueryClient()));
}
export function useInstantiateTemplate() {
  return useMutation(instantiateTemplateMutation(useQueryClient()));
}
export function useSaveTemplate() {
  return useMutation(saveTemplateMutation(useQueryClient()));
}
export function useDeleteTemplate() {
  return useMutation(deleteTemplateMutation(useQueryClient()));
}
export function useUpdatePipeline() {
  return useMutation(updatePipelineMutation(useQueryClient()));
}
export function useDeletePipeline() {
  return useMutation(deletePipelineMutation(useQueryClient()));
}
export function useStartRun() {
  return useMutation(startRunMutation(useQueryClient()));
}
export function useSaveSchedule() {
  return useMutation(saveScheduleMutation(useQueryClient()));
}
export function useDeleteSchedule() {
  return useMutation(deleteScheduleMutation(useQueryClient()));
}

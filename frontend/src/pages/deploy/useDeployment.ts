// A pipeline's serving: the pipeline, its deployment, the serving statistics (which carry the
// deployment too), and the id of the model served (the statistics name it).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { api, errorMessage } from "../../api/client";
import { modelsQuery, pipelineQuery, useWorkspaceId } from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import type { Deployment, DeploymentStats, Pipeline } from "../../api/types";

export function useDeployment(pipelineId: string): {
  pipeline: Pipeline | null;
  deployment: Deployment | null;
  deployError: string | null;
  stats: DeploymentStats | null;
  statsError: string | null;
  modelId: string | null;
  reloadStats: () => void;
  setDeployment: (d: Deployment) => void;
} {
  const qc = useQueryClient();
  const pipeline = useQuery(pipelineQuery(pipelineId));
  const deployment = useQuery({
    queryKey: queryKeys.deployments.one(pipelineId),
    queryFn: () => api.deployment(pipelineId),
  });
  const stats = useQuery({
    queryKey: queryKeys.deployments.stats(pipelineId),
    queryFn: async () => {
      const s = await api.deploymentStats(pipelineId);
      qc.setQueryData(queryKeys.deployments.one(pipelineId), s.deployment);
      return s;
    },
  });
  const served = stats.data?.model?.name;
  const models = useQuery({ ...modelsQuery(useWorkspaceId()), enabled: !!served });

  const { refetch } = stats;
  const reloadStats = useCallback(() => void refetch(), [refetch]);
  const setDeployment = useCallback(
    (d: Deployment) => qc.setQueryData(queryKeys.deployments.one(pipelineId), d),
    [qc, pipelineId],
  );
  return {
    pipeline: pipeline.data ?? null,
    deployment: deployment.data ?? null,
    deployError: deployment.error ? errorMessage(deployment.error) : null,
    stats: stats.data ?? null,
    statsError: stats.error ? errorMessage(stats.error) : null,
    modelId: (served && models.data?.find((m) => m.name === served)?.id) || null,
    reloadStats,
    setDeployment,
  };
}

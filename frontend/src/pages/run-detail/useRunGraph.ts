// The graph a run ran (its stored pipeline version), and the pipeline as it is now.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api, errorMessage } from "../../api/client";
import { pipelineQuery } from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import type { Graph, Pipeline, Run } from "../../api/types";

export const VERSION_GONE = "The version that ran is no longer stored; the nodes are drawn without their links.";

export function useRunGraph(run: Run | null): {
  graph: Graph | null;
  drawn: Graph | null;
  graphNote: string | null;
  pipeline: Pipeline | null;
} {
  const pipelineId = run?.pipeline ?? "";
  const version = run?.version;
  const enabled = !!pipelineId && !!version;
  const versions = useQuery({
    queryKey: queryKeys.pipelines.versions(pipelineId),
    queryFn: () => api.versions(pipelineId),
    enabled,
  });
  const pipeline = useQuery({ ...pipelineQuery(pipelineId), enabled });

  const stored = versions.data?.find((x) => x.hash === version);
  const graph = stored?.graph ?? null;
  const graphNote = versions.error
    ? `Could not load the pipeline version: ${errorMessage(versions.error)}`
    : versions.data && !stored
      ? VERSION_GONE
      : null;

  // Without the stored version, lay out the run's own nodes.
  const drawn: Graph | null = useMemo(() => {
    if (graph) return graph;
    if (!graphNote || !run) return null;
    return {
      nodes: run.nodes.map((n) => ({ id: n.node_id, operator: n.operator, params: {}, position: { x: 0, y: 0 } })),
      edges: [],
    };
  }, [graph, graphNote, run]);

  return { graph, drawn, graphNote, pipeline: pipeline.data ?? null };
}

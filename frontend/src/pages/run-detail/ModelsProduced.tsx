// The model versions a finished run registered, linked to their pages.
import { useQuery } from "@tanstack/react-query";
import { BrainCircuit } from "lucide-react";
import { api } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import { ACTIVE_STATES, type ModelVersion, type Run } from "../../api/types";
import { Card, formatMetric, Link } from "../common";

interface Produced {
  modelId: string;
  name: string;
  v: ModelVersion;
}

async function modelVersionsOfRun(run: Run): Promise<Produced[]> {
  try {
    const models = await api.models();
    // Only this pipeline's models can hold versions of this run.
    const mine = models.filter((m) => m.latest?.pipeline === run.pipeline || m.latest?.run === run.id);
    const details = await Promise.all(mine.map((m) => api.model(m.id).catch(() => null)));
    return details.flatMap((d) =>
      d ? d.versions.filter((v) => v.run === run.id).map((v) => ({ modelId: d.id, name: d.name, v })) : [],
    );
  } catch {
    return [];
  }
}

export function ModelsProduced({ run }: { run: Run }) {
  const done = !ACTIVE_STATES.has(run.status);
  const { data: versions } = useQuery({
    queryKey: queryKeys.models.producedBy(run.id),
    queryFn: () => modelVersionsOfRun(run),
    enabled: done,
  });

  if (!done || !versions || versions.length === 0) return null;
  return (
    <Card title={<><BrainCircuit size={15} /> Models registered by this run</>} flush testId="run-models">
      <ul className="run-list">
        {versions.map(({ modelId, name, v }) => (
          <li key={`${modelId}-${v.version}`}>
            <Link to={`/models/${modelId}/versions/${v.version}`} className="run-list-item">
              <span className="icon-chip">
                <BrainCircuit size={14} />
              </span>
              <span className="run-list-main">
                <span className="run-list-name">
                  {name} v{v.version}
                </span>
                <span className="muted small">
                  {v.algorithm} · {Object.entries(v.metrics).slice(0, 3).map(([k, x]) => `${k} ${formatMetric(x)}`).join(" · ")}
                </span>
              </span>
              <span className="tags">
                {v.aliases.map((a) => (
                  <span key={a} className="tag tag-primary">
                    {a}
                  </span>
                ))}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </Card>
  );
}

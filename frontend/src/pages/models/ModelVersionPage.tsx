// One model version: where it came from (lineage), what it was trained with, how it scored.
import { Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import { BrainCircuit, Database, Download, Play, Rocket, Zap } from "lucide-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, useCallback, useMemo, useState } from "react";
import { api, errorMessage } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import { layoutGraph } from "../../editor/layout";
import { formatDateTime, formatNumber, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { StatusBadge } from "../../ui/StatusBadge";
import { toast } from "../../ui/toast";
import type { LineageNode, ModelVersionDetail, RunStatus } from "../../api/types";
import { Breadcrumbs, Card, formatMetric, Link, PageError, SkeletonBlock, shortHash } from "../common";
import { useDocumentTitle } from "../hooks";
import { evaluationOf } from "./charts";
import { EvaluationCards } from "./Evaluation";
import { useModel } from "./useModel";
import "./models.css";

type LNode = Node<{ [K in keyof LineageNode]: LineageNode[K] } & { runId?: string }, "lineage">;

const KIND_ICON = { dataset: Database, run: Play, model_version: BrainCircuit, output: Zap } as const;
const KIND_LABEL: Record<string, string> = {
  dataset: "Dataset",
  run: "Run",
  model_version: "Model version",
  output: "Reads the model",
};

function LineageNodeView({ data }: NodeProps<LNode>) {
  const Icon = KIND_ICON[data.kind as keyof typeof KIND_ICON] ?? Database;
  return (
    <div className={`lineage-node lineage-${data.kind}`} data-testid="lineage-node" data-kind={data.kind}>
      <Handle type="target" position={Position.Left} isConnectable={false} className="run-graph-handle" />
      <span className="lineage-icon">
        <Icon size={14} />
      </span>
      <span className="lineage-text">
        <span className="lineage-kind">{KIND_LABEL[data.kind] ?? data.kind}</span>
        <span className="lineage-label" title={data.label}>
          {data.label}
        </span>
      </span>
      {data.status && <StatusBadge status={data.status as RunStatus} compact />}
      <Handle type="source" position={Position.Right} isConnectable={false} className="run-graph-handle" />
    </div>
  );
}

const lineageTypes = { lineage: memo(LineageNodeView) };
const SIZE = { width: 210, height: 52 };
const FIT = { padding: 0.2, maxZoom: 1 } as const;
const PRO = { hideAttribution: true } as const;

function Lineage({ version }: { version: ModelVersionDetail }) {
  const { nodes, edges } = useMemo(() => {
    const g = version.lineage;
    const sizes = Object.fromEntries(g.nodes.map((n) => [n.id, SIZE]));
    const pos = layoutGraph(
      {
        nodes: g.nodes.map((n) => ({ id: n.id, operator: n.kind, params: {}, position: { x: 0, y: 0 } })),
        edges: g.edges.map((e) => ({ source: e.source, source_port: "", target: e.target, target_port: "" })),
      },
      sizes,
    );
    const nodes: LNode[] = g.nodes.map((n) => ({
      id: n.id,
      type: "lineage",
      position: pos[n.id] ?? { x: 0, y: 0 },
      data: { ...n, runId: n.kind === "run" ? n.id.replace(/^run:/, "") : undefined },
      draggable: false,
      selectable: false,
    }));
    const edges: Edge[] = g.edges.map((e) => ({
      id: `${e.source}->${e.target}`,
      source: e.source,
      target: e.target,
      focusable: false,
    }));
    return { nodes, edges };
  }, [version]);

  const onClick = useCallback(
    (_: unknown, n: LNode) => {
      if (n.data.kind === "run" && n.data.runId) navigate(`/runs/${n.data.runId}`);
      if (n.data.kind === "output" && version.run)
        navigate(`/runs/${version.run}?node=${encodeURIComponent(n.data.node_id ?? n.data.label)}`);
    },
    [version.run],
  );

  return (
    <div className="run-graph lineage" style={{ height: 240 }} data-testid="lineage">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={lineageTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        zoomOnScroll={false}
        preventScrolling={false}
        zoomOnDoubleClick={false}
        fitView
        fitViewOptions={FIT}
        proOptions={PRO}
        onNodeClick={onClick}
      />
    </div>
  );
}

function KeyValues({ values, empty }: { values: Record<string, unknown>; empty: string }) {
  const entries = Object.entries(values ?? {});
  if (!entries.length) return <p className="muted small">{empty}</p>;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd className="mono">{typeof v === "string" ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function ModelVersionPage({ modelId, version }: { modelId: string; version: number }) {
  const qc = useQueryClient();
  const versionQ = useQuery({
    queryKey: queryKeys.models.version(modelId, version),
    queryFn: () => api.modelVersion(modelId, version),
  });
  const { model, error: modelError, setModel } = useModel(modelId);
  const v = versionQ.data ?? null;
  const error = versionQ.error ? errorMessage(versionQ.error) : modelError;
  const [busy, setBusy] = useState(false);
  useDocumentTitle(model ? `${model.name} v${version}` : `Model v${version}`);

  const { refetch } = versionQ;
  const load = useCallback(() => {
    void refetch();
    void qc.invalidateQueries({ queryKey: queryKeys.models.one(modelId), exact: true });
  }, [refetch, qc, modelId]);

  const promote = async () => {
    setBusy(true);
    try {
      const m = await api.setAlias(modelId, "production", version);
      setModel(m);
      qc.setQueryData(queryKeys.models.version(modelId, version), (cur: ModelVersionDetail | undefined) =>
        cur ? { ...cur, aliases: [...new Set([...cur.aliases, "production"])] } : cur,
      );
      toast(`“production” now points at v${version}.`, "success");
    } catch (err) {
      toast(`Could not promote: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
    }
  };

  if (error && !v) {
    return (
      <div className="page">
        <Breadcrumbs items={[{ label: "Models", to: "/models" }, { label: `v${version}` }]} />
        <PageError message={error} onRetry={load} />
      </div>
    );
  }

  const metrics = Object.entries(v?.metrics ?? {});
  const schema = v?.training_data?.schema ?? [];
  const features = new Set((v?.features ?? []).map((f) => f.name));
  const isProduction = model?.aliases.production === version;

  return (
    <div className="page model-version-page">
      <Breadcrumbs
        items={[
          { label: "Models", to: "/models" },
          { label: model?.name ?? "…", to: `/models/${modelId}` },
          { label: `v${version}` },
        ]}
      />
      <div className="page-header">
        <div>
          <h1>
            {model ? `${model.name}` : <span className="skeleton-text" />}
            <span className="version-pill">v{version}</span>
            {v?.aliases.map((a) => (
              <span key={a} className={`tag alias-tag${a === "production" ? " tag-primary" : ""}`}>
                {a}
              </span>
            ))}
          </h1>
          <p className="muted">
            {v
              ? `${v.algorithm || v.task} · ${v.task}${v.target ? ` of ${v.target}` : ""} · ${v.source === "import" ? "imported" : "trained by a pipeline run"}${v.created_by ? ` by ${v.created_by}` : ""} · ${timeAgo(v.created_at)}`
              : "Loading…"}
          </p>
        </div>
        <div className="page-actions">
          {v?.run && (
            <Link to={`/runs/${v.run}`} className="btn">
              <Play size={14} /> Run
            </Link>
          )}
          <a className="btn" href={`/api/models/${encodeURIComponent(modelId)}/versions/${version}/download/`} download>
            <Download size={14} /> Download .skops
          </a>
          <button className="btn btn-primary" onClick={promote} disabled={busy || isProduction || !v}>
            <Rocket size={14} /> {isProduction ? "In production" : "Promote to production"}
          </button>
        </div>
      </div>

      <Card title="Lineage" subtitle="Data → run → this version → the nodes that read it; click a run to open it" flush>
        {v ? <Lineage version={v} /> : <SkeletonBlock height={240} />}
      </Card>

      <div className="grid-2">
        <Card title="Metrics" subtitle={v?.source === "import" ? "As given at import" : "On the held-out test split"}>
          {!v ? (
            <SkeletonBlock height={90} />
          ) : metrics.length ? (
            <div className="metric-tiles">
              {metrics.map(([k, x]) => (
                <div key={k} className="metric">
                  <span className="metric-label">{k}</span>
                  <span className="metric-value">{formatMetric(x)}</span>
                </div>
              ))}
            </div>
          ) : (
            <p className="muted small">No metrics recorded.</p>
          )}
          {v?.classes && v.classes.length > 0 && (
            <p className="small classes">
              <span className="muted">Classes:</span>{" "}
              {v.classes.map((c) => (
                <code key={String(c)}>{String(c)}</code>
              ))}
            </p>
          )}
        </Card>
        <Card title="Training data" subtitle={v?.data_description || undefined}>
          {!v ? (
            <SkeletonBlock height={90} />
          ) : v.training_data?.rows !== undefined || schema.length ? (
            <>
              <p className="small">
                <strong>{formatNumber(v.training_data?.rows ?? null)}</strong> rows
                {v.training_data?.hash && (
                  <>
                    {" "}
                    · content <code className="hash" title={v.training_data.hash}>{shortHash(v.training_data.hash, 12)}</code>
                  </>
                )}
              </p>
              <div className="schema-chips">
                {schema.map((c) => (
                  <span
                    key={c.name}
                    className={`schema-chip${c.name === v.target ? " is-target" : features.has(c.name) ? " is-feature" : ""}`}
                    title={c.name === v.target ? "Target" : features.has(c.name) ? "Feature" : "Not used"}
                  >
                    {c.name} <span className="col-type">{c.type}</span>
                  </span>
                ))}
              </div>
              <p className="muted small legend-line">
                <span className="schema-chip is-feature">feature</span> <span className="schema-chip is-target">target</span>{" "}
                <span className="schema-chip">not used</span>
              </p>
            </>
          ) : (
            <p className="muted small">
              {v.data_description ? "Described above; no table was recorded." : "Not recorded (imported model)."}
              {v.features.length > 0 && (
                <>
                  {" "}
                  Features: {v.features.map((f) => <code key={f.name}>{f.name}</code>)}
                </>
              )}
            </p>
          )}
        </Card>
      </div>

      {v && <EvaluationCards evaluation={evaluationOf(v)} />}

      <div className="grid-2">
        <Card title="Params">{v ? <KeyValues values={v.params} empty="No params recorded." /> : <SkeletonBlock height={90} />}</Card>
        <Card title="Environment">
          {v ? (
            <>
              <KeyValues values={v.environment} empty="Not recorded." />
              <dl className="kv kv-extra">
                {v.operator && (
                  <div>
                    <dt>operator</dt>
                    <dd className="mono">
                      {v.operator} {v.operator_version}
                    </dd>
                  </div>
                )}
                {v.code_reference && (
                  <div>
                    <dt>code</dt>
                    <dd className="mono">{v.code_reference}</dd>
                  </div>
                )}
                <div>
                  <dt>model hash</dt>
                  <dd className="mono" title={v.model_hash}>
                    {shortHash(v.model_hash, 16)}
                  </dd>
                </div>
                <div>
                  <dt>registered</dt>
                  <dd>{formatDateTime(v.created_at)}</dd>
                </div>
              </dl>
            </>
          ) : (
            <SkeletonBlock height={90} />
          )}
        </Card>
      </div>
    </div>
  );
}

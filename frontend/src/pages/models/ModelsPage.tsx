// Every registered model of the workspace, with its latest version's metrics and its aliases.
import { BrainCircuit, Search, Upload } from "lucide-react";
import { useCallback, useMemo, useState } from "react";
import { errorMessage } from "../../api/client";
import { useModelsQuery } from "../../api/queries";
import { formatDateTime, plural, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { toast } from "../../ui/toast";
import type { ModelSummary } from "../../api/types";
import { DataTable, type Col } from "../DataTable";
import { formatMetric, Link, PageError } from "../common";
import { useDocumentTitle } from "../hooks";
import { ImportModelDialog } from "./ImportModelDialog";
import { metricColumns } from "./models";
import "./models.css";

export function AliasTags({ aliases }: { aliases: Record<string, number> | string[] }) {
  const entries = Array.isArray(aliases) ? aliases.map((a) => [a, null] as const) : Object.entries(aliases);
  if (!entries.length) return <span className="muted small">–</span>;
  return (
    <span className="tags">
      {entries
        .sort(([a], [b]) => (a === "production" ? -1 : b === "production" ? 1 : a.localeCompare(b)))
        .map(([alias, n]) => (
          <span key={alias} className={`tag alias-tag${alias === "production" ? " tag-primary" : ""}`} data-alias={alias}>
            {alias}
            {n !== null ? ` → v${n}` : ""}
          </span>
        ))}
    </span>
  );
}

export function ModelsPage() {
  const modelsQ = useModelsQuery();
  const models = modelsQ.data ?? null;
  const error = modelsQ.error ? errorMessage(modelsQ.error) : null;
  const { refetch } = modelsQ;
  const load = useCallback(() => void refetch(), [refetch]);
  const [query, setQuery] = useState("");
  const [importing, setImporting] = useState(false);
  useDocumentTitle("Models");


  const visible = useMemo(
    () => (models ?? []).filter((m) => !query.trim() || m.name.toLowerCase().includes(query.trim().toLowerCase())),
    [models, query],
  );
  const metrics = useMemo(() => metricColumns((models ?? []).flatMap((m) => (m.latest ? [m.latest] : [])), 3), [models]);

  const columns = useMemo<Col<ModelSummary>[]>(
    () => [
      {
        id: "name",
        header: "Model",
        accessorFn: (m) => m.name,
        sortFn: "text",
        cell: ({ row }) => (
          <div className="cell-stack">
            <Link to={`/models/${row.original.id}`} className="strong-link" onClick={(e) => e.stopPropagation()}>
              {row.original.name}
            </Link>
            <span className="muted small ellipsis">
              {row.original.latest
                ? `${row.original.latest.algorithm || row.original.latest.task} · ${row.original.latest.source === "import" ? "imported" : "trained by a pipeline"}`
                : "No versions"}
            </span>
          </div>
        ),
      },
      {
        id: "latest",
        header: "Latest",
        accessorFn: (m) => m.latest?.version ?? 0,
        sortFn: "basic",
        meta: { width: "96px" },
        cell: ({ row }) =>
          row.original.latest ? (
            <span>
              v{row.original.latest.version}
              <span className="muted small"> / {row.original.version_count}</span>
            </span>
          ) : (
            "–"
          ),
      },
      ...metrics.map(
        (k): Col<ModelSummary> => ({
          id: `metric:${k}`,
          header: k,
          accessorFn: (m) => (typeof m.latest?.metrics[k] === "number" ? m.latest.metrics[k] : -Infinity),
          sortFn: "basic",
          sortDescFirst: true,
          meta: { num: true, width: "104px" },
          cell: ({ row }) => formatMetric(row.original.latest?.metrics[k]),
        }),
      ),
      {
        id: "aliases",
        header: "Aliases",
        enableSorting: false,
        cell: ({ row }) => <AliasTags aliases={row.original.aliases} />,
      },
      {
        id: "updated",
        header: "Updated",
        accessorFn: (m) => (m.latest ? Date.parse(m.latest.created_at) : 0),
        sortFn: "basic",
        sortDescFirst: true,
        meta: { width: "120px" },
        cell: ({ row }) =>
          row.original.latest ? (
            <span className="muted small" title={formatDateTime(row.original.latest.created_at)}>
              {timeAgo(row.original.latest.created_at)}
            </span>
          ) : (
            "–"
          ),
      },
    ],
    [metrics],
  );

  return (
    <div className="page models-page">
      <div className="page-header">
        <div>
          <h1>Models</h1>
          <p className="muted">{models ? plural(models.length, "registered model") : "Loading…"}</p>
        </div>
        <div className="page-actions">
          <label className="search">
            <Search size={14} aria-hidden="true" />
            <input type="search" placeholder="Search models" aria-label="Search models" value={query} onChange={(e) => setQuery(e.target.value)} />
          </label>
          <button className="btn btn-primary" onClick={() => setImporting(true)}>
            <Upload size={15} /> Import model
          </button>
        </div>
      </div>

      {error && <PageError message={`Could not load models: ${error}`} onRetry={load} />}

      {models === null ? (
        !error && (
          <div className="pipeline-table skeleton-table" aria-busy="true">
            {[0, 1, 2].map((i) => (
              <div key={i} className="skeleton-row" />
            ))}
          </div>
        )
      ) : models.length === 0 ? (
        <div className="empty-state">
          <div className="empty-icon">
            <BrainCircuit size={28} />
          </div>
          <h2>No models yet</h2>
          <p className="muted">
            Add a <strong>Train classifier</strong> or <strong>Train regressor</strong> node to a pipeline
            and run it: every run registers a new version here, with its metrics and lineage. Or import
            a scikit-learn model you trained elsewhere.
          </p>
          <div className="button-row">
            <Link to="/pipelines" className="btn">
              Go to pipelines
            </Link>
            <button className="btn btn-primary" onClick={() => setImporting(true)}>
              <Upload size={15} /> Import a model
            </button>
          </div>
        </div>
      ) : (
        <div className="table-card">
          <DataTable
            label="Models"
            columns={columns}
            data={visible}
            getRowId={(m) => m.id}
            initialSorting={[{ id: "updated", desc: true }]}
            onRowClick={(m) => navigate(`/models/${m.id}`)}
            rowProps={(m) => ({ "data-testid": "model-row", "data-model-id": m.id })}
            empty={<div className="table-empty">No model matches “{query}”.</div>}
          />
        </div>
      )}

      {importing && (
        <ImportModelDialog
          onClose={() => setImporting(false)}
          onImported={(v) => {
            setImporting(false);
            toast(`Imported as version ${v.version}.`, "success");
            navigate(`/models/${v.model}/versions/${v.version}`);
          }}
        />
      )}
    </div>
  );
}

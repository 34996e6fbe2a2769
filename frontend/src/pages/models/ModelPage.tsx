// One registered model: its versions and their metrics, aliases (promote / demote), and a
// side-by-side comparison of two versions.
import { ArrowRight, Rocket, Upload, X } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { api, errorMessage } from "../../api/client";
import { formatDateTime, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { ConfirmDialog } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import type { ModelVersion } from "../../api/types";
import { Breadcrumbs, Card, formatMetric, Link, PageError, SkeletonBlock } from "../common";
import { DataTable, type Col } from "../DataTable";
import { useDocumentTitle } from "../hooks";
import { ImportModelDialog } from "./ImportModelDialog";
import { Chart } from "../charts/Chart";
import { versionMetricsOption } from "./charts";
import { ComparePanel } from "./ComparePanel";
import { metricColumns } from "./models";
import { PromoteDialog } from "./PromoteDialog";
import { useModel } from "./useModel";
import "./models.css";

export function ModelPage({ modelId }: { modelId: string }) {
  const { model, error, reload, setModel } = useModel(modelId);
  const [compare, setCompare] = useState<number[]>([]);
  const [promoting, setPromoting] = useState<ModelVersion | null>(null);
  const [demoting, setDemoting] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const [busy, setBusy] = useState(false);
  useDocumentTitle(model ? model.name : "Model");

  useEffect(() => {
    // Compare the two newest versions until the user picks others.
    if (model) setCompare((c) => (c.length ? c : model.versions.slice(0, 2).map((v) => v.version).reverse()));
  }, [model]);

  const demote = async (alias: string) => {
    setBusy(true);
    try {
      setModel(await api.removeAlias(modelId, alias));
      toast(`Removed the alias “${alias}”.`, "success");
      setDemoting(null);
    } catch (err) {
      toast(`Could not remove the alias: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
    }
  };

  const metrics = useMemo(() => metricColumns(model?.versions ?? [], 5), [model]);
  const toggleCompare = (n: number) =>
    setCompare((c) => (c.includes(n) ? c.filter((x) => x !== n) : [...c.slice(-1), n].sort((a, b) => a - b)));

  const columns = useMemo<Col<ModelVersion>[]>(
    () => [
      {
        id: "compare",
        header: () => <span className="sr-only">Compare</span>,
        enableSorting: false,
        meta: { width: "40px" },
        cell: ({ row }) => (
          <input
            type="checkbox"
            aria-label={`Compare version ${row.original.version}`}
            checked={compare.includes(row.original.version)}
            onClick={(e) => e.stopPropagation()}
            onChange={() => toggleCompare(row.original.version)}
          />
        ),
      },
      {
        id: "version",
        header: "Version",
        accessorFn: (v) => v.version,
        sortFn: "basic",
        sortDescFirst: true,
        meta: { width: "84px" },
        cell: ({ row }) => (
          <Link to={`/models/${modelId}/versions/${row.original.version}`} className="strong-link" onClick={(e) => e.stopPropagation()}>
            v{row.original.version}
          </Link>
        ),
      },
      {
        id: "created",
        header: "Registered",
        accessorFn: (v) => Date.parse(v.created_at),
        sortFn: "basic",
        meta: { width: "128px" },
        cell: ({ row }) => (
          <div className="cell-stack">
            <span title={formatDateTime(row.original.created_at)}>{timeAgo(row.original.created_at)}</span>
            <span className="muted small">
              {row.original.source === "import" ? "imported" : "pipeline run"}
              {row.original.created_by ? ` · ${row.original.created_by}` : ""}
            </span>
          </div>
        ),
      },
      {
        id: "algorithm",
        header: "Algorithm",
        accessorFn: (v) => v.algorithm,
        sortFn: "text",
        cell: ({ row }) => <span className="ellipsis">{row.original.algorithm || "–"}</span>,
      },
      ...metrics.map(
        (k): Col<ModelVersion> => ({
          id: `metric:${k}`,
          header: k,
          accessorFn: (v) => (typeof v.metrics[k] === "number" ? v.metrics[k] : -Infinity),
          sortFn: "basic",
          sortDescFirst: true,
          meta: { num: true, width: "92px" },
          cell: ({ row }) => formatMetric(row.original.metrics[k]),
        }),
      ),
      {
        id: "aliases",
        header: "Aliases",
        enableSorting: false,
        cell: ({ row }) =>
          row.original.aliases.length ? (
            <span className="tags">
              {row.original.aliases.map((a) => (
                <span key={a} className={`tag alias-tag${a === "production" ? " tag-primary" : ""}`} data-alias={a}>
                  {a}
                  <button
                    className="tag-x"
                    aria-label={`Remove alias ${a}`}
                    title={`Demote: remove “${a}”`}
                    onClick={(e) => {
                      e.stopPropagation();
                      setDemoting(a);
                    }}
                  >
                    <X size={11} />
                  </button>
                </span>
              ))}
            </span>
          ) : (
            <span className="muted small">–</span>
          ),
      },
      {
        id: "actions",
        header: () => <span className="sr-only">Actions</span>,
        enableSorting: false,
        meta: { width: "112px" },
        cell: ({ row }) => (
          <button
            className="btn btn-sm promote-btn"
            onClick={(e) => {
              e.stopPropagation();
              setPromoting(row.original);
            }}
            aria-label={`Promote version ${row.original.version}`}
          >
            <Rocket size={13} /> Promote
          </button>
        ),
      },
    ],
    [metrics, compare, modelId],
  );

  if (error && !model) {
    return (
      <div className="page">
        <Breadcrumbs items={[{ label: "Models", to: "/models" }, { label: "…" }]} />
        <PageError message={error} onRetry={reload} />
      </div>
    );
  }

  const latest = model?.versions[0];
  return (
    <div className="page model-page">
      <Breadcrumbs items={[{ label: "Models", to: "/models" }, { label: model?.name ?? "…" }]} />
      <div className="page-header">
        <div>
          <h1>{model?.name ?? <span className="skeleton-text" />}</h1>
          <p className="muted">
            {model && latest
              ? `${model.version_count} version${model.version_count === 1 ? "" : "s"} · ${latest.task}${latest.target ? ` of ${latest.target}` : ""}`
              : model
                ? "No versions"
                : "Loading…"}
          </p>
        </div>
        <div className="page-actions">
          {latest?.pipeline && (
            <Link to={`/pipelines/${latest.pipeline}/dashboard`} className="btn">
              Pipeline dashboard
            </Link>
          )}
          <button className="btn" onClick={() => setImporting(true)}>
            <Upload size={14} /> Import a version
          </button>
        </div>
      </div>

      {model && (
        <Card title="Aliases" subtitle="Serving and predict nodes load the version “production” points at" testId="aliases">
          {Object.keys(model.aliases).length ? (
            <div className="alias-cards">
              {Object.entries(model.aliases)
                .sort(([a], [b]) => (a === "production" ? -1 : b === "production" ? 1 : a.localeCompare(b)))
                .map(([alias, n]) => (
                  <div key={alias} className={`alias-card${alias === "production" ? " alias-production" : ""}`} data-testid="alias" data-alias={alias} data-version={n}>
                    <span className="alias-name">{alias}</span>
                    <ArrowRight size={13} className="muted" />
                    <Link to={`/models/${modelId}/versions/${n}`} className="strong-link">
                      v{n}
                    </Link>
                    <button className="icon-btn" aria-label={`Remove alias ${alias}`} title="Demote" onClick={() => setDemoting(alias)}>
                      <X size={14} />
                    </button>
                  </div>
                ))}
            </div>
          ) : (
            <p className="muted small">
              No alias yet. <strong>Promote</strong> a version to “production”: the pipeline serves
              predictions only from then on, with that version.
            </p>
          )}
        </Card>
      )}

      <Card title="Versions" flush subtitle="Tick two versions to compare them">
        {!model ? (
          <SkeletonBlock height={160} />
        ) : (
          <DataTable
            label="Versions"
            className="versions-table"
            columns={columns}
            data={model.versions}
            getRowId={(v) => String(v.version)}
            initialSorting={[{ id: "version", desc: true }]}
            onRowClick={(v) => navigate(`/models/${modelId}/versions/${v.version}`)}
            rowProps={(v) => ({
              "data-testid": "version-row",
              "data-version": String(v.version),
              className: compare.includes(v.version) ? "row-selected" : "",
            })}
          />
        )}
      </Card>

      {model && model.versions.length > 1 && metrics.length > 0 && (
        <Card title="Metrics by version" subtitle="The newest eight versions side by side" testId="version-metrics">
          <Chart
            option={versionMetricsOption(model.versions.slice(0, 8), metrics)}
            height={220}
            label={`Metrics ${metrics.join(", ")} of versions ${model.versions
              .slice(0, 8)
              .map((v) => `v${v.version}`)
              .join(", ")}`}
          />
        </Card>
      )}

      {model && model.versions.length > 1 && <ComparePanel modelId={modelId} versions={compare} />}

      {promoting && model && (
        <PromoteDialog
          model={model}
          version={promoting}
          onClose={() => setPromoting(null)}
          onDone={(m, alias) => {
            setModel(m);
            setPromoting(null);
            toast(`“${alias}” now points at v${promoting.version}.`, "success");
          }}
        />
      )}
      {demoting && (
        <ConfirmDialog
          title={`Remove the alias “${demoting}”?`}
          message={
            demoting === "production"
              ? "The pipeline stops serving predictions until you promote a version again."
              : "Nothing that loads the model by this alias will find it."
          }
          confirmLabel="Remove alias"
          danger
          busy={busy}
          onConfirm={() => demote(demoting)}
          onCancel={() => setDemoting(null)}
        />
      )}
      {importing && model && (
        <ImportModelDialog
          initialName={model.name}
          onClose={() => setImporting(false)}
          onImported={(v) => {
            setImporting(false);
            toast(`Imported as version ${v.version}.`, "success");
            reload();
          }}
        />
      )}
    </div>
  );
}

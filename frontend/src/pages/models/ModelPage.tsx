// One registered model: its versions and their metrics, aliases (promote / demote), and a
// side-by-side comparison of two versions.
import { ArrowRight, GitCompare, Rocket, Upload, X } from "lucide-react";
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import { formatDateTime, formatNumber, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { ConfirmDialog, Modal } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import type { Comparison, ModelDetail, ModelVersion } from "../../api/types";
import { Breadcrumbs, Card, formatMetric, Link, PageError, SkeletonBlock } from "../common";
import { DataTable, type Col } from "../DataTable";
import { useDocumentTitle } from "../hooks";
import { ImportModelDialog } from "../ImportModelDialog";
import { ALIAS_RE, metricColumns, metricDelta } from "./models";

export function ModelPage({ modelId }: { modelId: string }) {
  const [model, setModel] = useState<ModelDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [compare, setCompare] = useState<number[]>([]);
  const [promoting, setPromoting] = useState<ModelVersion | null>(null);
  const [demoting, setDemoting] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const [busy, setBusy] = useState(false);
  useDocumentTitle(model ? model.name : "Model");

  const load = useCallback(() => {
    api
      .model(modelId)
      .then((m) => {
        setModel(m);
        setError(null);
        // Compare the two newest versions until the user picks others.
        setCompare((c) => (c.length ? c : m.versions.slice(0, 2).map((v) => v.version).reverse()));
      })
      .catch((err) => setError(errorMessage(err)));
  }, [modelId]);
  useEffect(load, [load]);

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
        meta: { width: "92px" },
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
        meta: { width: "150px" },
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
          meta: { num: true },
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
        meta: { width: "104px" },
        cell: ({ row }) => (
          <button
            className="btn btn-sm"
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
        <PageError message={error} onRetry={load} />
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
              No alias yet. <strong>Promote</strong> a version to “production” to pin what serving uses; until
              then it uses the newest version.
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
              ? "Serving falls back to the newest version until you promote one again."
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
            load();
          }}
        />
      )}
    </div>
  );
}

function PromoteDialog({
  model,
  version,
  onClose,
  onDone,
}: {
  model: ModelDetail;
  version: ModelVersion;
  onClose: () => void;
  onDone: (m: ModelDetail, alias: string) => void;
}) {
  const [alias, setAlias] = useState("production");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const current = model.aliases[alias];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const a = alias.trim();
    if (!ALIAS_RE.test(a)) {
      setError("Use lower-case letters, digits, “-” and “_”.");
      return;
    }
    setBusy(true);
    try {
      onDone(await api.setAlias(model.id, a, version.version), a);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Promote v${version.version}`}
      onClose={onClose}
      footer={
        <>
          <button className="btn" type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="btn btn-primary" type="submit" form="promote-form" disabled={busy}>
            <Rocket size={14} /> Promote
          </button>
        </>
      }
    >
      <form id="promote-form" className="form-stack" onSubmit={submit}>
        <label className="field">
          <span className="field-label">Alias</span>
          <input value={alias} onChange={(e) => setAlias(e.target.value)} list="alias-suggestions" aria-invalid={!!error} autoFocus />
          <datalist id="alias-suggestions">
            {["production", "staging", "champion", "challenger", ...Object.keys(model.aliases)].map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <span className="field-help">
            {current === version.version
              ? `“${alias}” already points at v${version.version}.`
              : current
                ? `Moves “${alias}” from v${current} to v${version.version}.`
                : `Creates “${alias}” pointing at v${version.version}.`}
            {alias === "production" && " Serving and predict nodes pick the new version up on their next request."}
          </span>
          {error && <span className="field-error">{error}</span>}
        </label>
      </form>
    </Modal>
  );
}

function ComparePanel({ modelId, versions }: { modelId: string; versions: number[] }) {
  const [cmp, setCmp] = useState<Comparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [a, b] = versions;
  useEffect(() => {
    if (a === undefined || b === undefined) return;
    let alive = true;
    setError(null);
    api
      .compareModels(modelId, a, b)
      .then((c) => alive && setCmp(c))
      .catch((err) => alive && setError(errorMessage(err)));
    return () => {
      alive = false;
    };
  }, [modelId, a, b]);

  if (versions.length < 2) {
    return (
      <Card title={<><GitCompare size={15} /> Compare versions</>}>
        <p className="muted small">Tick two versions in the table above to see their metrics, params and training data side by side.</p>
      </Card>
    );
  }
  const metrics = cmp ? Object.entries(cmp.metrics) : [];
  const params = cmp ? Object.entries(cmp.params) : [];
  const td = cmp?.training_data;
  return (
    <Card title={<><GitCompare size={15} /> v{a} compared with v{b}</>} testId="compare" flush>
      {error ? (
        <p className="field-error node-note">{error}</p>
      ) : !cmp || cmp.a !== a || cmp.b !== b ? (
        <SkeletonBlock height={160} />
      ) : (
        <div className="compare-grid">
          <section>
            <h3 className="section-title">Metrics</h3>
            {metrics.length ? (
              <table className="grid-table compare-table">
                <thead>
                  <tr>
                    <th>Metric</th>
                    <th className="num">v{a}</th>
                    <th className="num">v{b}</th>
                    <th className="num">Change</th>
                  </tr>
                </thead>
                <tbody>
                  {metrics.map(([k, m]) => {
                    const d = metricDelta(k, m.a, m.b);
                    return (
                      <tr key={k}>
                        <td>{k}</td>
                        <td className="num">{formatMetric(m.a)}</td>
                        <td className="num">{formatMetric(m.b)}</td>
                        <td className={`num delta${d.better === true ? " delta-good" : d.better === false ? " delta-bad" : ""}`}>
                          {d.delta === null ? "–" : d.delta === 0 ? "=" : `${d.delta > 0 ? "+" : ""}${formatMetric(d.delta)}`}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            ) : (
              <p className="muted small">Neither version recorded metrics.</p>
            )}
          </section>
          <section>
            <h3 className="section-title">Params that differ</h3>
            {params.length ? (
              <table className="grid-table compare-table">
                <thead>
                  <tr>
                    <th>Param</th>
                    <th>v{a}</th>
                    <th>v{b}</th>
                  </tr>
                </thead>
                <tbody>
                  {params.map(([k, p]) => (
                    <tr key={k}>
                      <td className="mono">{k}</td>
                      <td className="mono diff-a">{JSON.stringify(p.a) ?? "–"}</td>
                      <td className="mono diff-b">{JSON.stringify(p.b) ?? "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted small">Same params.</p>
            )}
            <h3 className="section-title">Training data</h3>
            {td && (
              <ul className="diff-list">
                <li>
                  {td.same_data ? (
                    <span className="delta-good">Same data (identical content hash)</span>
                  ) : (
                    <span>Different data</span>
                  )}
                </li>
                <li>
                  Rows: {td.rows.a !== null ? formatNumber(td.rows.a) : "–"} → {td.rows.b !== null ? formatNumber(td.rows.b) : "–"}
                </li>
                {td.columns_added.length > 0 && (
                  <li>
                    Columns added: {td.columns_added.map((c) => <code key={c} className="diff-b">{c}</code>)}
                  </li>
                )}
                {td.columns_removed.length > 0 && (
                  <li>
                    Columns removed: {td.columns_removed.map((c) => <code key={c} className="diff-a">{c}</code>)}
                  </li>
                )}
                {Object.entries(td.type_changes).map(([c, t]) => (
                  <li key={c}>
                    <code>{c}</code>: {t.a} → {t.b}
                  </li>
                ))}
                {!td.columns_added.length && !td.columns_removed.length && !Object.keys(td.type_changes).length && (
                  <li className="muted">Same columns and types.</li>
                )}
              </ul>
            )}
          </section>
        </div>
      )}
    </Card>
  );
}

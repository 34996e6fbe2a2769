// The workspace's connections: list, create, edit, test and delete. Each shows where it points,
// which pipelines use it, and whether it is for dry runs only.
import { Pencil, PlugZap, Plus, Trash2, Unplug } from "lucide-react";
import { useMemo, useState } from "react";
import { errorMessage } from "../../api/client";
import { useConnectionsQuery } from "../../api/queries";
import type { Connection } from "../../api/types";
import { formatDateTime, plural, timeAgo } from "../../lib/format";
import { useSession } from "../../lib/session";
import { ConfirmDialog } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import { DataTable, type Col } from "../DataTable";
import { Link, PageError } from "../common";
import { useDocumentTitle } from "../hooks";
import { useDeleteConnection, useTestConnection, type TestResult } from "./api";
import { ConnectionDialog } from "./ConnectionForm";
import { connectionTarget, kindLabel } from "./kinds";
import "./connections.css";

type Editing = { connection?: Connection } | null;

export function ConnectionsPage() {
  useDocumentTitle("Connections");
  const q = useConnectionsQuery();
  const connections = q.data ?? null;
  // Owners add, change and delete connections; editors may test them; viewers only look.
  const role = useSession((s) => s.workspaces.find((w) => String(w.id) === s.workspaceId)?.role);
  const isOwner = role === "owner";
  const canTest = isOwner || role === "editor";
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [results, setResults] = useState<Record<string, TestResult | "testing">>({});
  const test = useTestConnection();

  const runTest = async (c: Connection) => {
    setResults((r) => ({ ...r, [c.id]: "testing" }));
    try {
      const result = await test.mutateAsync(c.id);
      setResults((r) => ({ ...r, [c.id]: result }));
    } catch (err) {
      setResults((r) => ({ ...r, [c.id]: { ok: false, message: errorMessage(err) } }));
    }
  };

  const columns = useMemo<Col<Connection>[]>(
    () => [
      {
        id: "name",
        header: "Connection",
        accessorFn: (c) => c.name,
        sortFn: "text",
        cell: ({ row }) => <NameCell connection={row.original} result={results[row.original.id]} />,
      },
      {
        id: "kind",
        header: "Kind",
        accessorFn: (c) => kindLabel(c.kind),
        sortFn: "text",
        meta: { width: "150px" },
        cell: ({ row }) => kindLabel(row.original.kind),
      },
      {
        id: "used",
        header: "Used by",
        accessorFn: (c) => c.used_by.length,
        sortFn: "basic",
        cell: ({ row }) => <UsedBy connection={row.original} />,
      },
      {
        id: "updated",
        header: "Updated",
        accessorFn: (c) => Date.parse(c.updated_at),
        sortFn: "basic",
        sortDescFirst: true,
        meta: { width: "110px" },
        cell: ({ row }) => (
          <span className="muted small" title={formatDateTime(row.original.updated_at)}>
            {timeAgo(row.original.updated_at)}
          </span>
        ),
      },
      {
        id: "actions",
        header: "",
        enableSorting: false,
        meta: { width: "250px" },
        cell: ({ row }) => (
          <div className="row-actions connection-actions">
            {canTest && (
              <button
                className="btn btn-sm"
                onClick={() => void runTest(row.original)}
                disabled={results[row.original.id] === "testing"}
              >
                <PlugZap size={13} /> Test
              </button>
            )}
            {isOwner && (
              <>
                <button className="btn btn-sm" onClick={() => setEditing({ connection: row.original })}>
                  <Pencil size={13} /> Edit
                </button>
                <button
                  className="btn btn-sm btn-danger-ghost"
                  onClick={() => setDeleting(row.original)}
                  aria-label={`Delete ${row.original.name}`}
                >
                  <Trash2 size={13} /> Delete
                </button>
              </>
            )}
          </div>
        ),
      },
    ],
    // runTest only sets state: the columns change with the results shown.
    [results, isOwner, canTest],
  );

  return (
    <div className="page connections-page">
      <div className="page-header">
        <div>
          <h1>Connections</h1>
          <p className="muted">
            {connections ? plural(connections.length, "connection") : "Loading…"} · databases, APIs, CRMs and
            webhooks your pipelines read from and send to
          </p>
        </div>
        <div className="page-actions">
          {isOwner ? (
            <button className="btn btn-primary" onClick={() => setEditing({})}>
              <Plus size={15} /> New connection
            </button>
          ) : (
            role && <span className="muted small">Only the workspace's owners add or change connections.</span>
          )}
        </div>
      </div>

      {q.error && <PageError message={`Could not load connections: ${errorMessage(q.error)}`} onRetry={() => void q.refetch()} />}

      {connections === null ? (
        !q.error && (
          <div className="pipeline-table skeleton-table" aria-busy="true">
            {[0, 1, 2].map((i) => (
              <div key={i} className="skeleton-row" />
            ))}
          </div>
        )
      ) : connections.length === 0 ? (
        <div className="empty-state">
          <div className="empty-icon">
            <Unplug size={28} />
          </div>
          <h2>No connections yet</h2>
          <p className="muted">
            A connection holds where a database, API, CRM or webhook is and the credentials to use it. Its secrets
            are stored encrypted and never shown again.
          </p>
          {isOwner && (
            <div className="button-row">
              <button className="btn btn-primary" onClick={() => setEditing({})}>
                <Plus size={15} /> New connection
              </button>
            </div>
          )}
        </div>
      ) : (
        <div className="table-card">
          <DataTable
            label="Connections"
            columns={columns}
            data={connections}
            getRowId={(c) => c.id}
            initialSorting={[{ id: "name", desc: false }]}
            rowProps={(c) => ({ "data-testid": "connection-row", "data-connection-id": c.id })}
          />
        </div>
      )}

      {editing && (
        <ConnectionDialog
          connection={editing.connection}
          onClose={() => setEditing(null)}
          onSaved={(c) => {
            setEditing(null);
            setResults(({ [c.id]: _, ...rest }) => rest);
          }}
        />
      )}
      {deleting && <DeleteDialog connection={deleting} onDone={() => setDeleting(null)} />}
    </div>
  );
}

function NameCell({ connection: c, result }: { connection: Connection; result?: TestResult | "testing" }) {
  const config = c.config as Record<string, unknown>;
  return (
    <div className="cell-stack">
      <span className="strong">
        {c.name}
        {config.dry_run_only === true && (
          <span className="tag tag-warn" title="Actions only show what they would send through it">
            Dry run only
          </span>
        )}
      </span>
      <span className="muted small ellipsis">{connectionTarget(config, c.secret_fields) || "–"}</span>
      {result === "testing" ? (
        <span className="muted small" role="status">
          Testing…
        </span>
      ) : (
        result && (
          <span className={`connection-test small ${result.ok ? "is-ok" : "is-failed"}`} role="status" data-testid="row-test-result">
            {result.message}
          </span>
        )
      )}
    </div>
  );
}

function UsedBy({ connection: c }: { connection: Connection }) {
  if (!c.used_by.length) return <span className="muted small">Not used</span>;
  return (
    <span className="used-by">
      {c.used_by.map((p, i) => (
        <span key={p.id}>
          {i > 0 && ", "}
          <Link to={`/pipelines/${p.id}`}>{p.name}</Link>
        </span>
      ))}
    </span>
  );
}

function DeleteDialog({ connection, onDone }: { connection: Connection; onDone: () => void }) {
  const remove = useDeleteConnection();
  const [error, setError] = useState<string | null>(null);
  const inUse = connection.used_by.length > 0;
  return (
    <ConfirmDialog
      title={`Delete ${connection.name}?`}
      danger
      busy={remove.isPending}
      confirmLabel="Delete"
      onCancel={onDone}
      onConfirm={async () => {
        try {
          await remove.mutateAsync(connection.id);
          toast(`Deleted “${connection.name}”.`, "success");
          onDone();
        } catch (err) {
          setError(errorMessage(err));
        }
      }}
      message={
        // The server's refusal replaces the notice: it names the pipelines as of now.
        error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : (
          <p>
            {inUse
              ? `Used by ${connection.used_by.map((p) => `“${p.name}”`).join(", ")}: a connection in use cannot be deleted; pick another one in those pipelines first.`
              : "No pipeline uses it. Its stored secrets are deleted with it."}
          </p>
        )
      }
    />
  );
}

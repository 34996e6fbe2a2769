// One node of a run: what it did, its output, logs, error, files and approval gate.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { AlertTriangle, Ban, Check, Database as Cached, Hand, X } from "lucide-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { api, errorMessage } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import type { NodeRun, OperatorSpec, Preview } from "../../api/types";
import { formatDuration, formatNumber, plural } from "../../lib/format";
import { OperatorIcon } from "../../ui/OperatorIcon";
import { DownloadLinks, OutputFiles, PortSwitch, PreviewTable } from "../../ui/OutputParts";
import { StatusBadge } from "../../ui/StatusBadge";
import { TabList, type TabItem } from "../../ui/TabList";
import { resultsPort } from "./actionResults";
import { pushdownNote } from "../../lib/pushdown";
import { SourceReport } from "./SourceReport";

type Tab = "output" | "logs" | "error" | "files";

export function NodePanel({
  runId,
  node,
  spec,
  label,
  labels = {},
  busy,
  onApprove,
  onReject,
}: {
  runId: string;
  node: NodeRun;
  spec?: OperatorSpec;
  label: string;
  labels?: Record<string, string>;
  busy: boolean;
  onApprove: () => void;
  onReject: () => void;
}) {
  const tablePorts = useMemo(
    () =>
      Object.entries(node.outputs ?? {})
        .filter(([, o]) => o.kind === "table")
        .map(([name, o]) => ({ name, rows: o.rows })),
    [node.outputs],
  );
  const hasOutput = (node.status === "succeeded" || node.status === "waiting") && tablePorts.length > 0;
  const failed = node.status === "failed" && !!node.error;
  const defaultTab: Tab = failed ? "error" : hasOutput ? "output" : "logs";
  const [tab, setTab] = useState<Tab>(defaultTab);
  useEffect(() => setTab(defaultTab), [node.node_id, defaultTab]);
  const tabs: TabItem<Tab>[] = [];
  if (hasOutput) tabs.push({ id: "output", label: "Output" });
  if (failed) tabs.push({ id: "error", label: "Error" });
  tabs.push({ id: "logs", label: "Logs", count: node.logs?.length ?? 0 });
  if (node.files?.length > 0) tabs.push({ id: "files", label: "Files", count: node.files.length });

  return (
    <div className="node-panel" data-testid="node-panel" data-node-id={node.node_id}>
      <div className="node-panel-head">
        <span className={`inspector-icon cat-${spec?.category ?? "transform"}`}>
          <OperatorIcon name={spec?.icon} category={spec?.category} size={17} />
        </span>
        <div className="node-panel-title">
          <h3>{label}</h3>
          <span className="muted small mono">
            {node.node_id} · {node.operator}
          </span>
        </div>
        <StatusBadge status={node.status} />
      </div>
      <dl className="facts">
        <div>
          <dt>Rows out</dt>
          <dd>{node.rows_out !== null && node.rows_out !== undefined ? formatNumber(node.rows_out) : "–"}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{typeof node.duration_ms === "number" ? formatDuration(node.duration_ms) : "–"}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{node.attempts ?? "–"}</dd>
        </div>
        <div>
          <dt>Cache</dt>
          <dd>
            {node.cached ? (
              <span className="op-cached" data-testid="cached-marker">
                <Cached size={10} /> reused
              </span>
            ) : (
              "computed"
            )}
          </dd>
        </div>
      </dl>

      {node.source && <SourceReport report={node.source} />}
      {pushdownNote(node, labels) && (
        <div className="banner banner-muted pushdown-note" role="note" data-testid="pushdown-note">
          <Cached size={16} />
          <span>{pushdownNote(node, labels)}</span>
        </div>
      )}

      {node.status === "cancelled" && node.error && (
        <div className="banner banner-muted approval-banner" role="status" data-testid="node-cancelled-note">
          <Ban size={16} />
          <span>{node.error}</span>
        </div>
      )}
      {node.status === "waiting" && (
        <div className="banner banner-warn approval-banner" role="status">
          <Hand size={16} />
          <span>
            <strong>Waiting for your approval.</strong> Right below: the records it will send. Approve
            to send them, or reject to end the run with nothing sent.
          </span>
          <button className="btn btn-sm" onClick={onReject} disabled={busy}>
            <X size={14} /> Reject
          </button>
          <button className="btn btn-sm btn-primary" onClick={onApprove} disabled={busy}>
            <Check size={14} /> Approve and send
          </button>
        </div>
      )}

      <TabList className="tabs node-tabs" items={tabs} active={tab} onSelect={setTab} />

      <div className="node-tab-body">
        {tab === "error" && failed && (
          <div className="node-error" data-testid="node-error" role="alert">
            <AlertTriangle size={16} />
            <div>
              <p className="node-error-message">{node.error}</p>
              {node.error_field && (
                <p className="small">
                  In the setting <code>{node.error_field}</code> of this node.
                </p>
              )}
              <p className="muted small">Open the pipeline in the editor to fix the node, then re-run.</p>
            </div>
          </div>
        )}
        {tab === "logs" && (
          node.logs?.length ? (
            <pre className="logs node-logs">{node.logs.join("\n")}</pre>
          ) : (
            <p className="muted small node-note">No log lines{node.status === "pending" ? " yet" : ""}.</p>
          )
        )}
        {tab === "files" && <OutputFiles files={node.files} />}
        {tab === "output" && hasOutput && (
          <OutputPreview
            runId={runId}
            node={node}
            ports={tablePorts}
            initial={resultsPort(node.outputs) ?? tablePorts[0].name}
          />
        )}
      </div>
    </div>
  );
}

function OutputPreview({
  runId,
  node,
  ports,
  initial,
}: {
  runId: string;
  node: NodeRun;
  ports: { name: string; rows: number | null }[];
  initial: string;
}) {
  const [port, setPort] = useState(initial);
  useEffect(() => setPort(initial), [node.node_id, initial]);
  // Another node's table starts at its top-left, not where the last one was scrolled to.
  const scroller = useRef<HTMLDivElement>(null);
  // Braces: Chromium's scrollTo returns a promise, which React would take for a cleanup.
  useEffect(() => {
    scroller.current?.scrollTo(0, 0);
  }, [node.node_id, port]);
  const q = useQuery({
    // Read again when the node moves on; the last preview stays up while the next loads.
    queryKey: [...queryKeys.runs.preview(runId, node.node_id, port, 50), node.status],
    queryFn: ({ signal }) => api.preview(runId, node.node_id, port, 50, signal),
    placeholderData: keepPreviousData,
  });
  const preview: Preview | null = q.data ?? null;
  const error = q.error ? errorMessage(q.error) : null;

  return (
    <div className="node-output">
      <div className="output-toolbar">
        <PortSwitch ports={ports.map((p) => ({ id: p.name, label: p.name }))} active={port} onSelect={setPort} />
        <span className="muted small output-meta">
          {preview
            ? preview.total_rows > preview.rows.length
              ? `First ${formatNumber(preview.rows.length)} of ${plural(preview.total_rows, "row")}`
              : plural(preview.total_rows, "row")
            : "Loading…"}
        </span>
        <span className="spacer" />
        <DownloadLinks runId={runId} nodeId={node.node_id} port={port} />
      </div>
      {error ? (
        <p className="field-error node-note">{error}</p>
      ) : (
        <div className="table-scroll node-preview" data-testid="node-preview" ref={scroller}>
          {preview && <PreviewTable preview={preview} />}
        </div>
      )}
    </div>
  );
}

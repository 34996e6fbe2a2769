import { useEffect, useMemo, useState } from "react";
import type { NodeRun, OperatorSpec } from "../../api/types";
import { DownloadLinks, OutputFiles, PortSwitch } from "../../ui/OutputParts";
import { TabList, type TabItem } from "../../ui/TabList";
import { SourceReport } from "../../pages/run-detail/SourceReport";
import { ApprovalBanner } from "./ApprovalBanner";
import { DataView } from "./DataView";
import { isMetricsPort, metricsOf } from "./metrics";
import { StatsTable } from "./StatsTable";
import { usePreview } from "./usePreview";

type View = "data" | "stats" | "logs" | "files";

/** One node's output from the last run: a port switch, then data, stats, logs and files. */
export function NodeOutput({
  nodeRun,
  op,
  runId,
}: {
  nodeRun: NodeRun;
  op: OperatorSpec | undefined;
  runId: string;
}) {
  const ports = useMemo(() => {
    const declared = op?.outputs.map((p) => p.name) ?? [];
    const produced = Object.keys(nodeRun.outputs ?? {});
    return [...declared, ...produced.filter((p) => !declared.includes(p))];
  }, [op, nodeRun.outputs]);
  const waiting = nodeRun.status === "waiting";
  // null: the port that matters now; while an action waits, what it will send (its
  // preview), even if the drawer was opened while the node was still running.
  const [port, setPort] = useState<string | null>(null);
  const [view, setView] = useState<View>("data");
  useEffect(() => {
    if (waiting) {
      setPort(null);
      setView("data");
    }
  }, [waiting]);
  const fallback = waiting && ports.includes("preview") ? "preview" : (ports[0] ?? "");
  const activePort = port !== null && ports.includes(port) ? port : fallback;
  const out = nodeRun.outputs?.[activePort];
  const portSpec = op?.outputs.find((p) => p.name === activePort);
  const isModel = out?.kind === "model" || portSpec?.type === "model";
  const ready = (nodeRun.status === "succeeded" || waiting) && !!out;
  const { preview, error, loading } = usePreview(runId, nodeRun.node_id, activePort, ready, isModel);
  const metrics = preview && isMetricsPort(op, activePort) ? metricsOf(preview) : null;

  const tabs: TabItem<View>[] = [
    { id: "data", label: isModel ? "Summary" : metrics ? "Metrics" : "Data" },
    { id: "stats", label: "Schema & stats" },
    { id: "logs", label: "Logs", count: nodeRun.logs?.length || undefined },
  ];
  if (nodeRun.files?.length) tabs.push({ id: "files", label: "Files", count: nodeRun.files.length });
  const activeView = tabs.some((t) => t.id === view) ? view : "data";

  return (
    <div className="output">
      <div className="output-toolbar">
        <PortSwitch
          ports={ports.map((p) => ({ id: p, label: op?.outputs.find((x) => x.name === p)?.label ?? p }))}
          active={activePort}
          onSelect={setPort}
        />
        <TabList label="Output view" items={tabs} active={activeView} onSelect={setView} />
        <div className="spacer" />
        {ready && !isModel && <DownloadLinks runId={runId} nodeId={nodeRun.node_id} port={activePort} />}
      </div>
      <div className="output-body">
        {waiting && <ApprovalBanner runId={runId} nodeId={nodeRun.node_id} />}
        {nodeRun.status === "failed" && nodeRun.error && (
          <div className="banner banner-error output-error" role="alert">
            {nodeRun.error}
          </div>
        )}
        {nodeRun.status === "cancelled" && nodeRun.error && (
          <div className="banner banner-muted output-error" role="status" data-testid="node-cancelled-note">
            {nodeRun.error}
          </div>
        )}
        {activeView === "data" && nodeRun.source && <SourceReport report={nodeRun.source} compact />}
        {activeView === "data" && (
          <DataView
            status={nodeRun.status}
            ready={ready}
            isModel={isModel}
            out={out}
            preview={preview}
            metrics={metrics}
            loading={loading}
            error={error}
          />
        )}
        {activeView === "stats" &&
          (preview || out?.schema ? (
            <StatsTable preview={preview} schema={out?.schema ?? null} />
          ) : (
            <p className="muted output-note">No schema yet.</p>
          ))}
        {activeView === "logs" &&
          (nodeRun.logs?.length ? (
            <pre className="logs">{nodeRun.logs.join("\n")}</pre>
          ) : (
            <p className="muted output-note">No log lines.</p>
          ))}
        {activeView === "files" && <OutputFiles files={nodeRun.files} />}
      </div>
    </div>
  );
}

// "Sample" in a source node's inspector: up to 100 rows the source would read with the settings
// as they are, and their columns, known to the nodes after it at once (the graph is validated
// again; the server remembers the columns).
import { useMutation } from "@tanstack/react-query";
import { Eye, Loader2 } from "lucide-react";
import { useEffect, useMemo, useRef } from "react";
import { api } from "../../api/client";
import type { OperatorSpec } from "../../api/types";
import { plural } from "../../lib/format";
import { PreviewTable } from "../../ui/OutputParts";
import { useEditorApi } from "../context";
import { refusalMessage } from "./sourceOptions";
import { sampleAsPreview } from "./sample";
import "./params.css";

export function SourceSample({ nodeId, op, params }: { nodeId: string; op: OperatorSpec; params: Record<string, unknown> }) {
  const store = useEditorApi();
  const section = useRef<HTMLElement>(null);
  const key = JSON.stringify(params);
  const sample = useMutation({
    mutationFn: (p: Record<string, unknown>) => api.operatorSample(op.name, p),
    onSuccess: (s) => {
      const port = op.outputs.find((o) => o.type === "table")?.name ?? op.outputs[0]?.name;
      if (port && Array.isArray(s.columns)) store.getState().sampled(nodeId, port, s.columns);
    },
  });
  // The rows (or the refusal) come in under the last setting: brought into view.
  useEffect(() => {
    if (sample.data || sample.error) section.current?.scrollIntoView({ block: "nearest" });
  }, [sample.data, sample.error]);
  const preview = useMemo(() => (sample.data ? sampleAsPreview(sample.data) : null), [sample.data]);
  const stale = sample.variables !== undefined && JSON.stringify(sample.variables) !== key;
  return (
    <section className="source-sample" aria-label="Sample" ref={section}>
      <div className="source-sample-head">
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => sample.mutate(params)}
          disabled={sample.isPending}
          title="Read up to 100 rows with these settings; the nodes after this one learn its columns"
        >
          {sample.isPending ? <Loader2 size={13} className="spin" /> : <Eye size={13} />}{" "}
          {sample.isPending ? "Sampling…" : sample.data ? "Sample again" : "Sample"}
        </button>
        {preview && (
          <span className="muted small" data-testid="sample-meta">
            {plural(preview.rows.length, "row")} · {plural(preview.columns.length, "column")}
            {stale ? " · settings changed since" : ""}
          </span>
        )}
      </div>
      {sample.error && (
        <p className="field-error" role="alert" data-testid="sample-error">
          {refusalMessage(sample.error)}
        </p>
      )}
      {preview && (
        <div className="table-scroll source-sample-table" data-testid="sample-table">
          <PreviewTable preview={preview} />
        </div>
      )}
    </section>
  );
}

// The diff of any two saved versions of the pipeline, picked in two dropdowns: nodes added
// (green), removed (red) and changed (amber, each setting as old → new), connections added
// and removed, and nodes that only moved.
import {
  ArrowLeftRight,
  CheckCircle2,
  GitCompare,
  Loader2,
  Minus,
  Move,
  PenLine,
  Plus,
  RotateCcw,
  type LucideIcon,
} from "lucide-react";
import { useQuery } from "@tanstack/react-query";
import { useId, useMemo, type ReactNode } from "react";
import { errorMessage } from "../api/client";
import type { PipelineVersion, VersionDiff } from "../api/types";
import { formatDateTime, timeAgo } from "../lib/format";
import { OperatorIcon } from "../ui/OperatorIcon";
import { useEditor } from "./context";
import { versionDiffQuery } from "./queries";
import {
  describeDiff,
  summarize,
  summaryParts,
  versionName,
  type ChangeKind,
  type DiffView,
  type EdgeChange,
  type FieldChange,
  type NodeChange,
  type NodeRef,
} from "./versionDiff";

type Pair = { a: string; b: string };

export function VersionCompare({
  versions,
  pair,
  onPair,
  canRestore,
  onRestore,
}: {
  versions: PipelineVersion[];
  pair: Pair;
  onPair: (pair: Pair) => void;
  canRestore: (v: PipelineVersion) => boolean;
  onRestore: (v: PipelineVersion) => void;
}) {
  const diff = useDiff(pair);
  const catalogue = useEditor((s) => s.catalogue);
  const a = versions.find((v) => v.hash === pair.a);
  const b = versions.find((v) => v.hash === pair.b);
  const view = useMemo(
    () => (diff.data && a && b ? describeDiff(diff.data, a.graph, b.graph, catalogue) : null),
    [diff.data, a, b, catalogue],
  );
  const picker = (side: "a" | "b", label: string) => (
    <VersionPicker
      label={label}
      versions={versions}
      value={pair[side]}
      onChange={(hash) => onPair({ ...pair, [side]: hash })}
      canRestore={canRestore}
      onRestore={onRestore}
    />
  );

  return (
    <div className="vdiff">
      <div className="vdiff-pickers">
        {picker("a", "From")}
        <button
          className="icon-btn vdiff-swap"
          aria-label="Swap versions"
          title="Swap versions"
          onClick={() => onPair({ a: pair.b, b: pair.a })}
        >
          <ArrowLeftRight size={16} />
        </button>
        {picker("b", "To")}
      </div>
      {pair.a === pair.b ? (
        <Empty title="Same version on both sides" icon={GitCompare}>Pick two different versions to see what changed.</Empty>
      ) : diff.error ? (
        <p className="field-error">Could not compare these versions: {diff.error}</p>
      ) : !view ? (
        <p className="muted vdiff-loading">
          <Loader2 size={14} className="spin" /> Comparing…
        </p>
      ) : (
        <DiffBody view={view} />
      )}
    </div>
  );
}

/** The API's diff of the pair, fetched again whenever the pair changes. */
function useDiff(pair: Pair): { data: VersionDiff | null; error: string | null } {
  const pipelineId = useEditor((s) => s.pipelineId);
  // A diff of the pair before is not shown while this one loads: each pair has its own query.
  const q = useQuery({ ...versionDiffQuery(pipelineId, pair.a, pair.b), enabled: pair.a !== pair.b });
  if (pair.a === pair.b) return { data: null, error: null };
  return { data: q.data ?? null, error: q.error ? errorMessage(q.error) : null };
}

function VersionPicker({
  label,
  versions,
  value,
  onChange,
  canRestore,
  onRestore,
}: {
  label: string;
  versions: PipelineVersion[];
  value: string;
  onChange: (hash: string) => void;
  canRestore: (v: PipelineVersion) => boolean;
  onRestore: (v: PipelineVersion) => void;
}) {
  const id = useId();
  const v = versions.find((x) => x.hash === value);
  const name = versionName(versions, value);
  return (
    <div className="vdiff-picker" data-testid={`compare-${label.toLowerCase()}`}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {versions.map((x) => (
          <option key={x.hash} value={x.hash}>
            {versionName(versions, x.hash)} · {x.hash.slice(0, 8)} · {timeAgo(x.created_at)}
            {x.current ? " · current" : ""}
          </option>
        ))}
      </select>
      <div className="vdiff-picker-meta">
        <span className="muted small" title={v ? formatDateTime(v.created_at) : undefined}>
          {v ? `${v.created_by || "unknown"} · ${v.graph?.nodes?.length ?? 0} nodes` : ""}
        </span>
        {v && (
          <button
            className="btn btn-sm"
            onClick={() => onRestore(v)}
            disabled={!canRestore(v)}
            aria-label={`Restore ${name}`}
          >
            <RotateCcw size={13} /> Restore
          </button>
        )}
      </div>
    </div>
  );
}

function DiffBody({ view }: { view: DiffView }) {
  if (!view.nodes.length && !view.edges.length) {
    return view.moved.length ? (
      <Empty title="No differences in nodes, connections or settings">
        Only the layout changed: {view.moved.map((n) => n.title).join(", ")} moved on the canvas.
      </Empty>
    ) : (
      <Empty title="No differences">These two versions hold the same graph.</Empty>
    );
  }
  return (
    <>
      <ul className="vdiff-summary" data-testid="diff-summary" aria-label={summarize(view)}>
        {summaryParts(view).map((p) => (
          <li key={p.text} className={`vdiff-count vdiff-${p.kind}`}>
            {p.text}
          </li>
        ))}
      </ul>
      {view.nodes.length > 0 && (
        <section className="vdiff-section" aria-label="Nodes">
          <h3>Nodes</h3>
          <ul className="vdiff-list">
            {view.nodes.map((n) => (
              <NodeItem key={`${n.kind}:${n.node.id}`} change={n} />
            ))}
          </ul>
        </section>
      )}
      {view.edges.length > 0 && (
        <section className="vdiff-section" aria-label="Connections">
          <h3>Connections</h3>
          <ul className="vdiff-list">
            {view.edges.map((e) => (
              <EdgeItem key={`${e.kind}:${e.source.id}.${e.sourcePort}>${e.target.id}.${e.targetPort}`} change={e} />
            ))}
          </ul>
        </section>
      )}
      {view.moved.length > 0 && (
        <p className="muted small vdiff-moved">
          <Move size={13} /> Moved on the canvas: {view.moved.map((n) => n.title).join(", ")}
        </p>
      )}
    </>
  );
}

const SIGN: Record<ChangeKind, LucideIcon> = { added: Plus, removed: Minus, changed: PenLine };

function Sign({ kind }: { kind: ChangeKind }) {
  const Icon = SIGN[kind];
  return (
    <span className="vdiff-sign" aria-hidden="true">
      <Icon size={12} strokeWidth={2.5} />
    </span>
  );
}

function NodeItem({ change }: { change: NodeChange }) {
  const { kind, node, fields } = change;
  return (
    <li className={`vdiff-item vdiff-${kind}`} data-testid="diff-node" data-change={kind} data-node-id={node.id}>
      <div className="vdiff-node">
        <Sign kind={kind} />
        <span className="vdiff-node-icon">
          <OperatorIcon name={node.icon} category={node.category} size={14} />
        </span>
        <span className="vdiff-node-title">{node.title}</span>
        <span className="vdiff-node-sub">
          {node.title !== node.operatorLabel ? `${node.operatorLabel} · ` : ""}
          {node.id}
        </span>
        <span className="vdiff-kind">{kind}</span>
      </div>
      {fields.length > 0 && (
        <ul className="vdiff-fields">
          {fields.map((f) => (
            <FieldItem key={f.field} change={f} />
          ))}
        </ul>
      )}
    </li>
  );
}

function FieldItem({ change: f }: { change: FieldChange }) {
  return (
    <li data-testid="diff-field" data-field={f.field}>
      <span className="vdiff-field">{f.field}</span>:{" "}
      <span className={f.oldUnset ? "vdiff-unset" : "vdiff-old"} title={f.oldFull}>
        {f.old}
      </span>{" "}
      <span className="vdiff-arrow">→</span>{" "}
      <span className={f.newUnset ? "vdiff-unset" : "vdiff-new"} title={f.newFull}>
        {f.new}
      </span>
    </li>
  );
}

function EdgeItem({ change: e }: { change: EdgeChange }) {
  const end = (n: NodeRef, port: string) => (
    <span className="vdiff-end">
      <span className="vdiff-node-title">{n.title}</span> <code>{port}</code>
    </span>
  );
  return (
    <li className={`vdiff-item vdiff-${e.kind}`} data-testid="diff-edge" data-change={e.kind}>
      <div className="vdiff-node">
        <Sign kind={e.kind} />
        {end(e.source, e.sourcePort)}
        <span className="vdiff-arrow">→</span>
        {end(e.target, e.targetPort)}
        <span className="vdiff-kind">{e.kind}</span>
      </div>
    </li>
  );
}

function Empty({ title, icon: Icon = CheckCircle2, children }: { title: string; icon?: LucideIcon; children: ReactNode }) {
  return (
    <div className="vdiff-empty" data-testid="diff-empty">
      <Icon size={20} className={Icon === CheckCircle2 ? "vdiff-empty-ok" : "muted"} />
      <strong>{title}</strong>
      <span className="muted small">{children}</span>
    </div>
  );
}

import { ChevronDown, DatabaseZap, Play, RotateCcw, StepForward } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { ConfirmDialog } from "../../ui/Modal";
import { useEditor, useEditorApi } from "../context";
import { runFromNode, useNodeRunItems, useRunBlocker } from "../NodeRunActions";
import type { EditorStore } from "../store";

/** The one selected node, or null (none, or several). */
function selectedNode(s: EditorStore): string | null {
  let found: string | null = null;
  for (const n of s.nodes) {
    if (!n.selected) continue;
    if (found !== null) return null;
    found = n.id;
  }
  return found;
}

/** What a full refresh does, in the menu and in its confirmation. */
export const FULL_REFRESH_TEXT = "Sources read everything again from the start; cursors start over.";

/** How many of the pipeline's nodes are sources (connectors): what a full refresh reads again. */
function sourceCount(s: EditorStore): number {
  return s.nodes.filter((n) => s.catalogue[n.data.operator]?.category === "connector").length;
}

/**
 * The Run button's other options: a run that recomputes every node, a full refresh of the
 * sources, and, for the selected node, "Run this node" and "Run up to here".
 */
export function RunMenu({
  disabled,
  onForce,
  onFullRefresh,
}: {
  disabled: boolean;
  onForce: () => void;
  onFullRefresh: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const sources = useEditor(sourceCount);
  const ref = useRef<HTMLDivElement>(null);
  const store = useEditorApi();
  const blocker = useRunBlocker();
  const selected = useEditor(selectedNode);
  const nodeItems = useNodeRunItems(selected);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        const items = [...(ref.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
        const i = items.indexOf(document.activeElement as HTMLElement);
        if (i < 0) return;
        e.preventDefault();
        items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length]?.focus();
        return;
      }
      if (e.key !== "Escape") return;
      e.stopPropagation(); // closes the menu only, not the canvas selection too
      setOpen(false);
    };
    document.addEventListener("pointerdown", onDown);
    document.addEventListener("keydown", onKey);
    ref.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    return () => {
      document.removeEventListener("pointerdown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  return (
    <div ref={ref} style={{ display: "contents" }}>
      <button
        className="btn btn-primary run-more"
        aria-label="More run options"
        aria-haspopup="menu"
        aria-expanded={open}
        title="More run options"
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
      >
        <ChevronDown size={14} />
      </button>
      {open && (
        <div className="run-menu" role="menu" aria-label="Run options">
          <button
            role="menuitem"
            aria-disabled={!!blocker}
            onClick={() => {
              if (blocker) return;
              setOpen(false);
              onForce();
            }}
          >
            <span>
              <RotateCcw size={13} /> Force re-run
            </span>
            <small>{blocker ?? "Recompute every node, ignoring cached outputs"}</small>
          </button>
          <button
            role="menuitem"
            aria-disabled={!!blocker || !sources}
            data-action="full-refresh"
            onClick={() => {
              if (blocker || !sources) return;
              setOpen(false);
              setConfirming(true);
            }}
          >
            <span>
              <DatabaseZap size={13} /> Full refresh
            </span>
            <small>{blocker ?? (sources ? FULL_REFRESH_TEXT : "The pipeline has no source to read again")}</small>
          </button>
          {nodeItems.map((it) => (
            <button
              key={it.scope}
              role="menuitem"
              aria-disabled={!!it.blocker}
              data-scope={it.scope}
              onClick={() => {
                if (it.blocker || !selected) return;
                setOpen(false);
                runFromNode(store, selected, it.scope);
              }}
            >
              <span>
                {it.scope === "node" ? <Play size={13} /> : <StepForward size={13} />} {it.label}
                {selected && <span className="muted"> · {selected}</span>}
              </span>
              <small>{it.blocker ?? it.hint}</small>
            </button>
          ))}
        </div>
      )}
      {confirming &&
        createPortal(
          <ConfirmDialog
            title="Run with a full refresh?"
            message={
              <>
                <p>{FULL_REFRESH_TEXT}</p>
                <p className="muted small">
                  Later runs fetch only what changed since this one.
                </p>
              </>
            }
            confirmLabel="Run full refresh"
            onConfirm={() => {
              setConfirming(false);
              onFullRefresh();
            }}
            onCancel={() => setConfirming(false)}
          />,
          document.body,
        )}
    </div>
  );
}

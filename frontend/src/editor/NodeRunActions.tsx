// Running part of the pipeline from a node: "Run this node" (the node alone, on its inputs'
// cached outputs) and "Run up to here" (the node and everything upstream of it), from a bar over
// the node on hover or focus, from its context menu (right click, or Shift+F10 / the menu key on
// the focused node), and from the Run button's menu for the selected node.
import { Play, StepForward } from "lucide-react";
import { useEffect, useRef, useState, type RefObject } from "react";
import { createPortal } from "react-dom";
import type { StoreApi } from "zustand";
import { startRun } from "./actions";
import { useEditor, useEditorApi } from "./context";
import type { RunScope } from "./queries";
import { isRunActive } from "./runState";
import type { EditorStore } from "./store";
import "./runNode.css";

export const RUN_NODE = "Run this node";
export const RUN_UP_TO_HERE = "Run up to here";

/** Why the pipeline cannot run now, or null when it can. */
export function runBlocker(s: EditorStore): string | null {
  if (!s.nodes.length) return "Empty: add a node to start.";
  if (isRunActive(s.run)) return "A run is under way.";
  const n = s.errors.length;
  if (n) return `Fix ${n === 1 ? "the issue" : `the ${n} issues`} first: ${s.errors[0].message}`;
  return null;
}

export function useRunBlocker(): string | null {
  return useEditor(runBlocker);
}

/**
 * Why "Run this node" cannot run `id` now, or null. Its inputs come from the cache, so an input
 * the plan says will run (no cached output) stops it; the server checks again when asked.
 */
export function runNodeBlocker(s: EditorStore, id: string): string | null {
  const blocked = runBlocker(s);
  if (blocked) return blocked;
  if (!s.planStatus) return null;
  const missing = [...new Set(s.edges.filter((e) => e.target === id).map((e) => e.source))]
    .filter((src) => s.planStatus?.[src] !== "cached")
    .sort();
  if (!missing.length) return null;
  const names = missing.map((m) => nodeName(s, m));
  return `${names.join(", ")} ${names.length === 1 ? "has" : "have"} no cached output yet: use ${RUN_UP_TO_HERE}.`;
}

function nodeName(s: EditorStore, id: string): string {
  const node = s.nodes.find((n) => n.id === id);
  const label = node?.data.label || s.catalogue[node?.data.operator ?? ""]?.label;
  return label ? `${label} (${id})` : id;
}

export function runFromNode(store: StoreApi<EditorStore>, target: string, scope: RunScope): void {
  void startRun(store, { target, scope });
}

interface Item {
  scope: RunScope;
  label: string;
  hint: string;
  blocker: string | null;
}

/** The two ways to run from node `id`, each with what stops it (null when it can run). */
export function useNodeRunItems(id: string | null): Item[] {
  const whole = useRunBlocker();
  const single = useEditor((s) => (id ? runNodeBlocker(s, id) : "Select one node on the canvas."));
  return [
    {
      scope: "node",
      label: RUN_NODE,
      hint: "Only this node, on its inputs' cached outputs",
      blocker: id ? single : "Select one node on the canvas.",
    },
    {
      scope: "upstream",
      label: RUN_UP_TO_HERE,
      hint: "This node and everything before it; nothing after it",
      blocker: id ? whole : "Select one node on the canvas.",
    },
  ];
}

const ICONS = { node: Play, upstream: StepForward } as const;

/** The bar over a node (shown on hover, on focus and when selected). */
export function NodeRunBar({ id }: { id: string }) {
  const store = useEditorApi();
  const items = useNodeRunItems(id);
  return (
    <div className="node-run-bar nodrag nopan" role="group" aria-label="Run from this node">
      {items.map((it) => {
        const Icon = ICONS[it.scope];
        return (
          <button
            key={it.scope}
            type="button"
            className="node-run-btn"
            data-scope={it.scope}
            aria-disabled={!!it.blocker}
            title={it.blocker ? `${it.label}: ${it.blocker}` : `${it.label}: ${it.hint.toLowerCase()}`}
            onClick={(e) => {
              e.stopPropagation();
              if (!it.blocker) runFromNode(store, id, it.scope);
            }}
          >
            <Icon size={11} fill={it.scope === "node" ? "currentColor" : "none"} /> {it.label}
          </button>
        );
      })}
    </div>
  );
}

/**
 * The node's context menu: right click on it, or Shift+F10 / the context-menu key while it has
 * the focus (the event then comes to React Flow's wrapper around the node, so we listen there).
 */
export function NodeContextMenu({ id, nodeRef }: { id: string; nodeRef: RefObject<HTMLDivElement | null> }) {
  const [at, setAt] = useState<{ x: number; y: number } | null>(null);
  useEffect(() => {
    const wrapper = nodeRef.current?.closest<HTMLElement>(".react-flow__node");
    if (!wrapper) return;
    const onMenu = (e: MouseEvent) => {
      e.preventDefault();
      e.stopPropagation();
      if (e.clientX || e.clientY) setAt({ x: e.clientX, y: e.clientY });
      else {
        const r = wrapper.getBoundingClientRect();
        setAt({ x: r.left + 12, y: r.top + 12 });
      }
    };
    wrapper.addEventListener("contextmenu", onMenu);
    return () => wrapper.removeEventListener("contextmenu", onMenu);
  }, [nodeRef]);
  if (!at) return null;
  return createPortal(
    <NodeMenu
      id={id}
      at={at}
      onClose={(refocus) => {
        setAt(null);
        if (refocus) nodeRef.current?.closest<HTMLElement>(".react-flow__node")?.focus();
      }}
    />,
    document.body,
  );
}

function NodeMenu({ id, at, onClose }: { id: string; at: { x: number; y: number }; onClose: (refocus: boolean) => void }) {
  const store = useEditorApi();
  const items = useNodeRunItems(id);
  const ref = useRef<HTMLDivElement>(null);
  // The latest onClose, read when needed: the effect below runs once, when the menu opens. Were
  // it to run on every render (onClose is a new function each time), a re-render while the menu
  // is open (the plan refreshing) would throw the focus back to the first item, and Enter would
  // choose an item other than the one the arrows had reached.
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const menu = ref.current;
    menu?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    const onDown = (e: PointerEvent) => {
      if (!menu?.contains(e.target as Node)) close.current(false);
    };
    document.addEventListener("pointerdown", onDown, true);
    return () => document.removeEventListener("pointerdown", onDown, true);
  }, []);
  const onKey = (e: React.KeyboardEvent) => {
    // The menu is a portal inside the node: React would hand its keys on to React Flow's node
    // wrapper, where Enter selects the node (cancelling the item's click) and arrows move it.
    e.stopPropagation();
    const buttons = [...(ref.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
    const i = buttons.indexOf(document.activeElement as HTMLElement);
    if (e.key === "Escape" || e.key === "Tab") {
      e.preventDefault();
      e.stopPropagation();
      onClose(true);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = (i + (e.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length;
      buttons[next]?.focus();
    }
  };
  return (
    <div
      ref={ref}
      className="run-menu node-context-menu"
      role="menu"
      aria-label={`Run from ${id}`}
      style={{ left: Math.min(at.x, window.innerWidth - 250), top: Math.min(at.y, window.innerHeight - 120) }}
      onKeyDown={onKey}
      onClick={(e) => e.stopPropagation()}
      onDoubleClick={(e) => e.stopPropagation()}
      onContextMenu={(e) => {
        e.preventDefault();
        e.stopPropagation();
      }}
    >
      {items.map((it) => {
        const Icon = ICONS[it.scope];
        return (
          <button
            key={it.scope}
            role="menuitem"
            aria-disabled={!!it.blocker}
            title={it.blocker ?? undefined}
            onClick={() => {
              if (it.blocker) return;
              onClose(false);
              runFromNode(store, id, it.scope);
            }}
          >
            <span>
              <Icon size={13} fill={it.scope === "node" ? "currentColor" : "none"} /> {it.label}
            </span>
            <small>{it.blocker ?? it.hint}</small>
          </button>
        );
      })}
    </div>
  );
}

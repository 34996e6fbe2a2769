import { ChevronDown, ChevronRight, Plus, Search } from "lucide-react";
import { memo, useMemo, useState, type DragEvent } from "react";
import type { CallablePipeline, OperatorSpec } from "../api/types";
import { CALL, CALL_PREFIX } from "./calls";
import { CATEGORIES, CATEGORY_LABEL, OperatorIcon } from "../ui/OperatorIcon";
import { useEditor } from "./context";

export const DRAG_MIME = "application/x-datagran-operator";

/** A pipeline of the workspace as the palette lists it: under "Pipelines", added as a node
 * calling its current version. */
function paletteEntry(c: CallablePipeline, call: OperatorSpec | undefined): OperatorSpec {
  const ports = (list: { name: string }[]) => list.map((p) => p.name).join(", ") || "none";
  return {
    ...(call ?? ({ inputs: [], outputs: [], params_schema: {}, keywords: [] } as unknown as OperatorSpec)),
    name: `${CALL_PREFIX}${c.id}`,
    label: c.name,
    category: "pipeline",
    icon: "workflow",
    description: `v${c.number} · in: ${ports(c.inputs)} · out: ${ports(c.outputs)}`,
    keywords: ["pipeline", "sub-pipeline", c.description],
  };
}

export function searchOperators(ops: readonly OperatorSpec[], query: string): OperatorSpec[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [...ops];
  return ops.filter((op) => {
    const hay = [op.label, op.name, op.description, op.category, ...(op.keywords ?? [])]
      .join(" ")
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

function PaletteImpl({ onAdd }: { onAdd: (operator: string) => void }) {
  const catalogue = useEditor((s) => s.catalogue);
  const callables = useEditor((s) => s.callables);
  const [query, setQuery] = useState("");
  const [closed, setClosed] = useState<Record<string, boolean>>({});
  const ops = useMemo(
    () => [
      ...Object.values(catalogue).filter((op) => op.name !== CALL),
      ...callables.map((c) => paletteEntry(c, catalogue[CALL])),
    ],
    [catalogue, callables],
  );
  const found = useMemo(() => searchOperators(ops, query), [ops, query]);

  const onDragStart = (e: DragEvent, name: string) => {
    e.dataTransfer.setData(DRAG_MIME, name);
    e.dataTransfer.setData("text/plain", name);
    e.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="palette" aria-label="Operators">
      <div className="palette-search">
        <label className="search search-block">
          <Search size={14} aria-hidden="true" />
          <input
            type="search"
            placeholder="Search operators"
            aria-label="Search operators"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
      </div>
      <div className="palette-list">
        {CATEGORIES.map((cat) => {
          const items = found.filter((op) => op.category === cat);
          if (!items.length) return null;
          // A search shows every match, whatever was folded.
          const folded = !query.trim() && closed[cat];
          return (
            <section key={cat} className="palette-group">
              <h3 className={`palette-group-title cat-${cat}`}>
                <button
                  type="button"
                  aria-expanded={!folded}
                  onClick={() => setClosed((c) => ({ ...c, [cat]: !c[cat] }))}
                >
                  {folded ? <ChevronRight size={13} /> : <ChevronDown size={13} />}
                  <span className="cat-dot" aria-hidden="true" />
                  {CATEGORY_LABEL[cat]}
                  <span className="palette-count">{items.length}</span>
                </button>
              </h3>
              {!folded && items.map((op) => (
                <div
                  key={op.name}
                  className={`palette-item cat-${op.category}`}
                  draggable
                  onDragStart={(e) => onDragStart(e, op.name)}
                  onClick={() => onAdd(op.name)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      onAdd(op.name);
                    }
                  }}
                  role="button"
                  tabIndex={0}
                  title={`${op.label}: drag onto the canvas or click to add`}
                  data-testid="palette-item"
                  data-operator={op.name}
                >
                  <span className="palette-icon">
                    <OperatorIcon name={op.icon} category={op.category} size={15} />
                  </span>
                  <span className="palette-text">
                    <span className="palette-label">{op.label}</span>
                    {op.description && <span className="palette-desc">{op.description}</span>}
                  </span>
                  <Plus size={14} className="palette-add" aria-hidden="true" />
                </div>
              ))}
            </section>
          );
        })}
        {found.length === 0 && <p className="palette-empty muted">No operator matches “{query}”.</p>}
      </div>
    </aside>
  );
}

export const Palette = memo(PaletteImpl);

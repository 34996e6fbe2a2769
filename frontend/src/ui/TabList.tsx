// A row of tabs ("tabs") or a segmented switch ("segmented"): the output views and output ports
// of the editor's drawer and of the run page's node panel.
import type { ReactNode } from "react";

export interface TabItem<T extends string> {
  id: T;
  label: ReactNode;
  /** Shown as a badge after the label. */
  count?: number;
}

export function TabList<T extends string>({
  items,
  active,
  onSelect,
  className = "tabs",
  label,
  title,
}: {
  items: TabItem<T>[];
  active: T;
  onSelect: (id: T) => void;
  className?: string;
  label?: string;
  title?: string;
}) {
  return (
    <div className={className} role="tablist" aria-label={label} title={title}>
      {items.map((t) => (
        <button
          key={t.id}
          role="tab"
          aria-selected={t.id === active}
          className={t.id === active ? "active" : ""}
          onClick={() => onSelect(t.id)}
        >
          {t.label}
          {t.count !== undefined && <span className="tab-count">{t.count}</span>}
        </button>
      ))}
    </div>
  );
}

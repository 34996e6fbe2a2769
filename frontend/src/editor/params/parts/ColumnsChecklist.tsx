import type { Column } from "../../../api/types";

/** Several columns of the input as checkboxes, kept in the input's order. */
export function ColumnsChecklist({
  value,
  columns,
  onChange,
  notes = {},
}: {
  value: string[];
  columns: Column[];
  onChange: (v: string[]) => void;
  /** Why a chosen column not offered here is refused ("the target"); default "not in input". */
  notes?: Record<string, string>;
}) {
  const missing = value.filter((v) => !columns.some((c) => c.name === v));
  const toggle = (name: string, on: boolean) => {
    if (on) {
      // Keep the input's column order.
      const set = new Set([...value, name]);
      onChange([...columns.map((c) => c.name).filter((n) => set.has(n)), ...missing.filter((m) => set.has(m))]);
    } else onChange(value.filter((v) => v !== name));
  };
  return (
    <div className="checklist">
      <div className="checklist-tools">
        <span className="muted small">
          {value.length} of {columns.length} selected
        </span>
        <button type="button" className="link-btn" onClick={() => onChange(columns.map((c) => c.name))}>
          All
        </button>
        <button type="button" className="link-btn" onClick={() => onChange([])}>
          None
        </button>
      </div>
      <div className="checklist-items">
        {missing.map((m) => (
          <label key={`missing-${m}`} className="checklist-item missing">
            <input type="checkbox" checked onChange={() => toggle(m, false)} />
            <span>{m}</span>
            <span className="col-type">{notes[m] ?? "not in input"}</span>
          </label>
        ))}
        {columns.map((c) => (
          <label key={c.name} className="checklist-item">
            <input
              type="checkbox"
              checked={value.includes(c.name)}
              onChange={(e) => toggle(c.name, e.target.checked)}
            />
            <span>{c.name}</span>
            <span className="col-type">{c.type}</span>
          </label>
        ))}
      </div>
    </div>
  );
}

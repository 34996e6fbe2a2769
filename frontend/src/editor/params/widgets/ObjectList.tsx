import { Plus, Trash2 } from "lucide-react";
import { getIn, newItem } from "../../schemaForm";
import type { Widget, WidgetProps } from "../types";

function singular(label: string): string {
  const l = label.toLowerCase();
  if (l.endsWith("ies")) return l.slice(0, -3) + "y";
  if (l.endsWith("s") && !l.endsWith("ss")) return l.slice(0, -1);
  return l;
}

/** objects: a list of objects (e.g. filter conditions), each with its own fields. */
function ObjectList({ id, field, path, value, onChange, ctx, FieldInput }: WidgetProps) {
  const items = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
  const noun = singular(field.label);
  return (
    <div className="object-list" id={id}>
      {items.length === 0 && <p className="muted small">None yet.</p>}
      {items.map((item, i) => (
        <div className="object-item" key={i} data-index={i}>
          <div className="object-item-head">
            <span className="object-item-title">
              {noun.charAt(0).toUpperCase() + noun.slice(1)} {i + 1}
            </span>
            <button
              type="button"
              className="icon-btn icon-btn-danger"
              aria-label={`Remove ${noun} ${i + 1}`}
              onClick={() => onChange(items.filter((_, j) => j !== i))}
            >
              <Trash2 size={14} />
            </button>
          </div>
          <div className="object-item-fields">
            {(field.fields ?? []).map((f) => (
              <FieldInput key={f.key} field={f} path={[...path, i, f.key]} value={getIn(item, [f.key])} ctx={ctx} />
            ))}
          </div>
        </div>
      ))}
      <button type="button" className="btn btn-sm btn-dashed" onClick={() => onChange([...items, newItem(field)])}>
        <Plus size={14} /> Add {noun}
      </button>
    </div>
  );
}

export const objectsWidget: Widget = { Control: ObjectList };

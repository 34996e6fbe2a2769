import type { Widget, WidgetProps } from "../types";

/** enum-list: several of a fixed set, as toggle chips. */
function EnumChips({ id, field, value, onChange }: WidgetProps) {
  const arr = Array.isArray(value) ? value : [];
  return (
    <div className="chips" id={id} role="group">
      {field.options?.map((o) => {
        const on = arr.some((v) => v === o.value);
        return (
          <button
            type="button"
            key={String(o.value)}
            className={`chip${on ? " chip-on" : ""}`}
            aria-pressed={on}
            onClick={() => onChange(on ? arr.filter((v) => v !== o.value) : [...arr, o.value])}
          >
            {o.label}
          </button>
        );
      })}
    </div>
  );
}

export const enumListWidget: Widget = { Control: EnumChips };

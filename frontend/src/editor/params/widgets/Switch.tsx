import type { Widget, WidgetProps } from "../types";

/** boolean: an on/off switch; unset shows the default. */
function Switch({ id, field, value, onChange }: WidgetProps) {
  return (
    <label className="switch">
      <input
        id={id}
        type="checkbox"
        checked={value === undefined ? !!field.default : !!value}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span className="switch-track" aria-hidden="true" />
    </label>
  );
}

export const switchWidget: Widget = { Control: Switch, inline: true };

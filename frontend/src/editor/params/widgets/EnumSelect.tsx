import { emptyValue, type Widget, type WidgetProps } from "../types";

/** enum: one of a fixed set; options carry their JSON value. */
function EnumSelect({ id, field, value, onChange, invalid }: WidgetProps) {
  return (
    <select
      id={id}
      value={value === undefined || value === null ? "" : JSON.stringify(value)}
      aria-invalid={invalid}
      onChange={(e) => onChange(e.target.value === "" ? emptyValue(field) : JSON.parse(e.target.value))}
    >
      {(!field.hasDefault || field.nullable || value === undefined) && (
        <option value="">{field.nullable ? "(none)" : "Choose…"}</option>
      )}
      {field.options?.map((o) => (
        <option key={JSON.stringify(o.value)} value={JSON.stringify(o.value)}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

export const enumWidget: Widget = { Control: EnumSelect };

import { emptyValue, type Widget, type WidgetProps } from "../types";

/** enum: one of a fixed set, shown by their labels; options carry their JSON value. A param
 * the node has not set shows its default (what the server will use). */
function EnumSelect({ id, field, value, onChange, invalid }: WidgetProps) {
  const shown = value === undefined && field.hasDefault ? field.default : value;
  return (
    <select
      id={id}
      value={shown === undefined || shown === null ? "" : JSON.stringify(shown)}
      aria-invalid={invalid}
      onChange={(e) => onChange(e.target.value === "" ? emptyValue(field) : JSON.parse(e.target.value))}
    >
      {(!field.hasDefault || field.nullable || shown === undefined) && (
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

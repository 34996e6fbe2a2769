import { ColumnSelect } from "../parts/ColumnSelect";
import { columnHint, columnSource } from "../hints";
import { emptyValue, type Widget, type WidgetProps } from "../types";

/** column: picks from the input's columns when they are known, else takes a typed name. */
function ColumnPicker({ id, field, value, onChange, invalid, ctx }: WidgetProps) {
  const { state } = columnSource(field, ctx);
  return state?.state === "known" ? (
    <ColumnSelect
      id={id}
      value={value}
      columns={state.columns}
      invalid={invalid}
      allowEmpty={field.nullable || !field.required}
      onChange={(v) => onChange(v === undefined ? emptyValue(field) : v)}
    />
  ) : (
    <input
      id={id}
      value={typeof value === "string" ? value : ""}
      placeholder="Column name"
      aria-invalid={invalid}
      onChange={(e) => onChange(e.target.value || emptyValue(field))}
    />
  );
}

export const columnWidget: Widget = { Control: ColumnPicker, hint: columnHint };

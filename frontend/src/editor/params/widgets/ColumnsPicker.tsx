import { ColumnsChecklist } from "../parts/ColumnsChecklist";
import { TagInput } from "../parts/TagInput";
import { columnHint, columnSource } from "../hints";
import type { FormField } from "../../schemaForm";
import type { FormContext, Widget, WidgetProps } from "../types";

/**
 * The column another param has taken and this one must leave out (`x-columns-except` in the
 * schema: a model's features never include its target).
 */
export function excludedColumn(field: FormField, ctx: FormContext): string | null {
  const props = (ctx.op.params_schema as { properties?: Record<string, Record<string, unknown>> }).properties;
  const other = props?.[field.key]?.["x-columns-except"];
  if (typeof other !== "string") return null;
  const v = ctx.params?.[other];
  return typeof v === "string" && v ? v : null;
}

/** columns: a checklist of the input's columns when known, else typed names as tags. */
function ColumnsPicker({ id, field, value, onChange, ctx }: WidgetProps) {
  const { state } = columnSource(field, ctx);
  const arr = (Array.isArray(value) ? value : []).map(String);
  const except = excludedColumn(field, ctx);
  return state?.state === "known" && state.columns.length > 0 ? (
    <ColumnsChecklist
      value={arr}
      columns={except ? state.columns.filter((c) => c.name !== except) : state.columns}
      onChange={onChange}
      notes={except ? { [except]: "is the target" } : undefined}
    />
  ) : (
    <TagInput id={id} value={arr} onChange={onChange} placeholder="Type a column name, then Enter" />
  );
}

export const columnsWidget: Widget = { Control: ColumnsPicker, hint: columnHint };

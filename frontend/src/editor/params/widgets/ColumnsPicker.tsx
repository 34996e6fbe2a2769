import { ColumnsChecklist } from "../parts/ColumnsChecklist";
import { TagInput } from "../parts/TagInput";
import { columnHint, columnSource } from "../hints";
import type { Widget, WidgetProps } from "../types";

/** columns: a checklist of the input's columns when known, else typed names as tags. */
function ColumnsPicker({ id, field, value, onChange, ctx }: WidgetProps) {
  const { state } = columnSource(field, ctx);
  const arr = (Array.isArray(value) ? value : []).map(String);
  return state?.state === "known" && state.columns.length > 0 ? (
    <ColumnsChecklist value={arr} columns={state.columns} onChange={onChange} />
  ) : (
    <TagInput id={id} value={arr} onChange={onChange} placeholder="Type a column name, then Enter" />
  );
}

export const columnsWidget: Widget = { Control: ColumnsPicker, hint: columnHint };

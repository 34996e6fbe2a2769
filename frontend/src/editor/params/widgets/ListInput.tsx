import { TagInput } from "../parts/TagInput";
import type { Widget, WidgetProps } from "../types";

/** list: free scalars as tags. */
function ListInput({ id, field, value, onChange }: WidgetProps) {
  return (
    <TagInput
      id={id}
      value={Array.isArray(value) ? value : []}
      onChange={onChange}
      itemType={field.itemType}
      placeholder="Type a value, then Enter"
    />
  );
}

export const listWidget: Widget = { Control: ListInput };

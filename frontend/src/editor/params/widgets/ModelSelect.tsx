import { ResourceSelect } from "../parts/ResourceSelect";
import type { Widget, WidgetProps } from "../types";

/** registered-model: a model registered in the workspace, by name. */
function ModelSelect({ id, value, onChange, invalid }: WidgetProps) {
  return (
    <ResourceSelect
      id={id}
      value={value}
      onChange={onChange}
      invalid={invalid}
      resource="models"
      emptyHint="No registered model in this workspace yet."
    />
  );
}

export const registeredModelWidget: Widget = { Control: ModelSelect };

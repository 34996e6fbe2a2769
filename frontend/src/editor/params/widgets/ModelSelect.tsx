import { ResourceSelect } from "../parts/ResourceSelect";
import { useModelOptions } from "../resources";
import type { Widget, WidgetProps } from "../types";

/** registered-model: a model registered in the workspace, by name. */
function ModelSelect({ id, value, onChange, invalid }: WidgetProps) {
  const resources = useModelOptions();
  return (
    <ResourceSelect
      id={id}
      value={value}
      onChange={onChange}
      invalid={invalid}
      resources={resources}
      emptyHint="No registered model in this workspace yet."
    />
  );
}

export const registeredModelWidget: Widget = { Control: ModelSelect };

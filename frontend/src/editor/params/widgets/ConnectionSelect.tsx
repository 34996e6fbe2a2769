import { ResourceSelect } from "../parts/ResourceSelect";
import { useConnectionOptions } from "../resources";
import type { Widget, WidgetProps } from "../types";

/** connection: a connection of the kinds the field accepts. */
function ConnectionSelect({ id, field, value, onChange, invalid }: WidgetProps) {
  const resources = useConnectionOptions(field.connectionKinds);
  return (
    <ResourceSelect
      id={id}
      value={value}
      onChange={onChange}
      invalid={invalid}
      resources={resources}
      kinds={field.connectionKinds}
      emptyHint={`No ${(field.connectionKinds ?? []).join(" / ")} connection in this workspace yet.`}
    />
  );
}

export const connectionWidget: Widget = { Control: ConnectionSelect };

import { ResourceSelect } from "../parts/ResourceSelect";
import type { Widget, WidgetProps } from "../types";

/** connection: a connection of the kinds the field accepts. */
function ConnectionSelect({ id, field, value, onChange, invalid }: WidgetProps) {
  return (
    <ResourceSelect
      id={id}
      value={value}
      onChange={onChange}
      invalid={invalid}
      resource="connections"
      kinds={field.connectionKinds}
      emptyHint={`No ${(field.connectionKinds ?? []).join(" / ")} connection in this workspace yet.`}
    />
  );
}

export const connectionWidget: Widget = { Control: ConnectionSelect };

import { coerceScalar } from "../../schemaForm";
import { emptyValue, type Widget, type WidgetProps } from "../types";

/** scalar: a union of scalar types; the text becomes the most fitting one. */
function ScalarInput({ id, field, value, onChange, invalid }: WidgetProps) {
  return (
    <input
      id={id}
      value={value === undefined || value === null ? "" : String(value)}
      aria-invalid={invalid}
      onChange={(e) =>
        onChange(
          e.target.value === "" ? emptyValue(field) : coerceScalar(e.target.value, field.scalarTypes ?? ["string"]),
        )
      }
    />
  );
}

export const scalarWidget: Widget = { Control: ScalarInput };

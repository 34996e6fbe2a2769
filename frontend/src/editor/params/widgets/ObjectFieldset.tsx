import { getIn } from "../../schemaForm";
import type { Widget, WidgetProps } from "../types";

/** object: a nested object's fields in a fieldset of their own. */
function ObjectFieldset({ field, path, value, error, ctx, FieldInput }: WidgetProps) {
  return (
    <fieldset className="object-fieldset">
      <legend>{field.label}</legend>
      {field.description && <p className="field-help">{field.description}</p>}
      {(field.fields ?? []).map((f) => (
        <FieldInput key={f.key} field={f} path={[...path, f.key]} value={getIn(value, [f.key])} ctx={ctx} />
      ))}
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}

export const objectWidget: Widget = { Control: ObjectFieldset, bare: true };

// The settings form of a node, drawn from its operator's params schema. Each field kind has a
// widget in ./widgets, looked up in ./registry; this file only puts them together.
import { memo, useId } from "react";
import { pathKey, type FormField } from "../schemaForm";
import { FieldShell } from "./FieldShell";
import { widgetFor } from "./registry";
import type { FieldProps, FormContext } from "./types";

export type { FormContext } from "./types";

export function FieldInput({ field, path, value, ctx }: FieldProps) {
  const id = useId();
  const error = ctx.errors[pathKey(path)];
  const widget = widgetFor(field.kind);
  const control = (
    <widget.Control
      id={id}
      field={field}
      path={path}
      value={value}
      onChange={(v) => ctx.onChange(path, v)}
      invalid={!!error}
      error={error}
      ctx={ctx}
      FieldInput={FieldInput}
    />
  );
  if (widget.bare) return control;
  return (
    <FieldShell
      field={field}
      id={id}
      error={error}
      hint={widget.hint?.(field, ctx)}
      hintBad={widget.hintBad?.(field, value) ?? false}
      inline={widget.inline}
    >
      {control}
    </FieldShell>
  );
}

export const ParamsForm = memo(function ParamsForm({
  fields,
  params,
  ctx,
}: {
  fields: FormField[];
  params: Record<string, unknown>;
  ctx: FormContext;
}) {
  if (!fields.length) return <p className="muted small">This operator has no settings.</p>;
  return (
    <div className="params-form">
      {fields.map((f) => (
        <FieldInput key={f.key} field={f} path={[f.key]} value={params[f.key]} ctx={ctx} />
      ))}
    </div>
  );
});

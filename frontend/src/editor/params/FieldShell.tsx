import type { ReactNode } from "react";
import type { FormField } from "../schemaForm";

/** Label, help, hint and error around a field's input. */
export function FieldShell({
  field,
  id,
  error,
  children,
  hint,
  inline,
}: {
  field: FormField;
  id: string;
  error?: string;
  children: ReactNode;
  hint?: ReactNode;
  inline?: boolean;
}) {
  return (
    <div
      className={`field${error ? " field-invalid" : ""}${inline ? " field-inline" : ""}`}
      data-field={field.key}
    >
      <label className="field-label" htmlFor={id}>
        {field.label}
        {field.required && !field.hasDefault && (
          <span className="field-required" title="Required">
            *
          </span>
        )}
      </label>
      {children}
      {field.description && <p className="field-help">{field.description}</p>}
      {hint && <p className="field-hint">{hint}</p>}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

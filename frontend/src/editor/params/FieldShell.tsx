import type { ReactNode } from "react";
import type { FormField } from "../schemaForm";

/** Label, help, hint and error around a field's input. */
export function FieldShell({
  field,
  id,
  error,
  children,
  hint,
  hintBad,
  inline,
}: {
  field: FormField;
  id: string;
  error?: string;
  children: ReactNode;
  hint?: ReactNode;
  /** The hint names a problem with the value (a number out of range): shown red, not neutral. */
  hintBad?: boolean;
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
      {hint && (
        <p className={hintBad ? "field-hint field-hint-bad" : "field-hint"} data-bad={hintBad ? "true" : undefined}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

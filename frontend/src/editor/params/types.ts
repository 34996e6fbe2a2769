// What the params form hands every widget, and what a widget declares to the registry.
import type { ComponentType } from "react";
import type { OperatorSpec } from "../../api/types";
import type { UpstreamColumns } from "../columns";
import type { FormField, Path } from "../schemaForm";

export interface FormContext {
  op: OperatorSpec;
  columns: Record<string, UpstreamColumns>;
  errors: Record<string, string>;
  onChange: (path: Path, value: unknown) => void;
  /** The node's params (a field may depend on another: features leave out the target). */
  params?: Record<string, unknown>;
}

/** One field of the form (a widget with nested fields renders these for its children). */
export interface FieldProps {
  field: FormField;
  path: Path;
  value: unknown;
  ctx: FormContext;
}

/** What every widget takes. */
export interface WidgetProps {
  /** The id the field's label points at. */
  id: string;
  field: FormField;
  path: Path;
  value: unknown;
  onChange: (v: unknown) => void;
  invalid: boolean;
  /** The field's own error (shown by the field shell, or by a widget that draws its own). */
  error?: string;
  ctx: FormContext;
  /** Renders a nested field (for lists of objects and nested objects). */
  FieldInput: ComponentType<FieldProps>;
}

export interface Widget {
  Control: ComponentType<WidgetProps>;
  /** A hint under the input (bounds, where the columns come from). */
  hint?: (field: FormField, ctx: FormContext) => string | null;
  /** The hint shown as a problem for this value (a number out of its range); neutral otherwise. */
  hintBad?: (field: FormField, value: unknown) => boolean;
  /** Label and input on one line (a switch). */
  inline?: boolean;
  /** The widget draws its own label and error instead of the field shell (a fieldset). */
  bare?: boolean;
}

/** The value a cleared input stores. */
export function emptyValue(f: FormField): unknown {
  return f.nullable ? null : undefined;
}

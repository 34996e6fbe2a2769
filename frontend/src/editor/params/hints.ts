// Hints shown under a field: a number's bounds, where a column picker's columns come from.
import { resolveColumnPort, type UpstreamColumns } from "../columns";
import type { FormField } from "../schemaForm";
import type { FormContext } from "./types";

export function boundsHint(f: FormField): string | null {
  const lo = f.min !== undefined ? `${f.exclusiveMin ? ">" : "≥"} ${f.min}` : null;
  const hi = f.max !== undefined ? `${f.exclusiveMax ? "<" : "≤"} ${f.max}` : null;
  if (lo && hi) return `Between ${f.min} and ${f.max}${f.exclusiveMin || f.exclusiveMax ? " (exclusive)" : ""}.`;
  if (lo) return `Must be ${lo}.`;
  if (hi) return `Must be ${hi}.`;
  return null;
}

/** A number outside the field's bounds (an empty field or a non-number is not out of range). */
export function outOfRange(f: FormField, value: unknown): boolean {
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (f.min !== undefined && (f.exclusiveMin ? value <= f.min : value < f.min)) return true;
  if (f.max !== undefined && (f.exclusiveMax ? value >= f.max : value > f.max)) return true;
  return false;
}

/** The input a column field picks from, and what is known of its columns. */
export function columnSource(
  field: FormField,
  ctx: FormContext,
): { port: string | null; state: UpstreamColumns | undefined } {
  const port = resolveColumnPort(field.columnOf, ctx.op.inputs);
  return { port, state: port ? ctx.columns[port] : undefined };
}

export function columnHint(field: FormField, ctx: FormContext): string | null {
  const { port, state } = columnSource(field, ctx);
  if (!state || state.state === "unconnected") {
    return port ? `Connect the “${port}” input to pick from its columns.` : null;
  }
  if (state.state === "unknown") return "Columns are not known yet; type a column name.";
  if (state.columns.length === 0) return "The input has no columns.";
  return null;
}

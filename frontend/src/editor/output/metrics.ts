// A model's metrics table read as cards, and pandas dtypes read as the schema's types.
import type { OperatorSpec, Preview } from "../../api/types";
import { formatCell } from "../../lib/format";

/** Is a port a model's metrics table? */
export function isMetricsPort(op: OperatorSpec | undefined, port: string): boolean {
  return !!op && op.category === "model" && /metric|score|evaluat/i.test(port);
}

/** pandas dtypes ("int64", "float64", "object") → the schema's types ("int", "float", "str"). */
export function normalType(t: string): string {
  const x = t.toLowerCase();
  if (/^(u?int|int)/.test(x)) return "int";
  if (/float|double|decimal/.test(x)) return "float";
  if (/bool/.test(x)) return "bool";
  if (/date|time/.test(x)) return "datetime";
  return x === "int" || x === "float" ? x : "str";
}

export interface MetricCard {
  label: string;
  /** One value per row label ("train", "test"), or a single value under "". */
  values: { label: string; value: unknown }[];
}

/**
 * A small metrics table as cards: one row → one card per column; a few rows with a text
 * column naming them (train/test) → one card per numeric column, with a value per row.
 */
export function metricsOf(p: Preview): MetricCard[] | null {
  if (!p.rows.length) return null;
  const types = p.columns.map((c) => normalType(c.type));
  if (p.rows.length === 1) {
    return p.columns.map((c, i) => ({ label: c.name, values: [{ label: "", value: p.rows[0][i] }] }));
  }
  const textCol = types.findIndex((t) => t === "str");
  if (textCol < 0 || p.rows.length > 8) return null;
  const cards: MetricCard[] = [];
  types.forEach((t, i) => {
    if (i === textCol || (t !== "float" && t !== "int")) return;
    cards.push({
      label: p.columns[i].name,
      values: p.rows.map((r) => ({ label: String(r[textCol]), value: r[i] })),
    });
  });
  return cards.length ? cards : null;
}

export function fmtMetric(v: unknown): string {
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(4);
  return formatCell(v);
}

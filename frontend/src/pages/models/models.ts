// Pure helpers of the model pages.
import type { ModelVersion } from "../../api/types";

/** Metrics where a smaller number is the better model. */
const LOWER_IS_BETTER = /(^|_)(rmse|mse|mae|mape|loss|log_loss|error|err)($|_)/i;

export function lowerIsBetter(metric: string): boolean {
  return LOWER_IS_BETTER.test(metric);
}

/** b against a: the difference and whether b is the better model on this metric. */
export function metricDelta(
  metric: string,
  a: number | null | undefined,
  b: number | null | undefined,
): { delta: number | null; better: boolean | null } {
  if (typeof a !== "number" || typeof b !== "number" || !isFinite(a) || !isFinite(b)) {
    return { delta: null, better: null };
  }
  const delta = b - a;
  if (Math.abs(delta) < 1e-12) return { delta: 0, better: null };
  return { delta, better: lowerIsBetter(metric) ? delta < 0 : delta > 0 };
}

/** The metric names worth columns in a versions table: the usual ones first, at most `max`. */
export function metricColumns(versions: Pick<ModelVersion, "metrics">[], max = 5): string[] {
  const seen = new Map<string, number>();
  for (const v of versions) for (const k of Object.keys(v.metrics ?? {})) seen.set(k, (seen.get(k) ?? 0) + 1);
  const order = ["accuracy", "f1", "precision", "recall", "roc_auc", "r2", "rmse", "mae"];
  return [...seen.keys()]
    .sort((x, y) => {
      const ix = order.indexOf(x);
      const iy = order.indexOf(y);
      if (ix !== -1 || iy !== -1) return (ix === -1 ? 99 : ix) - (iy === -1 ? 99 : iy);
      return (seen.get(y) ?? 0) - (seen.get(x) ?? 0) || x.localeCompare(y);
    })
    .slice(0, max);
}

export const ALIAS_RE = /^[a-z0-9_-]+$/;

export type JsonField = { value: Record<string, unknown> } | { error: string };

/** A JSON object typed into a form ("" means {}). */
export function parseJsonObject(text: string): JsonField {
  if (!text.trim()) return { value: {} };
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== "object" || Array.isArray(v)) return { error: "Must be a JSON object, like {\"C\": 1.0}." };
    return { value: v as Record<string, unknown> };
  } catch (err) {
    return { error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

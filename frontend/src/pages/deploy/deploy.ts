// Pure helpers of the deploy page: the curl example, the drift badge, the Try-it input.

/** Shell-quote for single quotes: 'it'\''s'. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curlExample(endpoint: string, example: Record<string, unknown>): string {
  const body = JSON.stringify({ rows: [example] });
  return [
    `curl -X POST ${shellQuote(endpoint)} \\`,
    `  -H 'Authorization: Token <your token>' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(body)}`,
  ].join("\n");
}

/** The request columns, required ones first (each group in the table's order). */
export function requestColumns<C extends { required: boolean }>(columns: C[]): C[] {
  return [...columns.filter((c) => c.required), ...columns.filter((c) => !c.required)];
}

export type DriftLevel = "none" | "ok" | "watch" | "warn";

/**
 * How worrying a feature's population stability index is: above the server's threshold is a
 * warning; above half of it is worth watching; null means too little data to say.
 */
export function psiLevel(psi: number | null | undefined, threshold: number): DriftLevel {
  if (psi === null || psi === undefined || !isFinite(psi)) return "none";
  if (psi > threshold) return "warn";
  if (psi > threshold / 2) return "watch";
  return "ok";
}

export const DRIFT_LABEL: Record<DriftLevel, string> = {
  none: "No data",
  ok: "Stable",
  watch: "Shifting",
  warn: "Drift",
};

export type RowsInput = { rows: unknown[] } | { error: string };

/** The Try-it box accepts {"rows": [...]}, a list of rows, or one row object. */
export function parseRowsInput(text: string): RowsInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (Array.isArray(value)) return value.length ? { rows: value } : { error: "Add at least one row." };
  if (value && typeof value === "object") {
    const rows = (value as { rows?: unknown }).rows;
    if (rows !== undefined) {
      if (!Array.isArray(rows)) return { error: "\"rows\" must be a list of objects." };
      return rows.length ? { rows } : { error: "Add at least one row." };
    }
    return { rows: [value] };
  }
  return { error: "Send an object per row, e.g. {\"rows\": [{...}]}." };
}

/** A refused prediction's problems, one per row and column. */
export interface RowProblem {
  row: number;
  column: string | null;
  message: string;
}

/**
 * The row problems of a refused prediction, read from its error's `extra.fields`: each field
 * is named `rows.<row>.<column>` (or `rows.<row>` when the row is not an object).
 */
export function rowProblems(fields: unknown): RowProblem[] {
  if (!fields || typeof fields !== "object") return [];
  const out: RowProblem[] = [];
  for (const [key, messages] of Object.entries(fields as Record<string, unknown>)) {
    const m = /^rows\.(\d+)(?:\.(.*))?$/s.exec(key);
    if (!m || !Array.isArray(messages)) continue;
    for (const message of messages) out.push({ row: Number(m[1]), column: m[2] ?? null, message: String(message) });
  }
  return out;
}

/** A latency as the page shows it: one decimal under 10 ms. */
export function latency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

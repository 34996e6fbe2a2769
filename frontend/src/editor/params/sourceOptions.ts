// The choices of a param the operator itself answers (`x-options-from: "source"`: a database's
// tables, a table's columns, a folder's files), asked of the server with the params so far.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import { useWorkspaceId } from "../../api/queries";

/** The params the choices depend on: all but the field's own value (picking one asks nothing). */
export function optionParams(params: Record<string, unknown> | undefined, field: string): Record<string, unknown> {
  const out = { ...(params ?? {}) };
  delete out[field];
  return out;
}

/** The options as the server lists them: names, or {value, label} records, as text. */
export function optionValues(options: unknown): string[] {
  if (!Array.isArray(options)) return [];
  const out: string[] = [];
  for (const o of options) {
    const v = o !== null && typeof o === "object" && "value" in o ? (o as { value: unknown }).value : o;
    if (v === null || v === undefined) continue;
    const s = String(v);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** The server's refusal as one line: its message, then what it says of other params. */
export function refusalMessage(err: unknown): string {
  const message = errorMessage(err);
  if (!(err instanceof ApiError) || !err.extra.fields) return message;
  const parts = Object.entries(err.extra.fields)
    .filter(([, v]) => !message.includes(v.join(" ")))
    .map(([k, v]) => `${k.replace(/^params\./, "")}: ${v.join(" ")}`);
  return parts.length ? `${message} (${parts.join("; ")})` : message;
}

/** `value`, once it has stayed the same for `delay` ms. */
export function useDebounced<T>(value: T, delay: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value), delay);
    return () => window.clearTimeout(t);
  }, [value, delay]);
  return settled;
}

export interface SourceOptions {
  /** null until the server has answered (or when it refused). */
  choices: string[] | null;
  loading: boolean;
  error: string | null;
}

/**
 * The choices of `field` of operator `name` for the node's current params, once `enabled` (the
 * list was opened); asked again (debounced) whenever the other params change.
 */
export function useSourceOptions(
  name: string,
  field: string,
  params: Record<string, unknown> | undefined,
  enabled: boolean,
  delay = 400,
): SourceOptions {
  const workspace = useWorkspaceId();
  const key = JSON.stringify(optionParams(params, field));
  const settled = useDebounced(key, delay);
  const q = useQuery({
    queryKey: ["operator-options", workspace, name, field, settled] as const,
    queryFn: ({ signal }) =>
      api.operatorOptions(name, { params: JSON.parse(settled) as Record<string, unknown>, field }, signal),
    enabled,
    // The tables of a database change rarely; reopening the list within a minute asks nothing.
    staleTime: 60_000,
    select: (d) => optionValues(d.options),
  });
  return {
    choices: q.data ?? null,
    loading: enabled && (q.isFetching || settled !== key),
    error: q.error ? refusalMessage(q.error) : null,
  };
}

// What the screen says about each kind of connection, and the fields the form sends.
import { humanize } from "../../editor/schemaForm";

const LABELS: Record<string, string> = {
  postgresql: "PostgreSQL",
  mysql: "MySQL / MariaDB",
  sqlite: "SQLite",
  http: "HTTP API",
  hubspot: "HubSpot",
  salesforce: "Salesforce",
  webhook: "Webhook",
};

export function kindLabel(kind: string): string {
  return LABELS[kind] ?? humanize(kind);
}

/** Where a connection points, for the list: a URL's host, a database's host and name. */
export function connectionTarget(config: Record<string, unknown>): string {
  const url = [config.base_url, config.instance_url, config.url].find((v) => typeof v === "string");
  if (typeof url === "string") {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  }
  if (typeof config.host === "string") {
    const db = typeof config.database === "string" ? ` / ${config.database}` : "";
    return `${config.host}${config.port ? `:${String(config.port)}` : ""}${db}`;
  }
  return typeof config.path === "string" ? config.path : "";
}

/**
 * The fields to send: a stored secret the user did not replace is left out (the server keeps
 * it), an untouched blank secret too.
 */
export function fieldsToSend(
  values: Record<string, unknown>,
  secretFields: readonly string[],
  replacing: ReadonlySet<string>,
  secretsSet: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (secretFields.includes(k)) {
      if (secretsSet.includes(k) && !replacing.has(k)) continue;
      if (v === undefined || v === null || v === "") continue;
    }
    if (v !== undefined) out[k] = v;
  }
  return out;
}

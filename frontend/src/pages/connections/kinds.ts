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
  stripe: "Stripe",
  shopify: "Shopify",
  google_sheets: "Google Sheets",
  zendesk: "Zendesk",
  mailchimp: "Mailchimp",
  files: "Files (S3, GCS, Azure, web, folder)",
  sqlalchemy: "SQL database (SQLAlchemy URL)",
};

export function kindLabel(kind: string): string {
  return LABELS[kind] ?? humanize(kind);
}

/**
 * Where a connection points, for the list: a web address's host, a bucket and its folder
 * (s3://, gs://, az://), a folder, a database's host and name. Secret fields (a SQLAlchemy URL
 * with its password) are never shown.
 */
export function connectionTarget(config: Record<string, unknown>, secretFields: readonly string[] = []): string {
  const url = ["base_url", "instance_url", "shop_url", "url"]
    .filter((k) => !secretFields.includes(k))
    .map((k) => config[k])
    .find((v) => typeof v === "string" && v !== "");
  if (typeof url === "string") {
    const storage = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#]*@)?([^?#]*)/i.exec(url);
    if (storage && !/^https?$/i.test(storage[1])) return `${storage[1].toLowerCase()}://${storage[2]}`;
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

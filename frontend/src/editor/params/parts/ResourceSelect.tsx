import { kindLabel } from "../../../pages/connections/kinds";
import type { ResourceList, ResourceOption } from "../resources";

/** A workspace resource (a connection, a registered model) chosen from a list. */
export function ResourceSelect({
  id,
  resources,
  kinds,
  value,
  onChange,
  invalid,
  emptyHint,
}: {
  id: string;
  resources: ResourceList<ResourceOption>;
  kinds?: string[];
  value: unknown;
  onChange: (v: unknown) => void;
  invalid: boolean;
  emptyHint: string;
}) {
  const { list: options, error } = resources;
  const current = typeof value === "string" ? value : "";
  const known = options?.some((o) => o.value === current);
  return (
    <>
      <select id={id} value={current} aria-invalid={invalid} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">{options ? (options.length ? "Choose…" : "None available") : "Loading…"}</option>
        {current && options && !known && <option value={current}>{current} (not found)</option>}
        {options?.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
            {o.kind && kinds && kinds.length > 1 ? ` · ${kindLabel(o.kind)}` : ""}
          </option>
        ))}
      </select>
      {options && options.length === 0 && <p className="field-hint">{emptyHint}</p>}
      {error && <p className="field-error">Could not load the list: {error}</p>}
    </>
  );
}

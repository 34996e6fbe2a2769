import type { Column } from "../../../api/types";

/** One column of the input; a value the input lacks stays selectable, marked as missing. */
export function ColumnSelect({
  id,
  value,
  columns,
  onChange,
  invalid,
  allowEmpty,
}: {
  id: string;
  value: unknown;
  columns: Column[];
  onChange: (v: string | undefined) => void;
  invalid: boolean;
  allowEmpty: boolean;
}) {
  const current = typeof value === "string" ? value : "";
  const missing = current && !columns.some((c) => c.name === current);
  return (
    <select
      id={id}
      value={current}
      aria-invalid={invalid || !!missing}
      onChange={(e) => onChange(e.target.value || undefined)}
    >
      <option value="" disabled={!allowEmpty}>
        {allowEmpty ? "(none)" : "Choose a column…"}
      </option>
      {missing && <option value={current}>{current} (not in input)</option>}
      {columns.map((c) => (
        <option key={c.name} value={c.name}>
          {c.name} · {c.type}
        </option>
      ))}
    </select>
  );
}

import { Plus, Trash2, Upload, X } from "lucide-react";
import { memo, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { api, errorMessage, getApiWorkspace } from "../api/client";
import type { Column, Dataset, OperatorSpec } from "../api/types";
import { formatNumber } from "../lib/format";
import { toast } from "../ui/toast";
import { resolveColumnPort, type UpstreamColumns } from "./columns";
import {
  coerceAny,
  coerceScalar,
  formatAny,
  getIn,
  newItem,
  pathKey,
  type FormField,
  type Path,
} from "./schemaForm";

export interface FormContext {
  op: OperatorSpec;
  columns: Record<string, UpstreamColumns>;
  errors: Record<string, string>;
  onChange: (path: Path, value: unknown) => void;
}

// --- datasets (shared by every picker on the page) ----------------------------------------------

let datasetCache: Promise<Dataset[]> | null = null;
let datasetCacheWorkspace: string | null = null;
const datasetListeners = new Set<(list: Dataset[]) => void>();

function loadDatasets(force = false): Promise<Dataset[]> {
  if (!datasetCache || force || datasetCacheWorkspace !== getApiWorkspace()) {
    datasetCacheWorkspace = getApiWorkspace();
    datasetCache = api.datasets().catch((err) => {
      datasetCache = null;
      throw err;
    });
    datasetCache.then((list) => datasetListeners.forEach((l) => l(list))).catch(() => {});
  }
  return datasetCache;
}

export function resetDatasetCache(): void {
  datasetCache = null;
}

function useDatasets(): { list: Dataset[] | null; error: string | null; reload: () => void } {
  const [list, setList] = useState<Dataset[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const l = (d: Dataset[]) => live && setList(d);
    datasetListeners.add(l);
    loadDatasets()
      .then(l)
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
      datasetListeners.delete(l);
    };
  }, []);
  return { list, error, reload: () => void loadDatasets(true).catch(() => {}) };
}

/** What every input of the form takes. */
interface ControlProps {
  id: string;
  value: unknown;
  onChange: (v: unknown) => void;
  invalid: boolean;
}

// --- other workspace resources: connections and registered models ----------------------------

const resourceCache = new Map<string, Promise<{ value: string; label: string; kind?: string }[]>>();

function loadResource(resource: "connections" | "models") {
  const key = `${resource}:${getApiWorkspace() ?? ""}`;
  let p = resourceCache.get(key);
  if (!p) {
    p =
      resource === "connections"
        ? api.connections().then((l) => l.map((c) => ({ value: String(c.id), label: c.name, kind: c.kind })))
        : api.models().then((l) => l.map((m) => ({ value: m.name, label: m.name })));
    p.catch(() => resourceCache.delete(key));
    resourceCache.set(key, p);
  }
  return p;
}

function ResourceSelect({
  id,
  resource,
  kinds,
  value,
  onChange,
  invalid,
  emptyHint,
}: ControlProps & {
  resource: "connections" | "models";
  kinds?: string[];
  emptyHint: string;
}) {
  const [options, setOptions] = useState<{ value: string; label: string; kind?: string }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadResource(resource)
      .then((l) => live && setOptions(l.filter((o) => !kinds?.length || !o.kind || kinds.includes(o.kind))))
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [resource, kinds]);
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
            {o.kind && kinds && kinds.length > 1 ? ` · ${o.kind}` : ""}
          </option>
        ))}
      </select>
      {options && options.length === 0 && <p className="field-hint">{emptyHint}</p>}
      {error && <p className="field-error">Could not load the list: {error}</p>}
    </>
  );
}

// --- field chrome --------------------------------------------------------------------------------

function FieldShell({
  field,
  id,
  error,
  children,
  hint,
  inline,
}: {
  field: FormField;
  id: string;
  error?: string;
  children: ReactNode;
  hint?: ReactNode;
  inline?: boolean;
}) {
  return (
    <div
      className={`field${error ? " field-invalid" : ""}${inline ? " field-inline" : ""}`}
      data-field={field.key}
    >
      <label className="field-label" htmlFor={id}>
        {field.label}
        {field.required && !field.hasDefault && (
          <span className="field-required" title="Required">
            *
          </span>
        )}
      </label>
      {children}
      {field.description && <p className="field-help">{field.description}</p>}
      {hint && <p className="field-hint">{hint}</p>}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function boundsHint(f: FormField): string | null {
  const lo = f.min !== undefined ? `${f.exclusiveMin ? ">" : "≥"} ${f.min}` : null;
  const hi = f.max !== undefined ? `${f.exclusiveMax ? "<" : "≤"} ${f.max}` : null;
  if (lo && hi) return `Between ${f.min} and ${f.max}${f.exclusiveMin || f.exclusiveMax ? " (exclusive)" : ""}.`;
  if (lo) return `Must be ${lo}.`;
  if (hi) return `Must be ${hi}.`;
  return null;
}

function emptyValue(f: FormField): unknown {
  return f.nullable ? null : undefined;
}

function NumberInput({ id, field, value, onChange, invalid }: ControlProps & { field: FormField }) {
  const [text, setText] = useState(value === null || value === undefined ? "" : String(value));
  useEffect(() => {
    const parsed = text.trim() === "" ? undefined : Number(text);
    if ((value ?? undefined) !== parsed) setText(value === null || value === undefined ? "" : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      id={id}
      type="number"
      inputMode={field.kind === "integer" ? "numeric" : "decimal"}
      min={field.min}
      max={field.max}
      step={field.step ?? "any"}
      value={text}
      placeholder={field.hasDefault && field.default != null ? String(field.default) : ""}
      aria-invalid={invalid}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        if (t.trim() === "") onChange(emptyValue(field));
        else if (!isNaN(Number(t))) onChange(field.kind === "integer" ? Math.trunc(Number(t)) : Number(t));
      }}
    />
  );
}

function TagInput({
  id,
  value,
  onChange,
  placeholder,
  suggestions,
  itemType,
}: {
  id: string;
  value: unknown[];
  onChange: (v: unknown[]) => void;
  placeholder?: string;
  suggestions?: string[];
  itemType?: string;
}) {
  const [text, setText] = useState("");
  const listId = useId();
  const add = () => {
    const parts = text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (!parts.length) return;
    const vals = parts.map((p) =>
      itemType === "number" || itemType === "integer" ? (isNaN(Number(p)) ? p : Number(p)) : p,
    );
    onChange([...value, ...vals.filter((v) => !value.includes(v))]);
    setText("");
  };
  return (
    <div className="tag-input">
      {value.map((v, i) => (
        <span className="tag" key={`${String(v)}-${i}`}>
          {String(v)}
          <button
            type="button"
            aria-label={`Remove ${String(v)}`}
            onClick={() => onChange(value.filter((_, j) => j !== i))}
          >
            <X size={11} />
          </button>
        </span>
      ))}
      <input
        id={id}
        value={text}
        list={suggestions?.length ? listId : undefined}
        placeholder={value.length ? "" : placeholder}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" || e.key === ",") {
            e.preventDefault();
            add();
          } else if (e.key === "Backspace" && !text && value.length) {
            onChange(value.slice(0, -1));
          }
        }}
        onBlur={add}
      />
      {suggestions?.length ? (
        <datalist id={listId}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      ) : null}
    </div>
  );
}

function columnHint(state: UpstreamColumns | undefined, port: string | null): string | null {
  if (!state || state.state === "unconnected") {
    return port ? `Connect the “${port}” input to pick from its columns.` : null;
  }
  if (state.state === "unknown") return "Columns are not known yet; type a column name.";
  if (state.columns.length === 0) return "The input has no columns.";
  return null;
}

function ColumnSelect({
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

function ColumnsChecklist({
  value,
  columns,
  onChange,
}: {
  value: string[];
  columns: Column[];
  onChange: (v: string[]) => void;
}) {
  const missing = value.filter((v) => !columns.some((c) => c.name === v));
  const toggle = (name: string, on: boolean) => {
    if (on) {
      // Keep the input's column order.
      const set = new Set([...value, name]);
      onChange([...columns.map((c) => c.name).filter((n) => set.has(n)), ...missing.filter((m) => set.has(m))]);
    } else onChange(value.filter((v) => v !== name));
  };
  return (
    <div className="checklist">
      <div className="checklist-tools">
        <span className="muted small">
          {value.length} of {columns.length} selected
        </span>
        <button type="button" className="link-btn" onClick={() => onChange(columns.map((c) => c.name))}>
          All
        </button>
        <button type="button" className="link-btn" onClick={() => onChange([])}>
          None
        </button>
      </div>
      <div className="checklist-items">
        {missing.map((m) => (
          <label key={`missing-${m}`} className="checklist-item missing">
            <input type="checkbox" checked onChange={() => toggle(m, false)} />
            <span>{m}</span>
            <span className="col-type">not in input</span>
          </label>
        ))}
        {columns.map((c) => (
          <label key={c.name} className="checklist-item">
            <input
              type="checkbox"
              checked={value.includes(c.name)}
              onChange={(e) => toggle(c.name, e.target.checked)}
            />
            <span>{c.name}</span>
            <span className="col-type">{c.type}</span>
          </label>
        ))}
      </div>
    </div>
  );
}

function DatasetPicker({ id, value, onChange, invalid }: ControlProps) {
  const { list, error, reload } = useDatasets();
  const [uploading, setUploading] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const current = value === null || value === undefined ? "" : String(value);
  const selected = list?.find((d) => String(d.id) === current);

  const upload = async (file: File) => {
    setUploading(true);
    try {
      const d = await api.uploadDataset(file);
      resetDatasetCache();
      reload();
      onChange(typeof value === "number" || typeof d.id === "number" ? d.id : String(d.id));
      toast(`Uploaded ${d.name}.`, "success");
    } catch (err) {
      toast(`Upload failed: ${errorMessage(err)}`, "error", 6000);
    } finally {
      setUploading(false);
      if (fileRef.current) fileRef.current.value = "";
    }
  };

  return (
    <div className="dataset-picker">
      <div className="dataset-row">
        <select
          id={id}
          value={current}
          aria-invalid={invalid}
          onChange={(e) => {
            const d = list?.find((x) => String(x.id) === e.target.value);
            onChange(d ? d.id : undefined);
          }}
        >
          <option value="">{list ? (list.length ? "Choose a dataset…" : "No datasets yet") : "Loading…"}</option>
          {current && list && !selected && <option value={current}>Dataset {current} (missing)</option>}
          {list?.map((d) => (
            <option key={d.id} value={String(d.id)}>
              {d.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => fileRef.current?.click()}
          disabled={uploading}
          title="Upload a CSV or Parquet file"
        >
          <Upload size={14} /> {uploading ? "Uploading…" : "Upload"}
        </button>
        <input
          ref={fileRef}
          type="file"
          accept=".csv,.tsv,.parquet,.json,.xlsx,text/csv"
          hidden
          data-testid="dataset-upload"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void upload(f);
          }}
        />
      </div>
      {error && <p className="field-error">Could not load datasets: {error}</p>}
      {selected && (
        <p className="field-hint">
          {selected.row_count !== null && selected.row_count !== undefined
            ? `${formatNumber(selected.row_count)} rows`
            : ""}
          {selected.columns?.length ? ` · ${selected.columns.length} columns: ` : ""}
          {selected.columns
            ?.slice(0, 6)
            .map((c) => c.name)
            .join(", ")}
          {(selected.columns?.length ?? 0) > 6 ? "…" : ""}
        </p>
      )}
    </div>
  );
}

function JsonInput({ id, value, onChange, invalid }: ControlProps) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 2));
  const [err, setErr] = useState<string | null>(null);
  return (
    <>
      <textarea
        id={id}
        className="mono"
        rows={4}
        value={text}
        aria-invalid={invalid || !!err}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => {
          if (!text.trim()) {
            setErr(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(text));
            setErr(null);
          } catch {
            setErr("Not valid JSON.");
          }
        }}
      />
      {err && <p className="field-error">{err}</p>}
    </>
  );
}

/** Free input for an untyped value: keeps the text as typed, stores the parsed value. */
function AnyInput({ id, value, onChange, invalid }: ControlProps) {
  const [text, setText] = useState(formatAny(value));
  useEffect(() => {
    if (JSON.stringify(coerceAny(text)) !== JSON.stringify(value ?? null)) setText(formatAny(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      id={id}
      value={text}
      aria-invalid={invalid}
      placeholder="Text, a number, true/false, or a list like [1, 2]"
      onChange={(e) => {
        setText(e.target.value);
        onChange(coerceAny(e.target.value));
      }}
    />
  );
}

function singular(label: string): string {
  const l = label.toLowerCase();
  if (l.endsWith("ies")) return l.slice(0, -3) + "y";
  if (l.endsWith("s") && !l.endsWith("ss")) return l.slice(0, -1);
  return l;
}

// --- one field -----------------------------------------------------------------------------------

interface FieldProps {
  field: FormField;
  path: Path;
  value: unknown;
  ctx: FormContext;
}

/** The input a column field picks from, and what is known of its columns. */
function columnSource(field: FormField, ctx: FormContext) {
  const port = resolveColumnPort(field.columnOf, ctx.op.inputs);
  return { port, state: port ? ctx.columns[port] : undefined };
}

function fieldHint(field: FormField, ctx: FormContext): string | null {
  switch (field.kind) {
    case "integer":
    case "number":
      return boundsHint(field);
    case "column":
    case "columns": {
      const { port, state } = columnSource(field, ctx);
      return columnHint(state, port);
    }
    default:
      return null;
  }
}

/** A field's input; FieldShell puts the label, help, hint and error around it. */
function fieldControl(field: FormField, path: Path, ctx: FormContext, props: ControlProps): ReactNode {
  const { id, value, onChange: set, invalid } = props;
  switch (field.kind) {
    case "boolean":
      return (
        <label className="switch">
          <input
            id={id}
            type="checkbox"
            checked={value === undefined ? !!field.default : !!value}
            onChange={(e) => set(e.target.checked)}
          />
          <span className="switch-track" aria-hidden="true" />
        </label>
      );
    case "integer":
    case "number":
      return <NumberInput field={field} {...props} />;
    case "enum":
      return (
        <select
          id={id}
          value={value === undefined || value === null ? "" : JSON.stringify(value)}
          aria-invalid={invalid}
          onChange={(e) => set(e.target.value === "" ? emptyValue(field) : JSON.parse(e.target.value))}
        >
          {(!field.hasDefault || field.nullable || value === undefined) && (
            <option value="">{field.nullable ? "(none)" : "Choose…"}</option>
          )}
          {field.options?.map((o) => (
            <option key={JSON.stringify(o.value)} value={JSON.stringify(o.value)}>
              {o.label}
            </option>
          ))}
        </select>
      );
    case "enum-list": {
      const arr = Array.isArray(value) ? value : [];
      return (
        <div className="chips" id={id} role="group">
          {field.options?.map((o) => {
            const on = arr.some((v) => v === o.value);
            return (
              <button
                type="button"
                key={String(o.value)}
                className={`chip${on ? " chip-on" : ""}`}
                aria-pressed={on}
                onClick={() => set(on ? arr.filter((v) => v !== o.value) : [...arr, o.value])}
              >
                {o.label}
              </button>
            );
          })}
        </div>
      );
    }
    case "column": {
      const { state } = columnSource(field, ctx);
      return state?.state === "known" ? (
        <ColumnSelect
          id={id}
          value={value}
          columns={state.columns}
          invalid={invalid}
          allowEmpty={field.nullable || !field.required}
          onChange={(v) => set(v === undefined ? emptyValue(field) : v)}
        />
      ) : (
        <input
          id={id}
          value={typeof value === "string" ? value : ""}
          placeholder="Column name"
          aria-invalid={invalid}
          onChange={(e) => set(e.target.value || emptyValue(field))}
        />
      );
    }
    case "columns": {
      const { state } = columnSource(field, ctx);
      const arr = (Array.isArray(value) ? value : []).map(String);
      return state?.state === "known" && state.columns.length > 0 ? (
        <ColumnsChecklist value={arr} columns={state.columns} onChange={set} />
      ) : (
        <TagInput id={id} value={arr} onChange={set} placeholder="Type a column name, then Enter" />
      );
    }
    case "dataset":
      return <DatasetPicker {...props} />;
    case "connection":
      return (
        <ResourceSelect
          {...props}
          resource="connections"
          kinds={field.connectionKinds}
          emptyHint={`No ${(field.connectionKinds ?? []).join(" / ")} connection in this workspace yet.`}
        />
      );
    case "registered-model":
      return <ResourceSelect {...props} resource="models" emptyHint="No registered model in this workspace yet." />;
    case "list":
      return (
        <TagInput
          id={id}
          value={Array.isArray(value) ? value : []}
          onChange={set}
          itemType={field.itemType}
          placeholder="Type a value, then Enter"
        />
      );
    case "scalar":
      return (
        <input
          id={id}
          value={value === undefined || value === null ? "" : String(value)}
          aria-invalid={invalid}
          onChange={(e) =>
            set(e.target.value === "" ? emptyValue(field) : coerceScalar(e.target.value, field.scalarTypes ?? ["string"]))
          }
        />
      );
    case "any":
      return <AnyInput {...props} />;
    case "text":
      return field.multiline ? (
        <textarea
          id={id}
          rows={4}
          className={/sql|query|expression/i.test(field.key) ? "mono" : undefined}
          value={typeof value === "string" ? value : ""}
          aria-invalid={invalid}
          onChange={(e) => set(e.target.value === "" ? emptyValue(field) : e.target.value)}
        />
      ) : (
        <input
          id={id}
          type={field.format === "password" ? "password" : "text"}
          value={typeof value === "string" ? value : ""}
          placeholder={field.hasDefault && typeof field.default === "string" ? field.default : ""}
          aria-invalid={invalid}
          onChange={(e) => set(e.target.value === "" ? emptyValue(field) : e.target.value)}
        />
      );
    case "objects": {
      const items = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
      const noun = singular(field.label);
      return (
        <div className="object-list" id={id}>
          {items.length === 0 && <p className="muted small">None yet.</p>}
          {items.map((item, i) => (
            <div className="object-item" key={i} data-index={i}>
              <div className="object-item-head">
                <span className="object-item-title">
                  {noun.charAt(0).toUpperCase() + noun.slice(1)} {i + 1}
                </span>
                <button
                  type="button"
                  className="icon-btn icon-btn-danger"
                  aria-label={`Remove ${noun} ${i + 1}`}
                  onClick={() => set(items.filter((_, j) => j !== i))}
                >
                  <Trash2 size={14} />
                </button>
              </div>
              <div className="object-item-fields">
                {(field.fields ?? []).map((f) => (
                  <FieldInput key={f.key} field={f} path={[...path, i, f.key]} value={getIn(item, [f.key])} ctx={ctx} />
                ))}
              </div>
            </div>
          ))}
          <button type="button" className="btn btn-sm btn-dashed" onClick={() => set([...items, newItem(field)])}>
            <Plus size={14} /> Add {noun}
          </button>
        </div>
      );
    }
    default:
      return <JsonInput {...props} />;
  }
}

function FieldInput({ field, path, value, ctx }: FieldProps) {
  const id = useId();
  const error = ctx.errors[pathKey(path)];
  if (field.kind === "object") {
    return (
      <fieldset className="object-fieldset">
        <legend>{field.label}</legend>
        {field.description && <p className="field-help">{field.description}</p>}
        {(field.fields ?? []).map((f) => (
          <FieldInput key={f.key} field={f} path={[...path, f.key]} value={getIn(value, [f.key])} ctx={ctx} />
        ))}
        {error && <p className="field-error">{error}</p>}
      </fieldset>
    );
  }
  const props: ControlProps = { id, value, onChange: (v) => ctx.onChange(path, v), invalid: !!error };
  return (
    <FieldShell field={field} id={id} error={error} hint={fieldHint(field, ctx)} inline={field.kind === "boolean"}>
      {fieldControl(field, path, ctx, props)}
    </FieldShell>
  );
}

export const ParamsForm = memo(function ParamsForm({
  fields,
  params,
  ctx,
}: {
  fields: FormField[];
  params: Record<string, unknown>;
  ctx: FormContext;
}) {
  if (!fields.length) return <p className="muted small">This operator has no settings.</p>;
  return (
    <div className="params-form">
      {fields.map((f) => (
        <FieldInput key={f.key} field={f} path={[f.key]} value={params[f.key]} ctx={ctx} />
      ))}
    </div>
  );
});

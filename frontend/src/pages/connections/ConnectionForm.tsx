// The create/edit form of a connection, in a dialog: one form per kind, generated from the
// kind's JSON schema by the same field widgets as a node's settings. Secrets are write-only:
// a stored one shows "set" and a Replace button. Used by the connections screen and by a
// node's connection picker ("New connection…").
import { CheckCircle2, KeyRound, PlugZap, XCircle } from "lucide-react";
import { useMemo, useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../../api/client";
import type { Connection, OperatorSpec } from "../../api/types";
import { FieldInput } from "../../editor/params/ParamsForm";
import type { FormContext } from "../../editor/params/types";
import { defaultsFor, deriveFields, pathKey, setIn, type FormField, type Path } from "../../editor/schemaForm";
import { Modal } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import { useConnectionKinds, useSaveConnection, useTestFields, type ConnectionKind, type TestResult } from "./api";
import { fieldsToSend, kindLabel } from "./kinds";
import "./connections.css";

// The field widgets take the node's operator for column pickers; a connection has no inputs.
const NO_OPERATOR = { name: "connection", inputs: [], outputs: [] } as unknown as OperatorSpec;

export function ConnectionDialog({
  connection,
  kinds,
  onSaved,
  onClose,
}: {
  /** The connection to edit; none: a new one. */
  connection?: Connection;
  /** The kinds a new connection may be (a node's picker); all when not given. */
  kinds?: readonly string[];
  onSaved: (c: Connection) => void;
  onClose: () => void;
}) {
  const kindsQ = useConnectionKinds();
  const offered = useMemo(
    () => (kindsQ.data ?? []).filter((k) => (connection ? k.kind === connection.kind : !kinds?.length || kinds.includes(k.kind))),
    [kindsQ.data, connection, kinds],
  );
  const title = connection ? `Edit ${connection.name}` : "New connection";
  return (
    <Modal title={title} onClose={onClose} width={560}>
      {kindsQ.error ? (
        <p className="field-error" role="alert">
          Could not load the kinds of connection: {errorMessage(kindsQ.error)}
        </p>
      ) : !kindsQ.data ? (
        <p className="muted">Loading…</p>
      ) : (
        <ConnectionForm connection={connection} kinds={offered} onSaved={onSaved} onClose={onClose} />
      )}
    </Modal>
  );
}

function ConnectionForm({
  connection,
  kinds,
  onSaved,
  onClose,
}: {
  connection?: Connection;
  kinds: ConnectionKind[];
  onSaved: (c: Connection) => void;
  onClose: () => void;
}) {
  const [kindName, setKindName] = useState(connection?.kind ?? kinds[0]?.kind ?? "");
  const kind = kinds.find((k) => k.kind === kindName);
  const fields = useMemo(() => (kind ? deriveFields(kind.schema) : []), [kind]);
  const [name, setName] = useState(connection?.name ?? "");
  const [values, setValues] = useState<Record<string, unknown>>(() => startValues(connection, fields));
  const [replacing, setReplacing] = useState<Set<string>>(new Set());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [tested, setTested] = useState<TestResult | null>(null);
  const save = useSaveConnection();
  const test = useTestFields();

  const secretFields = kind?.secret_fields ?? [];
  const secretsSet = connection?.secrets_set ?? [];
  const changeKind = (k: string) => {
    const next = kinds.find((x) => x.kind === k);
    setKindName(k);
    setValues(next ? defaultsFor(deriveFields(next.schema)) : {});
    setErrors({});
    setTested(null);
  };
  const ctx: FormContext = {
    op: NO_OPERATOR,
    columns: {},
    errors,
    onChange: (path: Path, v: unknown) => {
      setValues((cur) => setIn(cur, path, v));
      setTested(null);
    },
  };
  const body = () => fieldsToSend(values, secretFields, replacing, secretsSet);

  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.extra.fields && Object.keys(err.extra.fields).length) {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(err.extra.fields)) out[k.replace(/^fields\./, "")] = v.join(" ");
      setErrors(out);
      setFormError(out.name || fields.some((f) => out[f.key]) ? null : err.message);
    } else {
      setErrors({});
      setFormError(errorMessage(err));
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setErrors({ name: "Give the connection a name." });
      return;
    }
    setFormError(null);
    try {
      const saved = await save.mutateAsync({ id: connection?.id, name: name.trim(), kind: kindName, fields: body() });
      if ("message" in saved && typeof saved.message === "string" && saved.message) toast(saved.message, "error");
      else toast(connection ? "Connection saved." : `Connection “${saved.name}” created.`, "success");
      onSaved(saved);
    } catch (err) {
      fail(err);
    }
  };

  const runTest = async () => {
    setTested(null);
    setFormError(null);
    try {
      setErrors({});
      setTested(await test.mutateAsync({ kind: kindName, fields: body(), connection: connection?.id }));
    } catch (err) {
      fail(err);
    }
  };

  return (
    <form className="form-stack connection-form" onSubmit={submit} aria-label="Connection">
      <div className="form-row">
        <label className="field">
          <span className="field-label">
            Name<span className="field-required">*</span>
          </span>
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={!!errors.name}
            placeholder="Warehouse"
            autoFocus
          />
          {errors.name && <span className="field-error">{errors.name}</span>}
        </label>
        <label className="field">
          <span className="field-label">Kind</span>
          <select value={kindName} disabled={!!connection || kinds.length < 2} onChange={(e) => changeKind(e.target.value)}>
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {kindLabel(k.kind)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="params-form">
        {fields.map((f) =>
          secretFields.includes(f.key) && secretsSet.includes(f.key) && !replacing.has(f.key) ? (
            <StoredSecret
              key={f.key}
              field={f}
              error={errors[f.key]}
              onReplace={() => setReplacing((s) => new Set(s).add(f.key))}
            />
          ) : (
            <FieldInput key={f.key} field={f} path={[f.key]} value={values[f.key]} ctx={ctx} />
          ),
        )}
      </div>
      {tested && (
        <p className={`connection-test ${tested.ok ? "is-ok" : "is-failed"}`} role="status" data-testid="connection-test-result">
          {tested.ok ? <CheckCircle2 size={15} aria-hidden="true" /> : <XCircle size={15} aria-hidden="true" />}
          {tested.message}
        </p>
      )}
      {formError && (
        <p className="field-error" role="alert">
          {formError}
        </p>
      )}
      <div className="connection-form-footer">
        <button className="btn" type="button" onClick={runTest} disabled={test.isPending || !kind}>
          <PlugZap size={14} /> {test.isPending ? "Testing…" : "Test"}
        </button>
        <span className="spacer" />
        <button className="btn" type="button" onClick={onClose}>
          Cancel
        </button>
        <button className="btn btn-primary" type="submit" disabled={save.isPending || !kind}>
          {save.isPending ? "Saving…" : connection ? "Save" : "Create connection"}
        </button>
      </div>
    </form>
  );
}

/** A secret the server holds: never shown, only "set", and replaced by typing a new one. */
function StoredSecret({ field, error, onReplace }: { field: FormField; error?: string; onReplace: () => void }) {
  return (
    <div className={`field${error ? " field-invalid" : ""}`} data-field={field.key}>
      <span className="field-label">{field.label}</span>
      <div className="secret-set">
        <span className="badge status-succeeded" data-testid={`secret-set-${pathKey([field.key])}`}>
          <KeyRound size={12} aria-hidden="true" /> set
        </span>
        <button className="btn btn-sm" type="button" onClick={onReplace} aria-label={`Replace ${field.label}`}>
          Replace
        </button>
      </div>
      {field.description && <p className="field-help">{field.description}</p>}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function startValues(connection: Connection | undefined, fields: FormField[]): Record<string, unknown> {
  if (!connection) return defaultsFor(fields);
  const config = connection.config as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // The placeholder of a stored secret is never put into an input.
  for (const [k, v] of Object.entries(config)) if (!connection.secret_fields.includes(k)) out[k] = v;
  return out;
}

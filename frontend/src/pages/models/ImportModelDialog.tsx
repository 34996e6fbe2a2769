// Import a scikit-learn model trained elsewhere (a .skops file) as a new model version.
import { Upload } from "lucide-react";
import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { useImportModel } from "../../api/queries";
import { Modal } from "../../ui/Modal";
import type { ModelVersion } from "../../api/types";
import { parseJsonObject } from "./models";

/** The server's message for each untrusted type in a model file (ERR_UNTRUSTED_TYPE). */
const UNTRUSTED_TYPE = "not a trusted type: ";

type Errors = Partial<Record<"file" | "name" | "params" | "metrics" | "form", string>> & { untrusted?: string[] };

export function ImportModelDialog({
  initialName = "",
  onClose,
  onImported,
}: {
  initialName?: string;
  onClose: () => void;
  onImported: (v: ModelVersion & { model: string }) => void;
}) {
  const importModel = useImportModel();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState(initialName);
  const [target, setTarget] = useState("");
  const [codeRef, setCodeRef] = useState("");
  const [dataDesc, setDataDesc] = useState("");
  const [params, setParams] = useState("");
  const [metrics, setMetrics] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const next: Errors = {};
    if (!file) next.file = "Choose a .skops file.";
    else if (!/\.skops$/i.test(file.name)) next.file = "The file must be a .skops file (skops.io.dump of a fitted estimator).";
    if (!name.trim()) next.name = "Give the model a name.";
    const p = parseJsonObject(params);
    const m = parseJsonObject(metrics);
    if ("error" in p) next.params = p.error;
    if ("error" in m) next.metrics = m.error;
    if (Object.keys(next).length) {
      setErrors(next);
      return;
    }
    const form = new FormData();
    form.append("file", file!);
    form.append("name", name.trim());
    form.append("target", target.trim());
    form.append("code_reference", codeRef.trim());
    form.append("data_description", dataDesc.trim());
    form.append("params", JSON.stringify("value" in p ? p.value : {}));
    form.append("metrics", JSON.stringify("value" in m ? m.value : {}));
    setBusy(true);
    setErrors({});
    try {
      onImported(await importModel.mutateAsync(form));
    } catch (err) {
      const out: Errors = {};
      if (err instanceof ApiError) {
        const fields = (err.extra.fields ?? {}) as Record<string, string[]>;
        for (const [k, v] of Object.entries(fields)) (out as Record<string, string>)[k] = v.join(" ");
        // An untrusted model file: one message per type, "not a trusted type: <type>".
        const untrusted = (fields.file ?? []).filter((m) => m.startsWith(UNTRUSTED_TYPE));
        if (untrusted.length > 0) {
          out.untrusted = untrusted.map((m) => m.slice(UNTRUSTED_TYPE.length));
          out.file = err.message;
        }
        if (!Object.keys(fields).length) out.form = err.message;
      } else {
        out.form = errorMessage(err);
      }
      setErrors(out);
      setBusy(false);
    }
  };

  return (
    <Modal
      title="Import a model"
      onClose={onClose}
      width={560}
      footer={
        <>
          <button className="btn" type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="btn btn-primary" type="submit" form="import-model-form" disabled={busy}>
            <Upload size={14} /> {busy ? "Importing…" : "Import"}
          </button>
        </>
      }
    >
      <form id="import-model-form" className="form-stack" onSubmit={submit}>
        <p className="muted small">
          A scikit-learn estimator fitted on a pandas DataFrame and saved with{" "}
          <code>skops.io.dump</code>. It becomes a new version of the model with this name, ready
          for predict nodes and serving.
        </p>
        <label className="field">
          <span className="field-label">
            Model file <span className="field-required">*</span>
          </span>
          <input
            type="file"
            accept=".skops"
            aria-label="Model file"
            aria-invalid={!!errors.file}
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
          {errors.file && <span className="field-error">{errors.file}</span>}
          {errors.untrusted && errors.untrusted.length > 0 && (
            <div className="untrusted" role="alert">
              <p>For safety only known scikit-learn types are loaded. This file also contains:</p>
              <ul>
                {errors.untrusted.map((t) => (
                  <li key={t}>
                    <code>{t}</code>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </label>
        <div className="form-row">
          <label className="field">
            <span className="field-label">
              Name <span className="field-required">*</span>
            </span>
            <input value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} placeholder="churn-model" />
            {errors.name && <span className="field-error">{errors.name}</span>}
          </label>
          <label className="field">
            <span className="field-label">Target column</span>
            <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="churned" />
          </label>
        </div>
        <label className="field">
          <span className="field-label">Code reference</span>
          <input value={codeRef} onChange={(e) => setCodeRef(e.target.value)} placeholder="git@…/train.py @ 3f2a1c" />
        </label>
        <label className="field">
          <span className="field-label">Training data</span>
          <input value={dataDesc} onChange={(e) => setDataDesc(e.target.value)} placeholder="customers 2026-01 snapshot, 12,000 rows" />
        </label>
        <div className="form-row">
          <label className="field">
            <span className="field-label">Params (JSON)</span>
            <textarea className="mono-input" rows={3} value={params} onChange={(e) => setParams(e.target.value)} placeholder='{"C": 1.0}' aria-invalid={!!errors.params} />
            {errors.params && <span className="field-error">{errors.params}</span>}
          </label>
          <label className="field">
            <span className="field-label">Metrics (JSON)</span>
            <textarea className="mono-input" rows={3} value={metrics} onChange={(e) => setMetrics(e.target.value)} placeholder='{"accuracy": 0.91}' aria-invalid={!!errors.metrics} />
            {errors.metrics && <span className="field-error">{errors.metrics}</span>}
          </label>
        </div>
        {errors.form && (
          <p className="field-error" role="alert">
            {errors.form}
          </p>
        )}
      </form>
    </Modal>
  );
}

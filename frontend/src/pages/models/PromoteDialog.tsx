// Point an alias (production, staging, …) at one version of a model.
import { Rocket } from "lucide-react";
import { useState, type FormEvent } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import type { ModelDetail, ModelVersion } from "../../api/types";
import { Modal } from "../../ui/Modal";
import { ALIAS_RE } from "./models";

export function PromoteDialog({
  model,
  version,
  onClose,
  onDone,
}: {
  model: ModelDetail;
  version: ModelVersion;
  onClose: () => void;
  onDone: (m: ModelDetail, alias: string) => void;
}) {
  const [alias, setAlias] = useState("production");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const current = model.aliases[alias];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const a = alias.trim();
    if (!ALIAS_RE.test(a)) {
      setError("Use lower-case letters, digits, “-” and “_”.");
      return;
    }
    setBusy(true);
    try {
      onDone(await api.setAlias(model.id, a, version.version), a);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Promote v${version.version}`}
      onClose={onClose}
      footer={
        <>
          <button className="btn" type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="btn btn-primary" type="submit" form="promote-form" disabled={busy}>
            <Rocket size={14} /> Promote
          </button>
        </>
      }
    >
      <form id="promote-form" className="form-stack" onSubmit={submit}>
        <label className="field">
          <span className="field-label">Alias</span>
          <input value={alias} onChange={(e) => setAlias(e.target.value)} list="alias-suggestions" aria-invalid={!!error} autoFocus />
          <datalist id="alias-suggestions">
            {["production", "staging", "champion", "challenger", ...Object.keys(model.aliases)].map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <span className="field-help">
            {current === version.version
              ? `“${alias}” already points at v${version.version}.`
              : current
                ? `Moves “${alias}” from v${current} to v${version.version}.`
                : `Creates “${alias}” pointing at v${version.version}.`}
            {alias === "production" && " Serving and predict nodes pick the new version up on their next request."}
          </span>
          {error && <span className="field-error">{error}</span>}
        </label>
      </form>
    </Modal>
  );
}

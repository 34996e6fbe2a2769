// The caller's personal API tokens: create with a name (the key is shown once), list, revoke.
import { useQuery } from "@tanstack/react-query";
import { KeyRound, Plus, Trash2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/http";
import { formatDateTime, timeAgo } from "../../lib/format";
import { ConfirmDialog } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import { Card, CopyButton, PageError } from "../common";
import { settingsApi, tokensQuery, useTokenMutation, type ApiToken, type ApiTokenCreated } from "./api";

export function TokensTab() {
  const q = useQuery(tokensQuery());
  const [name, setName] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const create = useTokenMutation(settingsApi.createToken);
  const revoke = useTokenMutation(settingsApi.revokeToken);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFieldError(null);
    create.mutate(name, {
      onSuccess: (token) => {
        setCreated(token);
        setName("");
      },
      // The server's message names the field ("name: ...").
      onError: (err) => setFieldError(errorMessage(err)),
    });
  };

  return (
    <>
      <Card
        title="New API token"
        subtitle={
          <>
            For scripts and other programs: send <code>Authorization: Token &lt;key&gt;</code>. A token acts as you, in
            every workspace you belong to.
          </>
        }
      >
        <form className="settings-invite" onSubmit={submit}>
          <label className="field settings-grow">
            <span className="field-label">Name</span>
            <input
              value={name}
              maxLength={100}
              placeholder="e.g. nightly export script"
              aria-invalid={fieldError ? true : undefined}
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <button className="btn btn-primary" type="submit" disabled={create.isPending}>
            <Plus size={14} /> Create token
          </button>
        </form>
        {fieldError && (
          <p className="field-error" role="alert">
            {fieldError}
          </p>
        )}
        {created && (
          <div className="banner banner-success settings-link" role="status">
            <span>
              Token <strong>{created.name}</strong> created. Copy its key now, it is not shown again:{" "}
              <code data-testid="new-token-key">{created.key}</code>
            </span>
            <CopyButton text={created.key} label="Copy key" />
          </div>
        )}
      </Card>
      {q.error && <PageError message={`Could not load your tokens: ${errorMessage(q.error)}`} onRetry={() => void q.refetch()} />}
      <Card title="Your API tokens" flush>
        {q.data && q.data.length === 0 ? (
          <p className="muted settings-empty">
            <KeyRound size={14} /> No tokens yet.
          </p>
        ) : (
          <table className="grid-table settings-table" aria-label="API tokens">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(q.data ?? []).map((t) => (
                <tr key={t.id} data-token={t.name} className={t.revoked_at ? "settings-revoked" : ""}>
                  <td>
                    <strong>{t.name}</strong>
                  </td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td className="muted" title={formatDateTime(t.created_at)}>
                    {timeAgo(t.created_at)}
                  </td>
                  <td className="muted" title={formatDateTime(t.last_used_at)}>
                    {t.last_used_at ? timeAgo(t.last_used_at) : "never"}
                  </td>
                  <td>{t.revoked_at ? <span className="badge status-pending">revoked {timeAgo(t.revoked_at)}</span> : <span className="badge status-succeeded">active</span>}</td>
                  <td>
                    <div className="settings-actions">
                      {!t.revoked_at && (
                        <button className="btn btn-sm btn-danger-ghost" aria-label={`Revoke ${t.name}`} onClick={() => setRevoking(t)}>
                          <Trash2 size={13} /> Revoke
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {revoking && (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          message="Programs using this key are refused from now on. This cannot be undone."
          confirmLabel="Revoke token"
          danger
          busy={revoke.isPending}
          onConfirm={() =>
            revoke.mutate(revoking.id, {
              onSuccess: () => toast(`${revoking.name} was revoked.`, "success"),
              onError: (err) => toast(errorMessage(err), "error", 8000),
              onSettled: () => setRevoking(null),
            })
          }
          onCancel={() => setRevoking(null)}
        />
      )}
    </>
  );
}

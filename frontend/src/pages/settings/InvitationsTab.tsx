// Invitations: an owner invites by e-mail (the link is mailed, and shown here once to copy);
// pending ones are listed and may be revoked, which stops their link working.
import { useQuery } from "@tanstack/react-query";
import { Send, X } from "lucide-react";
import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../../api/http";
import { formatDateTime, timeAgo } from "../../lib/format";
import { toast } from "../../ui/toast";
import { Card, CopyButton, PageError } from "../common";
import { OWNER_ONLY, invitationsQuery, settingsApi, useWorkspaceMutation, type InvitationSent } from "./api";

export function InvitationsTab({ workspaceId, isOwner }: { workspaceId: string; isOwner: boolean }) {
  const q = useQuery(invitationsQuery(workspaceId));
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("editor");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [sent, setSent] = useState<InvitationSent | null>(null);
  const invite = useWorkspaceMutation(workspaceId, (v: { email: string; role: string }) =>
    settingsApi.invite(workspaceId, v.email, v.role),
  );
  const revoke = useWorkspaceMutation(workspaceId, (id: number) => settingsApi.revokeInvitation(workspaceId, id));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFieldError(null);
    invite.mutate(
      { email: email.trim(), role },
      {
        onSuccess: (result) => {
          setSent(result);
          setEmail("");
        },
        onError: (err) => {
          const fields = err instanceof ApiError ? err.extra.fields : undefined;
          setFieldError(fields?.email?.join(" ") ?? fields?.role?.join(" ") ?? errorMessage(err));
        },
      },
    );
  };

  return (
    <>
      <Card
        title="Invite someone"
        subtitle={isOwner ? "They get an e-mail with a link; it works for 7 days, for that e-mail address only." : OWNER_ONLY.replace("do this", "invite people")}
      >
        <form className="settings-invite" onSubmit={submit}>
          <label className="field">
            <span className="field-label">E-mail</span>
            <input
              type="email"
              required
              value={email}
              disabled={!isOwner}
              placeholder="name@example.com"
              aria-invalid={fieldError ? true : undefined}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label className="field">
            <span className="field-label">Role</span>
            <select value={role} disabled={!isOwner} onChange={(e) => setRole(e.target.value)}>
              <option value="viewer">viewer</option>
              <option value="editor">editor</option>
            </select>
          </label>
          <button className="btn btn-primary" type="submit" disabled={!isOwner || invite.isPending} title={isOwner ? undefined : OWNER_ONLY}>
            <Send size={14} /> Send invitation
          </button>
        </form>
        {fieldError && (
          <p className="field-error" role="alert">
            {fieldError}
          </p>
        )}
        {sent && (
          <div className="banner banner-success settings-link" role="status">
            <span>
              Invitation sent to <strong>{sent.email}</strong>. The link, shown this once: <code>{sent.link}</code>
            </span>
            <CopyButton text={sent.link} label="Copy link" />
          </div>
        )}
      </Card>
      {q.error && <PageError message={`Could not load invitations: ${errorMessage(q.error)}`} onRetry={() => void q.refetch()} />}
      <Card title="Pending invitations" subtitle="Not yet accepted, revoked or expired." flush>
        {q.data && q.data.length === 0 ? (
          <p className="muted settings-empty">No pending invitations.</p>
        ) : (
          <table className="grid-table settings-table" aria-label="Pending invitations">
            <thead>
              <tr>
                <th>E-mail</th>
                <th>Role</th>
                <th>Invited by</th>
                <th>Sent</th>
                <th>Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(q.data ?? []).map((inv) => (
                <tr key={inv.id} data-invitation={inv.email}>
                  <td>
                    <strong>{inv.email}</strong>
                  </td>
                  <td>{inv.role}</td>
                  <td className="muted">{inv.invited_by ?? "—"}</td>
                  <td className="muted" title={formatDateTime(inv.at)}>
                    {timeAgo(inv.at)}
                  </td>
                  <td className="muted">{formatDateTime(inv.expires_at)}</td>
                  <td>
                    <div className="settings-actions">
                      <button
                        className="btn btn-sm btn-danger-ghost"
                        disabled={!isOwner || revoke.isPending}
                        title={isOwner ? "The link stops working" : OWNER_ONLY}
                        aria-label={`Revoke the invitation of ${inv.email}`}
                        onClick={() =>
                          revoke.mutate(inv.id, {
                            onSuccess: () => toast(`The invitation of ${inv.email} was revoked.`, "success"),
                            onError: (err) => toast(errorMessage(err), "error", 8000),
                          })
                        }
                      >
                        <X size={13} /> Revoke
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

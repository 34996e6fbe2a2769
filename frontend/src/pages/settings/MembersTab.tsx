// Members of the workspace: roles, removal and ownership transfer (owners only).
import { useQuery } from "@tanstack/react-query";
import { Crown, UserMinus } from "lucide-react";
import { useState } from "react";
import { errorMessage } from "../../api/http";
import { useSession } from "../../lib/session";
import { ConfirmDialog } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import { Card, PageError } from "../common";
import { OWNER_ONLY, membersQuery, settingsApi, useWorkspaceMutation, type Member } from "./api";

type Pending = { kind: "remove" | "transfer"; member: Member } | null;

export function MembersTab({ workspaceId, isOwner }: { workspaceId: string; isOwner: boolean }) {
  const me = useSession((s) => s.username);
  const q = useQuery(membersQuery(workspaceId));
  const [pending, setPending] = useState<Pending>(null);
  const setRole = useWorkspaceMutation(workspaceId, (v: { id: number; role: string }) =>
    settingsApi.setRole(workspaceId, v.id, v.role),
  );
  const remove = useWorkspaceMutation(workspaceId, (id: number) => settingsApi.remove(workspaceId, id));
  const transfer = useWorkspaceMutation(workspaceId, (id: number) => settingsApi.transfer(workspaceId, id));

  const onRole = (m: Member, role: string) =>
    setRole.mutate(
      { id: m.user_id, role },
      {
        onSuccess: () => toast(`${m.username} is now ${role}.`, "success"),
        onError: (e) => toast(errorMessage(e), "error", 8000),
      },
    );
  const confirm = () => {
    if (!pending) return;
    const { kind, member } = pending;
    const mutation = kind === "remove" ? remove : transfer;
    mutation.mutate(member.user_id, {
      onSuccess: () => {
        toast(kind === "remove" ? `${member.username} was removed.` : `${member.username} is now the owner; you are an editor.`, "success");
        setPending(null);
      },
      onError: (e) => {
        toast(errorMessage(e), "error", 8000);
        setPending(null);
      },
    });
  };

  return (
    <>
      {q.error && <PageError message={`Could not load members: ${errorMessage(q.error)}`} onRetry={() => void q.refetch()} />}
      <Card
        title="Members"
        subtitle={isOwner ? "Viewers read, editors build and run, owners also manage members." : OWNER_ONLY.replace("do this", "change roles or remove members")}
        flush
      >
        <table className="grid-table settings-table" aria-label="Members">
          <thead>
            <tr>
              <th>User</th>
              <th>E-mail</th>
              <th style={{ width: 150 }}>Role</th>
              <th style={{ width: 250 }} />
            </tr>
          </thead>
          <tbody>
            {(q.data ?? []).map((m) => {
              const self = m.username === me;
              return (
                <tr key={m.user_id} data-member={m.username}>
                  <td>
                    <strong>{m.username}</strong>
                    {self && <span className="muted small"> (you)</span>}
                  </td>
                  <td className="muted">{m.email || "—"}</td>
                  <td>
                    {isOwner ? (
                      <select
                        aria-label={`Role of ${m.username}`}
                        value={m.role}
                        disabled={setRole.isPending}
                        onChange={(e) => onRole(m, e.target.value)}
                      >
                        <option value="viewer">viewer</option>
                        <option value="editor">editor</option>
                        <option value="owner">owner</option>
                      </select>
                    ) : (
                      <span className={`badge role-badge role-${m.role}`}>{m.role}</span>
                    )}
                  </td>
                  <td>
                    <div className="settings-actions">
                      {!self && m.role !== "owner" && (
                        <button
                          className="btn btn-sm"
                          disabled={!isOwner}
                          title={isOwner ? "Make this member the owner; you stay as an editor" : OWNER_ONLY}
                          onClick={() => setPending({ kind: "transfer", member: m })}
                        >
                          <Crown size={13} /> Transfer ownership
                        </button>
                      )}
                      {!self && (
                        <button
                          className="btn btn-sm btn-danger-ghost"
                          disabled={!isOwner}
                          title={isOwner ? `Remove ${m.username}` : OWNER_ONLY}
                          aria-label={`Remove ${m.username}`}
                          onClick={() => setPending({ kind: "remove", member: m })}
                        >
                          <UserMinus size={13} /> Remove
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Card>
      {pending && (
        <ConfirmDialog
          title={pending.kind === "remove" ? `Remove ${pending.member.username}?` : `Transfer ownership to ${pending.member.username}?`}
          message={
            pending.kind === "remove"
              ? `${pending.member.username} loses access to this workspace's pipelines, runs, models and connections.`
              : `${pending.member.username} becomes the owner of this workspace. You stay as an editor and can no longer manage members.`
          }
          confirmLabel={pending.kind === "remove" ? "Remove" : "Transfer ownership"}
          danger
          busy={remove.isPending || transfer.isPending}
          onConfirm={confirm}
          onCancel={() => setPending(null)}
        />
      )}
    </>
  );
}
